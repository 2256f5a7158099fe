guardrails.add({name = "len", on = "input", reason = "too long", check = function(t) return #t <= 20 end})
guardrails.add({name = "word", on = "input", check = function(t)
  if t:find("forbidden") then return false, "a forbidden word" end
  return true
end})
guardrails.add({name = "answer", on = "output", check = function(t) return t:find("success") ~= nil, "no success" end})
local function try(prompt)
  local ok, r = pcall(llm.complete, {prompt = prompt})
  if ok then print("ok: " .. r.content) else print(r.kind .. ": " .. r.message) end
end
try("short")
try("this prompt is far too long to pass")
try("forbidden")
guardrails.add({name = "never", on = "output", check = function(t) return false end})
try("short")
local ok, e = pcall(guardrails.add, {name = "never", on = "input", check = function() return true end})
print(e.kind .. ": " .. e.message)
local ok2, e2 = pcall(guardrails.add, {name = "x", on = "both", check = function() return true end})
print(e2.kind .. ": " .. e2.message)
return "done"
