print("name: " .. params.name)
print("count + 1 = " .. (params.count + 1))
print("first tag: " .. params.tags[1] .. ", tags: " .. #params.tags)
print("nested: " .. params.opts.mode)
print("missing is nil: " .. tostring(params.missing == nil))
return {name = params.name, double = params.count * 2, tags = params.tags, opts = params.opts}
