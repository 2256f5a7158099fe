-- A sub-agent used as a tool: the writer asks the researcher for facts
-- (an agent in another agent's tools becomes a tool taking one prompt;
-- agent:as_tool(name, description) names it yourself).
--   llmspell run examples/lua/sub_agent.lua --param topic="the Moon"
local topic = params.topic or "the Moon"
local researcher = llm.agent({
  name = "researcher",
  description = "Answers one factual question in a sentence",
  system = "You answer factual questions in one short sentence.",
  max_tokens = 64,
})
local writer = llm.agent({
  name = "writer",
  system = "You write two sentences for children. Ask the researcher for one fact first.",
  tools = {researcher},
  max_steps = 4,
  max_tokens = 128,
})
local result = writer:run_full("Write about " .. topic .. ".")
print(result.output)
for _, call in ipairs(result.tool_calls) do
  print("asked the " .. call.name .. (call.success and "" or " (failed)"))
end
return {text = result.output, questions = #result.tool_calls}
