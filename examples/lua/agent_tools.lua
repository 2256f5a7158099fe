-- An agent with a tool of the spell's own (get_weather) and a built-in one
-- (calculator): the model calls them, their results go back to it, and
-- agent:run_full returns the answer with every tool call it made.
--   llmspell run examples/lua/agent_tools.lua --param city=Paris
local city = params.city or "Paris"
local weather = tools.register({
  name = "get_weather",
  description = "Get the current weather for a city",
  parameters = {city = {type = "string", required = true, description = "the city's name"}},
  handler = function(args)
    -- a real spell would ask a weather service here (tools.http_get, with --allow-net)
    return {city = args.city, temperature_c = 21, sky = "sunny"}
  end,
})
local agent = llm.agent({
  name = "forecaster",
  system = "You answer questions about the weather. Call get_weather for the city you are asked about.",
  tools = {weather, "calculator"},
  max_steps = 4,
  max_tokens = 96,
})
local result = agent:run_full("What is the weather like in " .. city .. " today?")
print(result.output)
for _, call in ipairs(result.tool_calls) do
  print("tool call: " .. call.name .. (call.success and " (ok)" or " (failed)"))
end
return {answer = result.output, tool_calls = #result.tool_calls, requests = result.usage.requests}
