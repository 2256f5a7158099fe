// An agent with a tool of the spell's own (get_weather) and a built-in one
// (calculator): the model calls them, their results go back to it, and
// agent.run_full returns the answer with every tool call it made.
//   llmspell run examples/js/agent_tools.js --param city=Paris
const city = params.city ?? "Paris";
const weather = await tools.register({
  name: "get_weather",
  description: "Get the current weather for a city",
  parameters: {city: {type: "string", required: true, description: "the city's name"}},
  // a real spell would ask a weather service here (tools.http_get, with --allow-net)
  handler: (args) => ({city: args.city, temperature_c: 21, sky: "sunny"}),
});
const agent = await llm.agent({
  name: "forecaster",
  system: "You answer questions about the weather. Call get_weather for the city you are asked about.",
  tools: [weather, "calculator"],
  max_steps: 4,
  max_tokens: 96,
});
const result = await agent.run_full(`What is the weather like in ${city} today?`);
console.log(result.output);
for (const call of result.tool_calls) {
  console.log("tool call: " + call.name + (call.success ? " (ok)" : " (failed)"));
}
return {answer: result.output, tool_calls: result.tool_calls.length, requests: result.usage.requests};
