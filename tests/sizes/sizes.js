// Strings of every size, and deep and wide tables, through every bridge that
// takes data.  tests/test_sizes_parity.py fills in the two literals, runs this
// spell and its Lua and Tengo twins, and compares all three with the values
// the test computes itself.
const lit600 = "<<600-character literal>>";
const lit64k = "<<64 KiB literal>>";
tools.register({name: "echo", description: "gives back its argument", parameters: {v: {description: "any value"}},
                handler: (args) => args});

async function through(name, s, withModel) {
  const r = {v: s};
  r.json = json.decode(json.encode(s)) === s;
  r.tool = (await tools.echo({v: s})).v === s;
  const w = await tools.file_write("out/" + name + ".txt", s);
  r.bytes = w.bytes;
  r.file = (await tools.file_read("out/" + name + ".txt")) === s;
  if (withModel) {
    const c = await llm.complete({prompt: s});
    r.tokens = c.usage.input_tokens;
    let got = "";
    const st = await llm.stream({prompt: s}, (d) => { got += d; });
    r.stream = got === st.content && st.usage.input_tokens === c.usage.input_tokens;
    if (!s.includes("\n")) await log.warn("case " + name + "=" + s);
  }
  console.log("<" + name + ">");
  console.log(s);
  return r;
}

let doubled = "ab c";
for (let i = 0; i < 18; i++) doubled = doubled + doubled;
let lines = "";
for (let i = 1; i <= 5000; i++) lines = lines + "line " + i + ": é✓😀\n";
const a = "lorem ipsum ".repeat(3000), b = "é✓😀 ".repeat(5000);

const cases = {};
cases.empty = await through("empty", "", false);
cases.one = await through("one", "x", true);
cases.rep511 = await through("rep511", "x".repeat(511), true);
cases.rep512 = await through("rep512", "y".repeat(512), true);
cases.cat600 = await through("cat600", "a" + "b ".repeat(299) + "c", true);
cases.lit600 = await through("lit600", lit600, true);
cases.tmpl = await through("tmpl", `<${a}|${b}>`, true);
cases.lit64k = await through("lit64k", lit64k, true);
cases.rep64k = await through("rep64k", "abc ".repeat(16384), true);
cases.uni64k = await through("uni64k", "é✓😀 ".repeat(6554), true);
cases.lines = await through("lines", lines, true);
cases.dbl1m = await through("dbl1m", doubled, true);
cases.rep4m = await through("rep4m", "abc ".repeat(1048576), false);

let deep = {leaf: "end"};
for (let i = 1; i <= 50; i++) deep = {d: deep, n: i};
const wideObj = {}, wideArr = [];
for (let i = 0; i < 10000; i++) {
  wideObj["k" + String(i).padStart(5, "0")] = i;
  wideArr.push("e" + i);
}
const tables = {};
for (const [name, t] of [["deep", deep], ["wideObj", wideObj], ["wideArr", wideArr]]) {
  const text = json.encode(t);
  console.log("<" + name + ">");
  console.log(text);
  tables[name] = {v: t, json: json.decode(text), text: text, tool: (await tools.echo({v: t})).v};
}
return {cases: cases, tables: tables};
