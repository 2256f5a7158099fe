"""Shared-state poisoning between runs.

A spell changes everything it can reach — globals, library tables, the string
metatable's library, prototypes such as ``String.prototype``, bridge tables —
and then finishes, fails, times out or runs out of memory.  The next spell on
the same :class:`llmspell.Runtime` must run in a clean VM and see none of it,
whichever isolation the runtime uses.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from llmspell import Runtime
from llmspell.errors import SpellError

LUA_POISON = """
string.upper = function() return "pwned" end
string.format = nil
table.insert = nil
math.pi = 3
json.encode = function() return "pwned" end
tools.calculator = function() return -1 end
leaked_global = "yes"
print = function() end
setmetatable(_G, {__index = function() return "pwned" end})
local ok = pcall(setmetatable, tools, nil)
tools.register({name = "leaky", handler = function() return "leak" end})
"""
LUA_CHECK = """
local ok_reg = pcall(tools.call, "leaky", {})
return {("a"):upper(), type(string.format), type(table.insert), math.pi > 3.14, json.encode({1}),
        tools.calculator("2*3"), rawget(_G, "leaked_global") == nil, getmetatable(_G) == nil,
        undefined_name == nil, ok_reg}
"""
LUA_CLEAN = ["A", "function", "function", True, "[1]", 6, True, True, True, False]

JS_POISON = """
String.prototype.toUpperCase = function () { return "pwned" };
Object.prototype.polluted = "yes";
Array.prototype.map = function () { return "pwned" };
Math.random = () => 4;
globalThis.leaked = 1;
Object.defineProperty(globalThis, "undefinedName", {value: "pwned", configurable: false});
Function.prototype.call = function () { return "pwned" };
await tools.register({name: "leaky", handler: () => "leak"});
JSON.parse = () => "pwned";
"""
JS_CHECK = """
let reg = true;
try { await tools.call("leaky", {}) } catch (e) { reg = false }
return ["a".toUpperCase(), ({}).polluted === undefined, [1].map((x) => x + 1)[0], Math.random() < 1,
        typeof leaked, typeof undefinedName, JSON.parse("[1]")[0], await tools.calculator("2*3"), reg];
"""
JS_CLEAN = ["A", True, 2, True, "undefined", "undefined", 1, 6, False]

# Tengo's modules and bridge objects are immutable maps, made afresh for each
# run: what a spell can change is its params, copies, its globals and the tools it registers.
TENGO_POISON = """
params.leaked = "yes"
leaked_global := "yes"
m := copy(import("math"))
m.pi = 3
bridge := copy(tools)
bridge.calculator = func(e) { return -1 }
r := tools.register({name: "leaky", description: "leaks", handler: func(a) { return "leak" }})
"""
TENGO_CHECK = """
text := import("text")
math := import("math")
export [text.to_upper("a"), is_undefined(params.leaked), math.pi > 3.14, json.encode([1]),
        tools.calculator("2*3"), is_error(tools.call("leaky", {}))]
"""
TENGO_CLEAN = ["A", True, True, "[1]", 6, True]

ENDINGS = {
    "lua": {"returns": "return 1", "fails": "error('boom')", "times_out": "while true do end",
            "out_of_memory": "local t = {} for i = 1, 1e8 do t[i] = string.rep('x', 64) .. i end"},
    "js": {"returns": "return 1", "fails": "throw new Error('boom')", "times_out": "for (;;) {}",
           "out_of_memory": "const a = []; for (let i = 0; ; i++) a.push(new ArrayBuffer(1 << 20))"},
    "tengo": {"returns": "export 1", "fails": "x := 1 / 0", "times_out": "for {}",
              "out_of_memory": 'text := import("text")\na := []\n'
                               'for i := 0; ; i++ { a = append(a, text.repeat("x", 65536) + i) }'},
}
#: Per language: its name for Runtime.run, the poison, the check and what the check gives in a clean VM.
CASES = {
    "lua": ("lua", LUA_POISON, LUA_CHECK, LUA_CLEAN),
    "js": ("javascript", JS_POISON, JS_CHECK, JS_CLEAN),
    "tengo": ("tengo", TENGO_POISON, TENGO_CHECK, TENGO_CLEAN),
}
EXPECTED_KIND = {"returns": None, "fails": "runtime_error", "times_out": "timeout", "out_of_memory": "memory_limit"}


def _runtime(tmp_path, isolation: str) -> Runtime:
    return Runtime(model="test", timeout=2, max_memory=32 * 1024 * 1024, isolation=isolation, cwd=tmp_path,
                   output=lambda text: None)


@pytest.mark.parametrize("isolation", ["process", "inline"])
@pytest.mark.parametrize("ending", list(EXPECTED_KIND))
@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
def test_nothing_a_spell_changed_reaches_the_next_run(tmp_path, lang, ending, isolation):
    rt = _runtime(tmp_path, isolation)
    language, poison, check, clean = CASES[lang]
    poison += "\n" + ENDINGS[lang][ending]
    kind = EXPECTED_KIND[ending]
    if kind is None:
        rt.run(source=poison, language=language)
    else:
        with pytest.raises(SpellError) as info:
            rt.run(source=poison, language=language)
        assert info.value.kind == kind, info.value.render()
    result = rt.run(source=check, language=language)
    assert result == clean


def test_runtime_survives_a_spell_killed_in_native_code(tmp_path):
    """A Lua pattern match cannot be interrupted by the VM: the worker is killed at
    timeout + 1 s, and the same Runtime runs the next spell normally."""
    rt = Runtime(model="test", timeout=1, cwd=tmp_path, output=lambda text: None)
    started = time.monotonic()
    with pytest.raises(SpellError) as info:
        rt.run(source='local s = string.rep("a", 20000)\nreturn s:find(".-.-.-.-b")', language="lua")
    assert info.value.kind == "timeout"
    assert time.monotonic() - started < 2.5
    assert rt.run(source="return ('a'):upper()", language="lua") == "A"


@pytest.mark.parametrize("isolation", ["process", "inline"])
def test_concurrent_runs_do_not_share_a_vm(tmp_path, isolation):
    rt = _runtime(tmp_path, isolation)
    rt.limits.timeout = 10
    writer = "shared = 'from A'\nstring.upper = function() return 'pwned' end\nreturn 'A done'"
    reader = "return {rawget(_G, 'shared') == nil, ('x'):upper()}"
    js_writer = "globalThis.shared = 'A'; String.prototype.toUpperCase = () => 'pwned'; return 'A done'"
    js_reader = "return [typeof shared, 'x'.toUpperCase()]"

    async def both():
        return await asyncio.gather(
            rt.arun(source=writer, language="lua"), rt.arun(source=reader, language="lua"),
            rt.arun(source=js_writer, language="javascript"), rt.arun(source=js_reader, language="javascript"),
            rt.arun(source=reader, language="lua"), rt.arun(source=js_reader, language="javascript"),
        )

    a, b, c, d, e, f = asyncio.run(both())
    assert (a, c) == ("A done", "A done")
    assert b == e == [True, "X"]
    assert d == f == ["undefined", "X"]
