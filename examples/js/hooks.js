// Hooks around every model request and tool call of the run (llm.complete, llm.stream,
// agents, tools.*): change what is sent, see what comes back, refuse a call by throwing.
//   llmspell run examples/js/hooks.js --model test
await hooks.register({
  beforeGenerate: (ctx, request) => ({...request, temperature: 0.2}),  // what the provider receives
  afterGenerate: (ctx, request, response) => {
    console.log(`sent at temperature ${request.temperature}, tokens used: ${response.usage.total_tokens}`);
    return {content: response.content + " [reviewed]"};
  },
  beforeToolCall: (ctx, tool, input) => {
    if (tool === "file_write" && input.path.startsWith("/etc/")) {
      const err = new Error("no writes to /etc/");
      err.kind = "permission_denied";
      throw err;
    }
    // returning nothing leaves the input as it is
  },
  afterToolCall: (ctx, tool, input, output) => {
    if (tool === "calculator") return `${input.expression} = ${output}`;
  },
});

const answer = await llm.complete({prompt: "Say hello"});
console.log(answer.content);
console.log(await tools.calculator("6 * 7"));
let refused = false;
try {
  await tools.file_write("/etc/motd", "hello");
} catch (err) {
  refused = true;
  console.log(`${err.kind}: ${err.message}`);
}
return {content: answer.content, refused};
