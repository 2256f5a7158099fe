const schema = {type: "object", required: ["name", "tags", "count"], properties: {
  name: {type: "string"}, count: {type: "integer"}, tags: {type: "array", items: {type: "string"}}}};
const agent = await llm.agent({output_schema: schema, tools: ["calculator"]});
const v = await agent.run("Describe it");
console.log("name: " + v.name + ", count: " + v.count + ", tags: " + v.tags.length);
const list = await llm.structured({prompt: "List", schema: {type: "array", items: {type: "integer"}}});
console.log("list type ok: " + Array.isArray(list));
try { await llm.structured({prompt: "x", schema: {type: "object", properties: {n: {type: "string", pattern: "^[0-9]+$"}}, required: ["n"]}}); }
catch (e) { console.log("invalid: " + e.kind + ": " + e.message); }
try { await llm.agent({output_schema: {type: 7}}); } catch (e) { console.log("bad schema: " + e.kind); }
return v;
