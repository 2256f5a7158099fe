const a = await hooks.register({beforeGenerate: (ctx, req) => {
  console.log(`a sees temperature ${req.temperature ?? "nil"} and ${req.messages.length} message(s)`);
  return {temperature: 0.5};
}});
await hooks.register({
  beforeGenerate: (ctx, req) => { console.log("b sees temperature " + (req.temperature ?? "nil")); },
  afterGenerate: (ctx, req, resp) => {
    console.log(`after: ${resp.finish_reason}, ${resp.model}, total = input + output: ${resp.usage.total_tokens === resp.usage.input_tokens + resp.usage.output_tokens}`);
    return {content: "<" + resp.content + ">"};
  },
  beforeToolCall: (ctx, tool, input) => {
    if (tool === "calculator" && input.expression.includes("/ 0")) {
      const e = new Error("no dividing by zero"); e.kind = "permission_denied"; throw e;
    }
    if (tool === "calculator") return {expression: "(" + input.expression + ") + 1"};
  },
  afterToolCall: (ctx, tool, input, output) => ({tool, caller: ctx.caller, hook: ctx.hook, value: output}),
});
const r = await llm.complete({prompt: "one", system: "be brief"});
console.log(r.content);
const calc = await tools.calculator("2 * 3");
console.log(`${calc.tool} ${calc.caller} ${calc.hook} ${calc.value}`);
try { await tools.calculator("1 / 0") } catch (e) { console.log(`${e.kind}: ${e.message}`) }
console.log(`${await hooks.unregister(a)} ${await hooks.unregister(a)}`);
await hooks.register({afterGenerate: () => 42});
try { await llm.complete({prompt: "two"}) } catch (e) { console.log(`${e.kind}: ${e.message}`) }
return {content: r.content, calc: calc.value};
