"""A value that cannot cross a bridge fails that call, never the spell.

A cycle, a value nested deeper than the walker's limit, or a value with no
host form (a Tengo builtin, a JavaScript Symbol, a Lua table used as a key) in
a bridge call's arguments, or a result too deep to become a spell value, is
the call's ``invalid_argument`` error: Lua's ``pcall`` gets it, JavaScript's
``catch`` gets it, and Tengo gets an ``error`` value it tests with
``is_error``; the spell goes on.  Run limits met while converting still end
the run, whatever the spell does.  Each spell is the same logic in the three
languages, run through the CLI; what it prints is compared exactly.
"""

from __future__ import annotations

import pytest

DEEP = "[0]" * 20 + "... nests more than 64 levels deep (is it a cycle?)"

SPELLS = {
    "lua": """
local function show(ok, e) print(ok, e.kind, e.message) end
local m = {}; m.self = m
show(pcall(tools.calculator, {expression = m}))
local deep = {}; local cur = deep
for i = 1, 70 do cur.x = {}; cur = cur.x end
show(pcall(tools.calculator, {expression = deep}))
show(pcall(tools.calculator, {expression = {[{}] = 1}}))
local text = string.rep("[", 70) .. string.rep("]", 70)
show(pcall(tools.json_query, {data = text, path = "[0]"}))
print("after", tools.calculator({expression = "6*7"}))
""",
    "js": """
const show = async (f) => {
  try { await f(); console.log("true") } catch (e) { console.log("false", e.kind, e.message) }
}
const m = {}; m.self = m
await show(() => tools.calculator({expression: m}))
const deep = {}; let cur = deep
for (let i = 0; i < 70; i++) { cur.x = {}; cur = cur.x }
await show(() => tools.calculator({expression: deep}))
await show(() => tools.calculator({expression: Symbol("s")}))
const text = "[".repeat(70) + "]".repeat(70)
await show(() => tools.json_query({data: text, path: "[0]"}))
console.log("after", await tools.calculator({expression: "6*7"}))
""",
    "tengo": """
text := import("text")
show := func(r) { fmt.println(!is_error(r), r.value.kind, r.value.message) }
m := {}
m.self = m
show(tools.calculator({expression: m}))
deep := {}
cur := deep
for i := 0; i < 70; i++ { cur.x = {}; cur = cur.x }
show(tools.calculator({expression: deep}))
show(tools.calculator({expression: len}))
show(tools.json_query({data: text.repeat("[", 70) + text.repeat("]", 70), path: "[0]"}))
fmt.println("after", tools.calculator({expression: "6*7"}))
""",
}

# The walker names the path from the argument in every language (and counts
# the nesting from it), cut after 60 characters (JavaScript's prelude, which
# walks the arguments before the host, cuts it as values.depth_error does).
CUT = "expression" + ".x" * 24 + "... nests more than 64 levels deep (is it a cycle?)"
EXPECTED = {
    "lua": [
        "false invalid_argument expression.self contains a cycle (a table inside itself)",
        f"false invalid_argument {CUT}",
        "false invalid_argument expression: a table key must be a string or a number, not a Lua table",
        f"false invalid_argument {DEEP}",
        "after 42",
    ],
    "js": [
        "false invalid_argument expression.self contains a cycle (an object inside itself)",
        f"false invalid_argument {CUT}",
        "false invalid_argument expression: a Symbol cannot be passed to the host",
        f"false invalid_argument {DEEP}",
        "after 42",
    ],
    "tengo": [
        "false invalid_argument expression.self contains a cycle (an array or map inside itself)",
        f"false invalid_argument {CUT}",
        "false invalid_argument expression: a builtin function (len) cannot be passed to the host",
        f"false invalid_argument {DEEP}",
        "after 42",
    ],
}

EXTENSION = {"lua": "lua", "js": "js", "tengo": "tengo"}


@pytest.mark.parametrize("language", ["lua", "js", "tengo"])
def test_a_value_that_cannot_cross_fails_the_call_and_the_spell_goes_on(isolated, language):
    name = f"spell.{EXTENSION[language]}"
    isolated.write(name, SPELLS[language])
    p = isolated.cli("run", name, "--model", "test")
    isolated.no_traceback(p.stdout, p.stderr)
    assert p.returncode == 0, p.stderr
    lines = [line.replace("\t", " ") for line in p.stdout.splitlines()]
    assert lines == EXPECTED[language]


TOO_BIG = {
    # One 100 000-element array held 1 000 times: 800 MB once written out for the host.
    "lua": """
local big = {}
for i = 1, 100000 do big[i] = i end
local many = {}
for i = 1, 1000 do many[i] = big end
print(pcall(json.encode, many))
print("after")
""",
    "tengo": """
big := []
for i := 0; i < 100000; i++ { big = append(big, i) }
many := []
for i := 0; i < 1000; i++ { many = append(many, big) }
fmt.println(is_error(json.encode(many)))
fmt.println("after")
""",
}


