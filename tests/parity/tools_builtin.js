// Parity: the built-in tools (examples/js/tools_builtin.js) and their errors.
const order = {
  items: [
    {name: "pen", price: 2, tags: ["office"]},
    {name: "lamp", price: 40, tags: ["home", "light"]},
    {name: "book", price: 15, tags: ["home"]},
  ],
};

// Positional, in the tool's own order, or one object of named parameters: the same call.
console.log("6 * 7 = " + await tools.calculator("6 * 7"));
console.log("2 ** 10 = " + await tools.calculator({expression: "2 ** 10"}));

// json_query takes JMESPath (jmespath.org): filters, projections, functions.
console.log("over 10: " + json.encode(await tools.json_query(order, "items[?price > `10`].name")));
console.log("cheapest: " + await tools.json_query(order, "sort_by(items, &price)[0].name"));
const home = await tools.call("json_query", {data: order, path: "items[?contains(tags, 'home')].name"});
console.log("for home: " + json.encode(home));
console.log("summary: " + json.encode(await tools.json_query(order, "{count: length(items), total: sum(items[*].price)}")));

// A tool of the spell's own whose parameters are a list: positional arguments follow the list.
tools.register({
  name: "discount",
  description: "A price after a discount in percent",
  parameters: [
    {name: "price", type: "integer", required: true},
    {name: "percent", type: "integer", required: true},
  ],
  handler: (p) => Math.floor(p.price * (100 - p.percent) / 100),
});
console.log("40 less 25% = " + await tools.discount(40, 25));

// What a model sees of each tool: its name, description and the JSON Schema of its parameters.
for (const t of await tools.list()) {
  console.log(t.name + " requires " + json.encode(t.parameters.required || []));
}

// Files are refused until the run grants a folder (--allow-read=FOLDER).
try {
  await tools.file_read("notes.txt");
} catch (err) {
  console.log("file_read: false " + err.kind);
}

async function fails(f) {
  try { await f(); } catch (e) { console.log(e.kind + ": " + e.message); }
}
await fails(() => tools.json_query(order, "items[?price > `10`"));
await fails(() => tools.json_query(order, "items..name"));
await fails(() => tools.json_query(order, "size(items)"));
await fails(() => tools.calculator("9 ** 9 ** 9"));
await fails(() => tools.calculator("factorial(1000)"));
await fails(() => tools.calculator("(1).__class__"));
await fails(() => tools.discount(40, 25, 1));
await fails(() => tools.discount("40"));
return await tools.json_query(order, "items[-1].name");
