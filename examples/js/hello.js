// Ask the default model a question and stream its answer as it arrives.
//   llmspell run examples/js/hello.js --param question="Why is the sky blue?"
const question = params.question ?? "What is the capital of France?";
const stream = llm.stream({ system: "You answer in one short sentence.", prompt: question, max_tokens: 48 });
let text = "";
for await (const piece of stream) text += piece;
console.log(text.trim());
