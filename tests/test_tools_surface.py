"""The ``tools`` surface in Lua, JavaScript and Tengo, through ``Runtime``: ``tools.NAME(...)``
positional and by table, ``tools.call``, ``tools.list``, one positional order in every language
(tools/schema.py ``positional_order``), ``json_query`` on JMESPath, and the built-in tools' refusals.

Each spell returns the same data in every language, so each test compares one expected value.
"""

from __future__ import annotations

import json

import pytest

from llmspell.sandbox import Policy

LANGS = {"lua": "lua", "js": "javascript", "tengo": "tengo"}


def run(isolated, lang, src, **kwargs):
    kwargs.setdefault("isolation", "inline")
    rt, out = isolated.runtime(**kwargs)
    return rt.run(source=src, language=LANGS[lang], filename=f"spell.{lang}"), "".join(out)


# -- positional order ----------------------------------------------------------------------------
# A map of parameters is written in an order that is neither sorted nor the required order, so a
# binding that followed the table's own order would differ (Lua's order is its hash order).
ORDER = {
    "lua": """
local echo = function(p) return p end
tools.register({name = "weather", parameters = {units = {type = "string"}, city = {type = "string", required = true},
  days = {type = "integer"}, country = {type = "string", required = true}}, handler = echo})
tools.register({name = "listed", parameters = {{name = "zeta", type = "string", required = true},
  {name = "alpha", type = "integer"}, {name = "mid", type = "boolean"}}, handler = echo})
tools.register({name = "schema", parameters = {type = "object", required = {"c", "a"},
  properties = {a = {type = "string"}, b = {type = "string"}, c = {type = "string"}, d = {type = "string"}}},
  handler = echo})
local function try(f, ...)
  local ok, e = pcall(f, ...)
  if ok then return e end
  return {kind = e.kind, message = e.message}
end
return {
  weather = tools.weather("Paris", "FR", 3, "metric"),
  listed = tools.listed("z", 1, true),
  listed_nil = tools.listed("z", nil, false),
  schema = tools.schema("C", "A", "B", "D"),
  by_table = tools.call("weather", {city = "Oslo", country = "NO"}),
  call_positional = tools.call("listed", "z", 2),
  too_many = try(tools.listed, "z", 1, true, 4),
  duplicate = try(tools.register, {name = "dup", parameters = {{name = "a"}, {name = "a"}}, handler = echo}),
  unnamed = try(tools.register, {name = "unnamed", parameters = {{type = "string"}}, handler = echo}),
}
""",
    "js": """
const echo = (p) => p;
tools.register({name: "weather", parameters: {units: {type: "string"}, city: {type: "string", required: true},
  days: {type: "integer"}, country: {type: "string", required: true}}, handler: echo});
tools.register({name: "listed", parameters: [{name: "zeta", type: "string", required: true},
  {name: "alpha", type: "integer"}, {name: "mid", type: "boolean"}], handler: echo});
tools.register({name: "schema", parameters: {type: "object", required: ["c", "a"],
  properties: {a: {type: "string"}, b: {type: "string"}, c: {type: "string"}, d: {type: "string"}}},
  handler: echo});
async function attempt(f) {
  try { return await f(); } catch (e) { return {kind: e.kind, message: e.message}; }
}
return {
  weather: await tools.weather("Paris", "FR", 3, "metric"),
  listed: await tools.listed("z", 1, true),
  listed_nil: await tools.listed("z", undefined, false),
  schema: await tools.schema("C", "A", "B", "D"),
  by_table: await tools.call("weather", {city: "Oslo", country: "NO"}),
  call_positional: await tools.call("listed", "z", 2),
  too_many: await attempt(() => tools.listed("z", 1, true, 4)),
  duplicate: await attempt(() => tools.register({name: "dup", parameters: [{name: "a"}, {name: "a"}], handler: echo})),
  unnamed: await attempt(() => tools.register({name: "unnamed", parameters: [{type: "string"}], handler: echo})),
};
""",
    "tengo": """
echo := func(p) { return p }
tools.register({name: "weather", parameters: {units: {type: "string"}, city: {type: "string", required: true},
  days: {type: "integer"}, country: {type: "string", required: true}}, handler: echo})
tools.register({name: "listed", parameters: [{name: "zeta", type: "string", required: true},
  {name: "alpha", type: "integer"}, {name: "mid", type: "boolean"}], handler: echo})
tools.register({name: "schema", parameters: {type: "object", required: ["c", "a"],
  properties: {a: {type: "string"}, b: {type: "string"}, c: {type: "string"}, d: {type: "string"}}},
  handler: echo})
attempt := func(r) {
  if is_error(r) { return {kind: r.value.kind, message: r.value.message} }
  return r
}
export {
  weather: tools.weather("Paris", "FR", 3, "metric"),
  listed: tools.listed("z", 1, true),
  listed_nil: tools.listed("z", undefined, false),
  schema: tools.schema("C", "A", "B", "D"),
  by_table: tools.call("weather", {city: "Oslo", country: "NO"}),
  call_positional: tools.call("listed", "z", 2),
  too_many: attempt(tools.listed("z", 1, true, 4)),
  duplicate: attempt(tools.register({name: "dup", parameters: [{name: "a"}, {name: "a"}], handler: echo})),
  unnamed: attempt(tools.register({name: "unnamed", parameters: [{type: "string"}], handler: echo}))
}
""",
}


