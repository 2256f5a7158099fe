local function try(f, ...)
  local ok, e = pcall(f, ...)
  if ok then return "ok" end
  return e.kind .. ": " .. e.message
end
print(try(llm.complete, {model = "test"}))
print(try(llm.complete, {model = "test", prompt = "x", temperature = 5}))
print(try(llm.complete, {model = "test", prompt = "x", max_tokens = 0}))
print(try(llm.stream, {model = "test", prompt = "x"}, "not a function"))
print(try(llm.models, 42))
print(try(json.encode, 0/0))
return "done"
