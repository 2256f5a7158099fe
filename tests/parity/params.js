console.log("name: " + params.name);
console.log("count + 1 = " + (params.count + 1));
console.log("first tag: " + params.tags[0] + ", tags: " + params.tags.length);
console.log("nested: " + params.opts.mode);
console.log("missing is nil: " + String(params.missing === undefined));
return {name: params.name, double: params.count * 2, tags: params.tags, opts: params.opts};