@pytest.mark.parametrize("lang", LANGS)
def test_positional_arguments_bind_in_one_order_in_every_language(isolated, lang):
    """A list of parameters binds in its order; a map or schema: required as listed, then the rest by name."""
    r, _ = run(isolated, lang, ORDER[lang])
    assert r["weather"] == {"city": "Paris", "country": "FR", "days": 3, "units": "metric"}
    assert r["listed"] == {"zeta": "z", "alpha": 1, "mid": True}
    assert r["listed_nil"] == {"zeta": "z", "mid": False}  # a nil/undefined in between is "not given"
    assert r["schema"] == {"c": "C", "a": "A", "b": "B", "d": "D"}
    assert r["by_table"] == {"city": "Oslo", "country": "NO"}
    assert r["call_positional"] == {"zeta": "z", "alpha": 2}
    assert r["too_many"] == {"kind": "invalid_argument",
                             "message": "tools.listed: takes at most 3 argument(s) (zeta, alpha, mid), got 4"}
    one_based = 1 if lang == "lua" else 1  # the list form's position is counted from 1 in every language
    assert r["duplicate"] == {"kind": "invalid_argument",
                              "message": f"tools.register: parameters[{one_based + 1}]: 'a' is listed twice"}
    assert r["unnamed"] == {"kind": "invalid_argument",
                            "message": 'tools.register: parameters[1] must be a table with a name, like '
                                       '{name = "path", type = "string", required = true}'}


# -- tools.list and tools.call -------------------------------------------------------------------
LIST = {
    "lua": """
tools.register({name = "greet", description = "Say hello", parameters = {{name = "who", type = "string",
  required = true, description = "whom"}}, handler = function(p) return "hello " .. p.who end})
local seen = {}
for _, t in ipairs(tools.list()) do seen[t.name] = t end
return {names = (function() local n = {} for _, t in ipairs(tools.list()) do n[#n + 1] = t.name end return n end)(),
  greet = seen.greet, calculator = seen.calculator, called = tools.call("greet", {who = "Ada"}),
  positional = tools.greet("Bob"), table_form = tools.greet({who = "Cy"})}
""",
    "js": """
tools.register({name: "greet", description: "Say hello", parameters: [{name: "who", type: "string",
  required: true, description: "whom"}], handler: (p) => "hello " + p.who});
const list = await tools.list();
const seen = Object.fromEntries(list.map((t) => [t.name, t]));
return {names: list.map((t) => t.name), greet: seen.greet, calculator: seen.calculator,
  called: await tools.call("greet", {who: "Ada"}), positional: await tools.greet("Bob"),
  table_form: await tools.greet({who: "Cy"})};
""",
    "tengo": """
tools.register({name: "greet", description: "Say hello", parameters: [{name: "who", type: "string",
  required: true, description: "whom"}], handler: func(p) { return "hello " + p.who }})
names := []
seen := {}
for t in tools.list() { names = append(names, t.name); seen[t.name] = t }
export {names: names, greet: seen.greet, calculator: seen.calculator, called: tools.call("greet", {who: "Ada"}),
  positional: tools.greet("Bob"), table_form: tools.greet({who: "Cy"})}
""",
}


