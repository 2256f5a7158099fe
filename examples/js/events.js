// The run's events: the built-in ones (a tool ran, a model answered, ...) and the spell's own,
// by name or by glob; once, off, and emit.
//   llmspell run examples/js/events.js --model test
await events.on("tool.executed", (e) => {
  console.log(`${e.toolName} ran, success: ${e.success}`);  // e.duration: milliseconds
});
const modelEvents = [];
await events.on("llm.*", (e) => { modelEvents.push(e.name); });
await events.once("job.*", (e) => { console.log("the first job event: " + e.name); });
const progress = await events.on("job.progress", (e) => { console.log(`progress ${e.step}/${e.of}`); });

for (let step = 1; step <= 3; step++) await events.emit("job.progress", {step, of: 3});
await events.off(progress);
const reached = await events.emit("job.progress", {step: 4, of: 3});  // no one listens any more
console.log("listeners of the last progress event: " + reached);

await tools.calculator("1 + 1");
try { await tools.calculator("1 +"); } catch (err) { /* tool.executed said so */ }
await llm.complete({prompt: "hello"});
console.log("model events: " + modelEvents.join(", "));

await events.on("job.failed", (e) => {
  const err = new Error("cannot handle " + e.what);
  err.kind = "validation_error";
  throw err;
});
try {
  await events.emit("job.failed", {what: "this"});
} catch (err) {
  console.log(`${err.kind}: ${err.message}`);
}
return {model_events: modelEvents.length};
