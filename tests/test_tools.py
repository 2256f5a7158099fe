"""The ``tools`` global in Lua, JavaScript and Tengo, through ``Runtime``: built-in and registered tools
behind one registry (tools/service.py) with one validation (tools/schema.py).

The error texts are the ones spells have always seen; a tool the policy disables is refused every way a
spell can reach it (``tools.NAME``, ``tools.call``, the handle ``register`` returned), registered or built-in.
"""

from __future__ import annotations

import pytest

from llmspell.sandbox import Policy

LANGS = {"lua": "lua", "js": "javascript", "tengo": "tengo"}

#: Each spell registers ``add`` and ``fails``, then tries every case and returns {case: [kind, message]}
#: (``["ok", value]`` for a call that worked).
CASES = {
    "lua": """
tools.register({name = "inc", description = "n + 1", parameters = {n = {type = "integer", required = true}},
  handler = function(p) print("inc ran"); return p.n + 1 end})
local fails = tools.register({name = "fails", handler = function(p) error("it broke") end})
local t = tools.register({name = "twice", parameters = {n = {type = "number"}},
  handler = function(p) return p.n * 2 end})
local function try(f, ...)
  local ok, e = pcall(f, ...)
  if ok then return {"ok", e} end
  return {e.kind, e.message}
end
return {
  positional = try(tools.inc, 4),
  by_table = try(tools.call, "inc", {n = 1}),
  handle = try(function() return t:call({n = 21}) end),
  handle_name = {"ok", t.name},
  bad_type = try(tools.inc, "x"),
  missing = try(tools.inc),
  too_many = try(tools.calculator, "1", "2"),
  builtin_bad = try(tools.call, "calculator", {expression = 5}),
  unknown = try(tools.call, "nope", {}),
  fails = try(tools.fails),
  reserved_builtin = try(tools.register, {name = "calculator", handler = function() end}),
  reserved_method = try(tools.register, {name = "list", handler = function() end}),
  bad_schema = try(tools.register, {name = "bad", parameters = {a = {type = "text"}}, handler = function() end}),
  listed = {"ok", #tools.list()},
}
""",
    "js": """
tools.register({name: "inc", description: "n + 1", parameters: {n: {type: "integer", required: true}},
  handler: (p) => { console.log("inc ran"); return p.n + 1; }});
tools.register({name: "fails", handler: (p) => { throw new Error("it broke"); }});
const t = await tools.register({name: "twice", parameters: {n: {type: "number"}}, handler: (p) => p.n * 2});
async function attempt(f) {
  try { return ["ok", await f()]; } catch (e) { return [e.kind, e.message]; }
}
return {
  positional: await attempt(() => tools.inc(4)),
  by_table: await attempt(() => tools.call("inc", {n: 1})),
  handle: await attempt(() => t.call({n: 21})),
  handle_name: ["ok", t.name],
  bad_type: await attempt(() => tools.inc("x")),
  missing: await attempt(() => tools.inc()),
  too_many: await attempt(() => tools.calculator("1", "2")),
  builtin_bad: await attempt(() => tools.call("calculator", {expression: 5})),
  unknown: await attempt(() => tools.call("nope", {})),
  fails: await attempt(() => tools.fails()),
  reserved_builtin: await attempt(() => tools.register({name: "calculator", handler: () => 1})),
  reserved_method: await attempt(() => tools.register({name: "list", handler: () => 1})),
  bad_schema: await attempt(() => tools.register({name: "bad", parameters: {a: {type: "text"}}, handler: () => 1})),
  listed: ["ok", (await tools.list()).length],
};
""",
    "tengo": """
tools.register({name: "inc", description: "n + 1", parameters: {n: {type: "integer", required: true}},
  handler: func(p) { fmt.println("inc ran"); return p.n + 1 }})
tools.register({name: "fails", handler: func(p) { return error("it broke") }})
t := tools.register({name: "twice", parameters: {n: {type: "number"}}, handler: func(p) { return p.n * 2 }})
attempt := func(r) {
  if is_error(r) { return [r.value.kind, r.value.message] }
  return ["ok", r]
}
export {
  positional: attempt(tools.inc(4)),
  by_table: attempt(tools.call("inc", {n: 1})),
  handle: attempt(t.call({n: 21})),
  handle_name: ["ok", t.name],
  bad_type: attempt(tools.inc("x")),
  missing: attempt(tools.inc()),
  too_many: attempt(tools.calculator("1", "2")),
  builtin_bad: attempt(tools.call("calculator", {expression: 5})),
  unknown: attempt(tools.call("nope", {})),
  fails: attempt(tools.fails()),
  reserved_builtin: attempt(tools.register({name: "calculator", handler: func() { return 1 }})),
  reserved_method: attempt(tools.register({name: "list", handler: func() { return 1 }})),
  bad_schema: attempt(tools.register({name: "bad", parameters: {a: {type: "text"}}, handler: func() { return 1 }})),
  listed: ["ok", len(tools.list())]
}
""",
}


