-- a spell's own error value
local ok, e = pcall(function() error({kind = "not_found", message = "no such page"}) end)
print("caught: " .. tostring(ok) .. " " .. e.kind .. " / " .. e.message)
-- a bridge error
local ok2, e2 = pcall(json.decode, "{not json")
print("bridge error kind: " .. e2.kind)
print("tostring is kind: message -> " .. tostring(tostring(e2) == e2.kind .. ": " .. e2.message))
-- an llm error
local ok3, e3 = pcall(llm.complete, {model = "no-such-model-here", prompt = "x"})
print("llm error: " .. e3.kind)
-- nested: rethrow and catch again
local ok4, e4 = pcall(function()
  local _, inner = pcall(error, {kind = "tool_error", message = "inner"})
  error({kind = inner.kind, message = "outer(" .. inner.message .. ")"})
end)
print("rethrown: " .. e4.kind .. " " .. e4.message)
-- an uncaught error ends the run
error({kind = "validation_error", message = "final failure"})
