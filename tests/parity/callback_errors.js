// a tool handler's own error, as the caller sees it
await tools.register({name: "boom", description: "fails", parameters: {type: "object", properties: {}},
  handler: (p) => { throw new Error("the disk is full"); }});
try { await tools.boom({}); } catch (e) { console.log("tool: " + e.kind + " / " + e.message); }
// a workflow step's function
const wf = await workflow.create({name: "w", type: "sequential"});
await wf.addStep({name: "a", fn: (ctx) => { throw new Error("step broke"); }});
try { await wf.run({}); } catch (e2) { console.log("step: " + e2.kind + " / " + e2.message); }
// a listener
await events.on("app.saved", (ev) => { throw new Error("listener broke"); });
try { await events.emit("app.saved", {}); } catch (e3) { console.log("listener: " + e3.kind + " / " + e3.message); }
// uncaught, the spell's own words end the run
throw new Error("gave up");
