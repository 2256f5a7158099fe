// Guardrails check every prompt sent to a model (on: "input") and every answer (on: "output"),
// for llm.complete, llm.stream and agents; a failed check is a validation_error with the reason.
//   llmspell run examples/js/guardrails.js --model test
await guardrails.add({
  name: "no_passwords",
  on: "input",
  check: (text) => text.toLowerCase().includes("password")
    ? {ok: false, reason: "the prompt contains a password"}
    : true,
});
await guardrails.add({
  name: "short_answers",
  on: "output",
  reason: "the answer is longer than 200 characters",  // when check gives no reason of its own
  check: (text) => text.length <= 200,
});

let blocked = false;
try {
  await llm.complete({prompt: "My password is hunter2, keep it safe"});
} catch (err) {
  blocked = true;
  console.log(`${err.kind}: ${err.message}`);
}
const answer = await llm.complete({prompt: "Say hello"});
console.log("passed: " + answer.content);
const chunks = [];
await llm.stream({prompt: "Say hello slowly"}, (piece) => { chunks.push(piece); });
console.log("streamed: " + chunks.join(""));
return {blocked};
