local schema = {type = "object", required = {"name", "tags", "count"}, properties = {
  name = {type = "string"}, count = {type = "integer"}, tags = {type = "array", items = {type = "string"}}}}
local agent = llm.agent({output_schema = schema, tools = {"calculator"}})
local v = agent:run("Describe it")
print("name: " .. v.name .. ", count: " .. v.count .. ", tags: " .. #v.tags)
local list = llm.structured({prompt = "List", schema = {type = "array", items = {type = "integer"}}})
print("list type ok: " .. tostring(type(list) == "table"))
local ok, err = pcall(llm.structured, {prompt = "x", schema = {type = "object", properties = {n = {type = "string", pattern = "^[0-9]+$"}}, required = {"n"}}})
print("invalid: " .. err.kind .. ": " .. err.message)
local ok2, err2 = pcall(llm.agent, {output_schema = {type = 7}})
print("bad schema: " .. err2.kind)
return v
