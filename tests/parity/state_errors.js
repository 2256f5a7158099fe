// What a state refuses, caught: a function, a bad key, a path through a value, a file without a grant.
const st = await state.create();
await st.set("list", [1, 2]);
async function show(label, f) {
  try { await f(); console.log(label + ": ok"); } catch (e) { console.log(label + ": " + e.kind + ": " + e.message); }
}
await show("function", () => st.set("job.run", () => 1));
await show("in a list", () => st.set("jobs", [{run: console.log}]));
await show("bad key", () => st.set("a..b", 1));
await show("through a list", () => st.set("list.x", 1));
await show("unknown persistence", () => state.create({persistence: "redis"}));
await show("no path", () => state.create({persistence: "file"}));
await show("no grant", () => state.create({path: "/nonexistent-llmspell-parity/state.db"}));
await show("bad transform", () => st.transform({type: "filter"}));
await show("bad merge", () => st.merge("text"));
console.log("kept: " + json.encode(await st.all()));
const unsafe = await state.create({path: "/nonexistent-llmspell-parity/state.json"});
