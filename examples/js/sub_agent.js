// A sub-agent used as a tool: the writer asks the researcher for facts
// (an agent in another agent's tools becomes a tool taking one prompt;
// agent.as_tool(name, description) names it yourself).
//   llmspell run examples/js/sub_agent.js --param topic="the Moon"
const topic = params.topic ?? "the Moon";
const researcher = await llm.agent({
  name: "researcher",
  description: "Answers one factual question in a sentence",
  system: "You answer factual questions in one short sentence.",
  max_tokens: 64,
});
const writer = await llm.agent({
  name: "writer",
  system: "You write two sentences for children. Ask the researcher for one fact first.",
  tools: [researcher],
  max_steps: 4,
  max_tokens: 128,
});
const result = await writer.run_full(`Write about ${topic}.`);
console.log(result.output);
for (const call of result.tool_calls) {
  console.log("asked the " + call.name + (call.success ? "" : " (failed)"));
}
return {text: result.output, questions: result.tool_calls.length};
