local order = {}
local function note(tag) return function(e) order[#order + 1] = tag .. " " .. e.name end end
events.on("job.*", note("glob"))
local exact = events.on("job.start", note("exact"))
events.once("*", note("once"))
events.on("job.start", function(e)
  order[#order + 1] = "nested emit"
  events.emit("job.inner", {from = e.name})
  order[#order + 1] = "nested emit returned"
end)
print("called " .. events.emit("job.start", {n = 1}))
print(table.concat(order, " | "))
order = {}
print("off: " .. tostring(events.off(exact)) .. " " .. tostring(events.off(exact)))
print("called " .. events.emit("job.start"))
print(table.concat(order, " | "))
local seen = {}
events.on("tool.executed", function(e) seen[#seen + 1] = e.toolName .. "=" .. tostring(e.success) end)
tools.json_query({a = {1, 2, 3}}, "a[1]")
pcall(tools.json_query, {}, "[[")
print(table.concat(seen, " "))
events.on("bad", function() error({kind = "tool_error", message = "first"}) end)
events.on("bad", function() error({kind = "runtime_error", message = "second"}) end)
local ok, e = pcall(events.emit, "bad", {x = 1})
print(e.kind .. ": " .. e.message)
local ok2, e2 = pcall(events.emit, "state.changed", {})
print(e2.kind .. ": " .. e2.message)
return {done = true}