def run(isolated, lang, src, **kwargs):
    kwargs.setdefault("isolation", "inline")
    rt, out = isolated.runtime(**kwargs)
    return rt.run(source=src, language=LANGS[lang], filename=f"spell.{lang}"), "".join(out)


@pytest.mark.parametrize("lang", LANGS)
def test_registered_and_built_in_tools_share_one_validation_with_the_same_errors(isolated, lang):
    r, out = run(isolated, lang, CASES[lang])
    assert r["positional"] == ["ok", 5] and r["by_table"] == ["ok", 2]
    assert r["handle"] == ["ok", 42] and r["handle_name"] == ["ok", "twice"]
    assert out == "inc ran\ninc ran\n"  # never for a call whose arguments were refused
    assert r["bad_type"] == ["invalid_argument", "inc: n must be an integer, not a string"]
    assert r["missing"] == ["invalid_argument", "inc: 'n' is a required property"]
    assert r["too_many"] == ["invalid_argument",
                             "tools.calculator: takes at most 1 argument(s) (expression), got 2"]
    assert r["builtin_bad"] == ["invalid_argument", "calculator: expression must be a string, not an integer"]
    kind, message = r["unknown"]
    assert kind == "not_found" and message == ("there is no tool named 'nope' (tools: calculator, datetime, fails, "
                                               "file_list, file_read, file_write, http_get, inc, json_query, twice, "
                                               "web_search)")
    kind, message = r["fails"]
    assert kind == "tool_error" and message.startswith("fails: ") and "it broke" in message
    assert r["reserved_builtin"] == ["invalid_argument", "tools.register: 'calculator' is already a built-in name"]
    assert r["reserved_method"] == ["invalid_argument", "tools.register: 'list' is already a built-in name"]
    assert r["bad_schema"] == ["invalid_argument", "tools.register: parameters.a.type must be one of "
                               "array, boolean, integer, null, number, object, string"]
    assert r["listed"] == ["ok", 8 + 3]  # the built-in tools and inc, fails, twice


DENIED = {
    "lua": """
local t = tools.register({name = "add", parameters = {a = {type = "integer"}},
  handler = function(p) print("add ran"); return 1 end})
tools.register({name = "sub", handler = function(p) return -1 end})
local function try(f, ...)
  local ok, e = pcall(f, ...)
  if ok then return {"ok", e} end
  return {e.kind, e.message}
end
return {try(tools.add, 1), try(tools.call, "add", {a = 1}), try(function() return t:call({a = 1}) end),
        try(tools.calculator, "1+1"), try(tools.call, "calculator", {expression = "1"}), try(tools.sub)}
""",
    "js": """
const t = await tools.register({name: "add", parameters: {a: {type: "integer"}},
  handler: (p) => { console.log("add ran"); return 1; }});
tools.register({name: "sub", handler: (p) => -1});
async function attempt(f) {
  try { return ["ok", await f()]; } catch (e) { return [e.kind, e.message]; }
}
return [await attempt(() => tools.add(1)), await attempt(() => tools.call("add", {a: 1})),
        await attempt(() => t.call({a: 1})), await attempt(() => tools.calculator("1+1")),
        await attempt(() => tools.call("calculator", {expression: "1"})), await attempt(() => tools.sub())];
""",
    "tengo": """
t := tools.register({name: "add", parameters: {a: {type: "integer"}},
  handler: func(p) { fmt.println("add ran"); return 1 }})
tools.register({name: "sub", handler: func(p) { return -1 }})
attempt := func(r) {
  if is_error(r) { return [r.value.kind, r.value.message] }
  return ["ok", r]
}
export [attempt(tools.add(1)), attempt(tools.call("add", {a: 1})), attempt(t.call({a: 1})),
        attempt(tools.calculator("1+1")), attempt(tools.call("calculator", {expression: "1"})),
        attempt(tools.sub())]
""",
}


@pytest.mark.parametrize("isolation", ["inline", "process"])
@pytest.mark.parametrize("lang", LANGS)
def test_a_disabled_tool_is_refused_every_way_a_spell_reaches_it(isolated, lang, isolation):
    policy = Policy(disabled_builtins=("tools.add", "tools.calculator"))
    r, out = run(isolated, lang, DENIED[lang], policy=policy, isolation=isolation)
    add = ["permission_denied", '"tools.add" is disabled by the sandbox policy']
    calculator = ["permission_denied", '"tools.calculator" is disabled by the sandbox policy']
    assert r == [add, add, add, calculator, calculator, ["ok", -1]]
    assert out == ""  # the disabled handler never ran
