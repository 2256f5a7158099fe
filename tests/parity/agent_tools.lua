local seen = {}
local add = tools.register({name = "add", description = "Add two numbers",
  parameters = {a = {type = "integer", required = true}, b = {type = "integer", required = true}},
  handler = function(p) seen[#seen + 1] = "add"; return {sum = p.a + p.b, note = "added"} end})
local agent = llm.agent({name = "adder", system = "Add numbers.", tools = {add, "calculator"}})
print("agent: " .. agent.name)
local r = agent:run_full("Add 2 and 3")
print("output: " .. r.output:sub(1, 40))
for _, c in ipairs(r.tool_calls) do print("call: " .. c.name .. " " .. tostring(c.success)) end
print("handler ran: " .. #seen)
print("usage: " .. r.usage.requests .. " requests, " .. r.usage.tool_calls .. " tool calls")
local again = agent:run_full("Once more", {history = r.messages})
print("history: " .. #r.messages .. " -> " .. #again.messages)
local ok, err = pcall(function() return llm.agent({tools = {"nope"}}) end)
print("unknown tool: " .. err.kind)
return {output = r.output, first_call = r.tool_calls[1].output}
