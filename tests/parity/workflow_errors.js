// Bad workflows are errors naming the thing, the same in every language.
async function attempt(f) {
  try { await f(); console.log("ok") } catch (err) { console.log(err.kind + ": " + err.message) }
}
await attempt(() => workflow.create({name: "w", type: "zigzag"}));
await attempt(() => workflow.create({name: "w", type: "loop", max_iterations: 3}));
const wf = await workflow.create({name: "w"});
await attempt(() => wf.addStep({name: "idle"}));
await attempt(() => wf.addStep({name: "two", tool: "calculator", fn: () => 1}));
await attempt(() => wf.addStep({name: "me", workflow: wf}));
const a = await workflow.create({name: "a"}), b = await workflow.create({name: "b"});
await a.addStep({name: "to_b", workflow: b});
await attempt(() => b.addStep({name: "to_a", workflow: a}));
await attempt(() => workflow.from_table({name: "t", steps: [{name: "s", tool: "calculator", on_error: "panic"}]}));
await attempt(() => workflow.from_table({name: "t", steps: [{tool: "calculator"}]}));
await attempt(() => workflow.from_table({name: "t", shape: "round"}));
await wf.addStep({name: "fails", tool: "calculator", params: {expression: "{{nothing}} + 1"}});
await wf.addStep({name: "after", fn: () => "never"});
return await wf.run({});