@pytest.mark.parametrize("lang", LANGS)
def test_tools_list_gives_each_tools_name_description_and_json_schema(isolated, lang):
    r, _ = run(isolated, lang, LIST[lang])
    assert r["names"] == ["calculator", "datetime", "file_list", "file_read", "file_write", "greet", "http_get",
                          "json_query", "web_search"]
    assert r["greet"] == {"name": "greet", "description": "Say hello", "parameters": {
        "type": "object", "properties": {"who": {"type": "string", "description": "whom"}}, "required": ["who"]}}
    calc = r["calculator"]
    assert calc["name"] == "calculator" and calc["description"].startswith("Evaluate an arithmetic expression")
    assert calc["parameters"]["required"] == ["expression"]
    assert calc["parameters"]["properties"]["expression"]["type"] == "string"
    assert (r["called"], r["positional"], r["table_form"]) == ("hello Ada", "hello Bob", "hello Cy")


# -- json_query --------------------------------------------------------------------------------------
QUERY = {
    "lua": """
local doc = {items = {{name = "pen", price = 2}, {name = "book", price = 15}, {name = "lamp", price = 40}}}
local function try(f, ...)
  local ok, e = pcall(f, ...)
  if ok then return e end
  return {kind = e.kind, message = e.message}
end
return {
  first = tools.json_query(doc, "items[0].name"),
  last = tools.json_query(doc, "items[-1].name"),
  dear = tools.json_query(doc, "items[?price > `10`].name"),
  total = tools.json_query(doc, "sum(items[*].price)"),
  cheapest = tools.json_query({data = doc, path = "sort_by(items, &price)[0].name"}),
  shaped = tools.json_query(doc, "{n: length(items), names: join(', ', items[*].name)}"),
  from_text = tools.json_query('{"a": {"b": [1, 2, 3]}}', "a.b[1]"),
  missing = tools.json_query(doc, "items[7].name") == nil,
  bad = try(tools.json_query, doc, "items[?price > `10`"),
  bad_function = try(tools.json_query, doc, "size(items)"),
  via_call = tools.call("json_query", {data = doc, path = "length(items)"}),
}
""",
    "js": """
const doc = {items: [{name: "pen", price: 2}, {name: "book", price: 15}, {name: "lamp", price: 40}]};
async function attempt(f) {
  try { return await f(); } catch (e) { return {kind: e.kind, message: e.message}; }
}
return {
  first: await tools.json_query(doc, "items[0].name"),
  last: await tools.json_query(doc, "items[-1].name"),
  dear: await tools.json_query(doc, "items[?price > `10`].name"),
  total: await tools.json_query(doc, "sum(items[*].price)"),
  cheapest: await tools.json_query({data: doc, path: "sort_by(items, &price)[0].name"}),
  shaped: await tools.json_query(doc, "{n: length(items), names: join(', ', items[*].name)}"),
  from_text: await tools.json_query('{"a": {"b": [1, 2, 3]}}', "a.b[1]"),
  missing: (await tools.json_query(doc, "items[7].name")) == null,
  bad: await attempt(() => tools.json_query(doc, "items[?price > `10`")),
  bad_function: await attempt(() => tools.json_query(doc, "size(items)")),
  via_call: await tools.call("json_query", {data: doc, path: "length(items)"}),
};
""",
    "tengo": """
doc := {items: [{name: "pen", price: 2}, {name: "book", price: 15}, {name: "lamp", price: 40}]}
attempt := func(r) {
  if is_error(r) { return {kind: r.value.kind, message: r.value.message} }
  return r
}
export {
  first: tools.json_query(doc, "items[0].name"),
  last: tools.json_query(doc, "items[-1].name"),
  dear: tools.json_query(doc, "items[?price > `10`].name"),
  total: tools.json_query(doc, "sum(items[*].price)"),
  cheapest: tools.json_query({data: doc, path: "sort_by(items, &price)[0].name"}),
  shaped: tools.json_query(doc, "{n: length(items), names: join(', ', items[*].name)}"),
  from_text: tools.json_query(`{"a": {"b": [1, 2, 3]}}`, "a.b[1]"),
  missing: is_undefined(tools.json_query(doc, "items[7].name")),
  bad: attempt(tools.json_query(doc, "items[?price > `10`")),
  bad_function: attempt(tools.json_query(doc, "size(items)")),
  via_call: tools.call("json_query", {data: doc, path: "length(items)"})
}
""",
}


@pytest.mark.parametrize("lang", LANGS)
def test_json_query_is_jmespath_with_the_same_results_in_every_language(isolated, lang):
    r, _ = run(isolated, lang, QUERY[lang])
    assert r["first"] == "pen" and r["last"] == "lamp" and r["dear"] == ["book", "lamp"]
    assert r["total"] == 57 and r["cheapest"] == "pen" and r["from_text"] == 2 and r["missing"] is True
    assert r["shaped"] == {"n": 3, "names": "pen, book, lamp"}
    assert r["via_call"] == 3
    assert r["bad"] == {"kind": "invalid_argument", "message": 'json_query: invalid expression '
                        '"items[?price > `10`": it ends too soon, at column 20'}
    assert r["bad_function"]["kind"] == "invalid_argument"
    assert r["bad_function"]["message"].startswith("json_query: unknown function size() (functions: abs, avg,")


