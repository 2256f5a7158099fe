// Every workflow type, templates and error policies, printed the same in every language.
const seq = await workflow.create({name: "seq"});
await seq.addStep({name: "notes", fn: (ctx) => ({title: "On " + ctx.topic, tags: ["x", "y", "z"]})});
await seq.addStep({name: "count", tool: "calculator", params: {expression: "{{notes.output.tags | length}} * 2"}});
await seq.addStep({name: "ask", agent: await llm.agent({}), prompt: "{{notes.output.title}}: {{notes.output.tags[1]}}"});
const r = await seq.run({topic: "owls"});
console.log("seq: " + r.steps.count.output + " " + r.steps.ask.status + " " + r.output);

const par = await workflow.create({name: "par", type: "parallel", max_concurrency: 2});
for (let i = 1; i <= 4; i++) await par.addStep({name: "p" + i, fn: (ctx) => ctx.base + i});
await par.addStep({name: "bad", tool: "no_such_tool", on_error: "continue"});
const pr = await par.run({base: 10});
console.log("par: " + json.encode(pr.output) + " bad=" + pr.steps.bad.status + " " + pr.steps.bad.error.kind);

const cond = await workflow.create({name: "cond", type: "conditional"});
await cond.addStep({name: "yes", fn: () => "ran", condition: (ctx) => ctx.n > 1});
await cond.addStep({name: "no", fn: () => "ran", condition: (ctx) => ctx.n > 5});
const cr = await cond.run({n: 3});
console.log("cond: " + cr.steps.yes.status + " " + cr.steps.no.status);

const loop = await workflow.create({name: "loop", type: "loop", max_iterations: 10,
  until: (ctx) => ctx.sum.output >= 10});
await loop.addStep({name: "sum", fn: (ctx) => (ctx.sum ? ctx.sum.output : 0) + ctx.iteration});
const lr = await loop.run({});
console.log("loop: " + lr.output + " after " + lr.iterations);

let tries = 0;
const retry = await workflow.create({name: "retry"});
await retry.addStep({name: "flaky", on_error: "retry", retries: 3, backoff_ms: 0, fn: () => {
  tries += 1;
  if (tries < 3) throw new Error("not yet");
  return "ok";
}});
const rr = await retry.run({});
console.log("retry: " + rr.output + " attempts=" + rr.steps.flaky.attempts);

const tpl = await workflow.create({name: "tpl"});
await tpl.addStep({name: "add", tool: "calculator", params: {expression: "{{x}} + 1"}, on_error: "retry", retries: 1});
try { await tpl.run({}) } catch (err) { console.log("missing: " + err.kind + " / " + err.message) }
const back = await workflow.from_table(await tpl.to_table());
console.log("again: " + (await back.run({x: 41})).output);
console.log("table: " + json.encode((await back.to_table()).steps[0]));
console.log(await par.to_mermaid());
return {seq: r.steps.ask.output, loop: lr.output};
