let order = [];
const note = (tag) => (e) => { order.push(tag + " " + e.name); };
await events.on("job.*", note("glob"));
const exact = await events.on("job.start", note("exact"));
await events.once("*", note("once"));
await events.on("job.start", async (e) => {
  order.push("nested emit");
  await events.emit("job.inner", {from: e.name});
  order.push("nested emit returned");
});
console.log("called " + await events.emit("job.start", {n: 1}));
console.log(order.join(" | "));
order = [];
console.log(`off: ${await events.off(exact)} ${await events.off(exact)}`);
console.log("called " + await events.emit("job.start"));
console.log(order.join(" | "));
const seen = [];
await events.on("tool.executed", (e) => { seen.push(e.toolName + "=" + e.success); });
await tools.json_query({a: [1, 2, 3]}, "a[1]");
try { await tools.json_query({}, "[[") } catch (e) {}
console.log(seen.join(" "));
await events.on("bad", () => { const e = new Error("first"); e.kind = "tool_error"; throw e; });
await events.on("bad", () => { const e = new Error("second"); e.kind = "runtime_error"; throw e; });
try { await events.emit("bad", {x: 1}) } catch (e) { console.log(`${e.kind}: ${e.message}`) }
try { await events.emit("state.changed", {}) } catch (e) { console.log(`${e.kind}: ${e.message}`) }
return {done: true};
