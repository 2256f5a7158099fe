async function tryIt(f, ...args) {
  try { await f(...args); return "ok"; } catch (e) { return e.kind + ": " + e.message; }
}
console.log(await tryIt(llm.complete, {model: "test"}));
console.log(await tryIt(llm.complete, {model: "test", prompt: "x", temperature: 5}));
console.log(await tryIt(llm.complete, {model: "test", prompt: "x", max_tokens: 0}));
console.log(await tryIt(llm.stream, {model: "test", prompt: "x"}, "not a function"));
console.log(await tryIt(llm.models, 42));
console.log(await tryIt(json.encode, NaN));
return "done";
