const r = await llm.complete({prompt: "Say something", system: "Be brief"});
console.log("model: " + r.model);
console.log("content: " + r.content);
console.log("finish: " + r.finish_reason);
console.log("tokens add up: " + String(r.usage.input_tokens + r.usage.output_tokens === r.usage.total_tokens));
const r2 = await llm.complete({model: "test", messages: [{role: "user", content: "one"}, {role: "assistant", content: "two"}, {role: "user", content: "three"}]});
return {content: r2.content, model: r2.model};