@pytest.mark.parametrize("language", ["tengo"])
def test_memory_limit_met_while_converting_ends_the_run(isolated, language):
    """The error value is for the call's own failures: running out of the
    run's memory while its arguments are read ends the run, uncaught."""
    name = f"spell.{EXTENSION[language]}"
    isolated.write(name, TOO_BIG[language])
    p = isolated.cli("run", name, "--model", "test", "--max-memory", "64MB", timeout=120)
    isolated.no_traceback(p.stdout, p.stderr)
    assert p.returncode != 0
    assert "after" not in p.stdout and "false" not in p.stdout and "true" not in p.stdout
    assert "memory_limit" in p.stderr, p.stderr


HANDLER = {
    "lua": """
local m = {}; m.self = m
tools.register({name = "cyc", description = "d", handler = function(a) return m end})
local ok, e = pcall(tools.cyc, {})
print(ok, e.kind, e.message)
print("after", tools.calculator({expression = "6*7"}))
""",
    "js": """
const m = {}; m.self = m
tools.register({name: "cyc", description: "d", handler: (a) => m})
try { await tools.cyc({}); console.log("true") } catch (e) { console.log("false", e.kind, e.message) }
console.log("after", await tools.calculator({expression: "6*7"}))
""",
    "tengo": """
m := {}
m.self = m
t := tools.register({name: "cyc", description: "d", handler: func(a) { return m }})
r := tools.cyc({})
fmt.println(!is_error(r), r.value.kind, r.value.message)
fmt.println("after", tools.calculator({expression: "6*7"}))
""",
}
HANDLER_EXPECTED = {
    "lua": "false tool_error cyc: self contains a cycle (a table inside itself)",
    "js": "false tool_error cyc: result.self contains a cycle (an object inside itself)",
    "tengo": "false tool_error cyc: self contains a cycle (an array or map inside itself)",
}


@pytest.mark.parametrize("language", ["lua", "js", "tengo"])
def test_a_handler_result_that_cannot_cross_is_the_tool_calls_error(isolated, language):
    name = f"tool.{EXTENSION[language]}"
    isolated.write(name, HANDLER[language])
    p = isolated.cli("run", name, "--model", "test")
    isolated.no_traceback(p.stdout, p.stderr)
    assert p.returncode == 0, p.stderr
    assert [line.replace("\t", " ") for line in p.stdout.splitlines()] == [HANDLER_EXPECTED[language], "after 42"]


# The same failures in the three languages, side by side, to the letter: a
# cycle is named by the path where it comes round (the one walker, values.read,
# and the JavaScript prelude say it alike; json's JavaScript twin too), and a
# tool argument of the wrong type is named by its JSON type, never by a Python
# repr of it, a long one cut short.  Only a language's word for its container
# and where its lists count from differ.
PARITY = {
    "lua": """
local function show(ok, e) if ok then print(true) else print(ok, e.kind, e.message) end end
local t = {a = {}}; t.a.b = t
show(pcall(json.encode, t))
show(pcall(log.info, "x", t))
show(pcall(tools.calculator, {expression = t}))
show(pcall(llm.complete, "hi", t))
local l = {1, {}}; l[2].back = l
show(pcall(json.encode, {q = l}))
show(pcall(tools.calculator, function() end))
show(pcall(tools.calculator, coroutine.create(function() end)))
show(pcall(tools.calculator, {expression = {a = 1}}))
show(pcall(tools.calculator, {expression = {1, 2}}))
show(pcall(tools.calculator, {expression = true}))
tools.register({name = "pick", description = "d", handler = function(a) return a.kind end,
                parameters = {kind = {type = "string", enum = {"a", "b"}, required = true}}})
show(pcall(tools.pick, {kind = string.rep("x", 100000)}))
show(pcall(tools.pick, {kind = "a"}))
print("after")
""",
    "js": """
const show = async (f) => {
  try { await f(); console.log("true") } catch (e) { console.log("false", e.kind, e.message) }
}
const t = {a: {}}; t.a.b = t
await show(() => json.encode(t))
await show(() => log.info("x", t))
await show(() => tools.calculator({expression: t}))
await show(() => llm.complete("hi", t))
const l = [1, {}]; l[1].back = l
await show(() => json.encode({q: l}))
await show(() => tools.calculator(function () {}))
await show(() => tools.calculator(async function* () {}))
await show(() => tools.calculator({expression: {a: 1}}))
await show(() => tools.calculator({expression: [1, 2]}))
await show(() => tools.calculator({expression: true}))
tools.register({name: "pick", description: "d", handler: (a) => a.kind,
                parameters: {kind: {type: "string", enum: ["a", "b"], required: true}}})
await show(() => tools.pick({kind: "x".repeat(100000)}))
await show(() => tools.pick({kind: "a"}))
console.log("after")
""",
    "tengo": """
text := import("text")
show := func(r) {
  if is_error(r) { fmt.println(false, r.value.kind, r.value.message) } else { fmt.println(true) }
}
t := {a: {}}
t.a.b = t
show(json.encode(t))
show(log.info("x", t))
show(tools.calculator({expression: t}))
show(llm.complete("hi", t))
l := [1, {}]
l[1].back = l
show(json.encode({q: l}))
show(tools.calculator(func() {}))
show(tools.calculator(func(x) { return x }))
show(tools.calculator({expression: {a: 1}}))
show(tools.calculator({expression: [1, 2]}))
show(tools.calculator({expression: true}))
tools.register({name: "pick", description: "d", handler: func(a) { return a.kind },
                parameters: {kind: {type: "string", enum: ["a", "b"], required: true}}})
show(tools.pick({kind: text.repeat("x", 100000)}))
show(tools.pick({kind: "a"}))
fmt.println("after")
""",
}
WORD = {"lua": "a table", "js": "an object", "tengo": "an array or map"}
SECOND = {"lua": "[2]", "js": "[1]", "tengo": "[1]"}