# -- the built-in tools' refusals and bounds -------------------------------------------------------
BUILTINS = {
    "lua": """
local function try(f, ...)
  local ok, e = pcall(f, ...)
  if ok then return {ok = e} end
  return {kind = e.kind, message = e.message, hint = e.hint}
end
return {
  read = try(tools.file_read, "inside/a.txt"),
  read_outside = try(tools.file_read, "outside.txt"),
  write = try(tools.file_write, "inside/b.txt", "text"),
  list = try(tools.file_list, "inside"),
  get = try(tools.http_get, "http://example.com/"),
  search = try(tools.web_search, "llm spells"),
  power = try(tools.calculator, "9 ** 9 ** 9"),
  factorial = try(tools.calculator, "factorial(100000)"),
  nested = try(tools.calculator, string.rep("-", 990) .. "1"),
  escape = try(tools.calculator, "(1).__class__"),
  sum = try(tools.calculator, "2 ** 10 + sqrt(16)"),
  utc = try(tools.datetime, "UTC"),
  zone = try(tools.datetime, "Mars/Olympus"),
}
""",
    "js": """
async function attempt(f) {
  try { return {ok: await f()}; } catch (e) { return {kind: e.kind, message: e.message, hint: e.hint}; }
}
return {
  read: await attempt(() => tools.file_read("inside/a.txt")),
  read_outside: await attempt(() => tools.file_read("outside.txt")),
  write: await attempt(() => tools.file_write("inside/b.txt", "text")),
  list: await attempt(() => tools.file_list("inside")),
  get: await attempt(() => tools.http_get("http://example.com/")),
  search: await attempt(() => tools.web_search("llm spells")),
  power: await attempt(() => tools.calculator("9 ** 9 ** 9")),
  factorial: await attempt(() => tools.calculator("factorial(100000)")),
  nested: await attempt(() => tools.calculator("-".repeat(990) + "1")),
  escape: await attempt(() => tools.calculator("(1).__class__")),
  sum: await attempt(() => tools.calculator("2 ** 10 + sqrt(16)")),
  utc: await attempt(() => tools.datetime("UTC")),
  zone: await attempt(() => tools.datetime("Mars/Olympus")),
};
""",
    "tengo": """
text := import("text")
attempt := func(r) {
  if is_error(r) { return {kind: r.value.kind, message: r.value.message, hint: r.value.hint} }
  return {ok: r}
}
export {
  read: attempt(tools.file_read("inside/a.txt")),
  read_outside: attempt(tools.file_read("outside.txt")),
  write: attempt(tools.file_write("inside/b.txt", "text")),
  list: attempt(tools.file_list("inside")),
  get: attempt(tools.http_get("http://example.com/")),
  search: attempt(tools.web_search("llm spells")),
  power: attempt(tools.calculator("9 ** 9 ** 9")),
  factorial: attempt(tools.calculator("factorial(100000)")),
  nested: attempt(tools.calculator(text.repeat("-", 990) + "1")),
  escape: attempt(tools.calculator("(1).__class__")),
  sum: attempt(tools.calculator("2 ** 10 + sqrt(16)")),
  utc: attempt(tools.datetime("UTC")),
  zone: attempt(tools.datetime("Mars/Olympus"))
}
""",
}


def _layout(isolated):
    (isolated.cwd / "inside").mkdir()
    (isolated.cwd / "inside" / "a.txt").write_text("hello", encoding="utf-8")
    (isolated.cwd / "outside.txt").write_text("secret", encoding="utf-8")
    return isolated.cwd.resolve()


def _denied(mode, shown, target, folder=None):
    also = "" if folder is None else f" (or --allow-{mode}={folder} for its folder)"
    return {"kind": "permission_denied",
            "message": f'{mode} access to "{shown}" ({target}) is not allowed; run with --allow-{mode}={target}{also}'}


