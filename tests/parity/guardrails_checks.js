await guardrails.add({name: "len", on: "input", reason: "too long", check: (t) => t.length <= 20});
await guardrails.add({name: "word", on: "input",
  check: (t) => t.includes("forbidden") ? {ok: false, reason: "a forbidden word"} : true});
await guardrails.add({name: "answer", on: "output", check: (t) => ({ok: t.includes("success"), reason: "no success"})});
async function attempt(prompt) {
  try { console.log("ok: " + (await llm.complete({prompt})).content) }
  catch (e) { console.log(`${e.kind}: ${e.message}`) }
}
await attempt("short");
await attempt("this prompt is far too long to pass");
await attempt("forbidden");
await guardrails.add({name: "never", on: "output", check: (t) => false});
await attempt("short");
try { await guardrails.add({name: "never", on: "input", check: () => true}) } catch (e) { console.log(`${e.kind}: ${e.message}`) }
try { await guardrails.add({name: "x", on: "both", check: () => true}) } catch (e) { console.log(`${e.kind}: ${e.message}`) }
return "done";
