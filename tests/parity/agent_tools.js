const seen = [];
const add = await tools.register({name: "add", description: "Add two numbers",
  parameters: {a: {type: "integer", required: true}, b: {type: "integer", required: true}},
  handler: async (p) => { seen.push("add"); return {sum: p.a + p.b, note: "added"}; }});
const agent = await llm.agent({name: "adder", system: "Add numbers.", tools: [add, "calculator"]});
console.log("agent: " + agent.name);
const r = await agent.run_full("Add 2 and 3");
console.log("output: " + r.output.slice(0, 40));
for (const c of r.tool_calls) console.log("call: " + c.name + " " + c.success);
console.log("handler ran: " + seen.length);
console.log("usage: " + r.usage.requests + " requests, " + r.usage.tool_calls + " tool calls");
const again = await agent.run_full("Once more", {history: r.messages});
console.log("history: " + r.messages.length + " -> " + again.messages.length);
try { await llm.agent({tools: ["nope"]}); } catch (e) { console.log("unknown tool: " + e.kind); }
return {output: r.output, first_call: r.tool_calls[0].output};