def _bounded(r):
    calculator = "calculator: "
    assert r["power"] == {"kind": "invalid_argument",
                          "message": calculator + "exponent 387420489 is too large (limit 10000)"}
    assert r["factorial"]["message"] == calculator + "factorial() is limited to n <= 170 (a larger one is " \
                                                     "beyond the largest number)"
    assert r["nested"]["message"] == calculator + "the expression nests more than 100 levels deep"
    assert r["escape"]["message"].startswith(calculator + "attribute access (x.y) is not allowed")
    assert r["sum"] == {"ok": 1028.0}
    assert r["utc"]["ok"]["timezone"] == "UTC" and r["utc"]["ok"]["utc_offset"] == "+00:00"
    assert r["zone"]["message"] == "datetime: unknown time zone 'Mars/Olympus'"
    assert r["search"] == {"kind": "tool_error", "message": "web_search is not configured: no search endpoint is set"}


def _without_hints(r):
    """An error's kind and message (what every language's error value carries: a hint is Lua's only)."""
    return {k: ({"kind": v["kind"], "message": v["message"]} if "kind" in v else v) for k, v in r.items()}


@pytest.mark.parametrize("lang", LANGS)
def test_builtin_tools_refuse_everything_by_default_naming_the_flag(isolated, lang):
    root = _layout(isolated)
    r, _ = run(isolated, lang, BUILTINS[lang])
    r = _without_hints(r)
    assert r["read"] == _denied("read", "inside/a.txt", root / "inside" / "a.txt", root / "inside")
    assert r["read_outside"] == _denied("read", "outside.txt", root / "outside.txt", root)
    assert r["write"] == _denied("write", "inside/b.txt", root / "inside" / "b.txt", root / "inside")
    assert r["list"] == _denied("read", "inside", root / "inside")  # a folder: its own grant
    assert r["get"] == {"kind": "permission_denied",
                        "message": 'network access to "example.com" is not allowed; run with --allow-net=example.com'}
    _bounded(r)
    assert not (root / "inside" / "b.txt").exists()


@pytest.mark.parametrize("lang", LANGS)
def test_builtin_file_tools_work_only_inside_the_granted_folder(isolated, lang):
    root = _layout(isolated)
    inside = str(root / "inside")
    policy = Policy(allow_read=(inside,), allow_write=(inside,), allow_net=("127.0.0.1",))
    r, _ = run(isolated, lang, BUILTINS[lang], policy=policy)
    r = _without_hints(r)
    assert r["read"] == {"ok": "hello"}
    assert r["read_outside"] == _denied("read", "outside.txt", root / "outside.txt", root)
    assert r["write"] == {"ok": {"path": str(root / "inside" / "b.txt"), "bytes": 4}}
    assert sorted(e["name"] for e in r["list"]["ok"]) == ["a.txt", "b.txt"]
    assert r["get"]["kind"] == "permission_denied"  # a host not granted, whatever else is
    _bounded(r)
    assert (root / "inside" / "b.txt").read_text(encoding="utf-8") == "text"


def test_the_cli_names_the_flag_for_the_file_and_for_its_folder(isolated):
    _layout(isolated)
    (isolated.cwd / "spell.lua").write_text('return tools.file_read("inside/a.txt")', encoding="utf-8")
    p = isolated.cli("run", "spell.lua", "--json")
    isolated.no_traceback(p.stdout, p.stderr)
    error = json.loads(p.stdout.splitlines()[-1])["error"]
    assert error["kind"] == "permission_denied"
    assert error["message"].endswith(f"(or --allow-read={isolated.cwd.resolve() / 'inside'} for its folder)")


# -- the examples ---------------------------------------------------------------------------------
EXAMPLES = {"lua": "lua/tools_builtin.lua", "js": "js/tools_builtin.js", "tengo": "tengo/tools_builtin.tengo"}


def test_the_tools_builtin_example_prints_the_same_in_every_language(isolated):
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "examples"
    outputs = {}
    for lang, example in EXAMPLES.items():
        p = isolated.cli("run", str(root / example), "--model", "test", "--json")
        isolated.no_traceback(p.stdout, p.stderr)
        assert p.returncode == 0, p.stderr
        outputs[lang] = p.stdout
    assert outputs["lua"] == outputs["js"] == outputs["tengo"]
    lines = outputs["lua"].splitlines()
    assert lines[:7] == ["6 * 7 = 42", "2 ** 10 = 1024", 'over 10: ["lamp","book"]', "cheapest: pen",
                         'for home: ["lamp","book"]', 'summary: {"count":3,"total":57}', "40 less 25% = 30"]
    assert "discount requires [\"price\",\"percent\"]" in lines and "file_read: false permission_denied" in lines
    assert lines[-1] == '"book"'
