// a spell's own error value
let e;
try { const x = new Error("no such page"); x.kind = "not_found"; throw x; } catch (err) { e = err; }
console.log("caught: false " + e.kind + " / " + e.message);
// a bridge error
let e2;
try { json.decode("{not json"); } catch (err) { e2 = err; }
console.log("bridge error kind: " + e2.kind);
console.log("tostring is kind: message -> " + String(String(e2) === e2.kind + ": " + e2.message));
// an llm error
try { await llm.complete({model: "no-such-model-here", prompt: "x"}); } catch (err) { console.log("llm error: " + err.kind); }
// nested: rethrow and catch again
try {
  try { const i = new Error("inner"); i.kind = "tool_error"; throw i; }
  catch (inner) { const o = new Error("outer(" + inner.message + ")"); o.kind = inner.kind; throw o; }
} catch (e4) { console.log("rethrown: " + e4.kind + " " + e4.message); }
// an uncaught error ends the run
const fin = new Error("final failure");
fin.kind = "validation_error";
throw fin;
