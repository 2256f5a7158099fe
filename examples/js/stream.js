// Stream an answer: print each piece as it arrives (one per line), then a summary.
//   llmspell run examples/js/stream.js --param topic=tides
const topic = params.topic ?? "tides";
let pieces = 0;
const r = await llm.stream({
  system: "You explain things in two short sentences.",
  prompt: "Explain " + topic + ".",
  max_tokens: 64,
}, (piece) => {
  pieces++;
  console.log("[" + pieces + "] " + piece);
});
console.log(`(${pieces} pieces, ${r.usage.total_tokens} tokens, finish: ${r.finish_reason})`);
return {pieces, content: r.content};