def parity_expected(language: str) -> list[str]:
    cycle = f"contains a cycle ({WORD[language]} inside itself)"
    return [
        f"false invalid_argument a.b {cycle}",                   # json.encode
        f"false invalid_argument a.b {cycle}",                   # log.info's fields
        f"false invalid_argument expression.a.b {cycle}",        # a tool's arguments
        f"false invalid_argument a.b {cycle}",                   # llm.complete's options
        f"false invalid_argument q{SECOND[language]}.back {cycle}",
        "false invalid_argument calculator: expression must be a string, not a function",
        "false invalid_argument calculator: expression must be a string, not a function",  # a coroutine
        "false invalid_argument calculator: expression must be a string, not an object",
        "false invalid_argument calculator: expression must be a string, not an array",
        "false invalid_argument calculator: expression must be a string, not a boolean",
        'false invalid_argument pick: kind must be one of "a", "b", not "' + "x" * 40 + '..."',
        "true",
        "after",
    ]


@pytest.mark.parametrize("language", ["lua", "js", "tengo"])
def test_the_same_failure_reads_the_same_in_every_language(isolated, language):
    name = f"parity.{EXTENSION[language]}"
    isolated.write(name, PARITY[language])
    p = isolated.cli("run", name, "--model", "test")
    isolated.no_traceback(p.stdout, p.stderr)
    assert p.returncode == 0, p.stderr
    assert [line.replace("\t", " ") for line in p.stdout.splitlines()] == parity_expected(language)
    assert "function function" not in p.stdout and "'" not in p.stdout  # no Python repr


# A log call whose fields cannot cross fails where it is made, as in Lua and
# Tengo, awaited or not: JavaScript's log.warn(msg, cyclic), not awaited,
# wrote nothing and said nothing (its rejected promise was never read).
LOG_CYCLE = {
    "lua": """
local t = {}; t.self = t
local ok, e = pcall(function() log.warn("x", t) end)
print(ok, e.kind, e.message)
log.warn("y", t)
print("not reached")
""",
    "js": """
const t = {}; t.self = t
try { log.warn("x", t); console.log("true") } catch (e) { console.log("false", e.kind, e.message) }
log.warn("y", t)
console.log("not reached")
""",
    "tengo": """
t := {}
t.self = t
r := log.warn("x", t)
fmt.println(!is_error(r), r.value.kind, r.value.message)
export log.warn("y", t)
""",
}


@pytest.mark.parametrize("language", ["lua", "js", "tengo"])
def test_a_log_call_with_a_cycle_fails_where_it_is_made(isolated, language):
    name = f"log.{EXTENSION[language]}"
    isolated.write(name, LOG_CYCLE[language])
    p = isolated.cli("run", name, "--model", "test")
    isolated.no_traceback(p.stdout, p.stderr)
    cycle = f"self contains a cycle ({WORD[language]} inside itself)"
    assert [line.replace("\t", " ") for line in p.stdout.splitlines()] == [f"false invalid_argument {cycle}"]
    assert p.returncode != 0  # uncaught (an error value exported, in Tengo), it ends the spell, naming it
    assert f"invalid_argument: {cycle}" in p.stderr, p.stderr
    if language != "tengo":  # thrown at a line (Tengo's exported error value is the spell's result)
        line = {"lua": 5, "js": 4}[language]
        assert f"{name}:{line}:" in p.stderr, p.stderr
