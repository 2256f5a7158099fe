"""Lua: no host object ever becomes a spell's value, and the host never runs spell code outside the limits.

Two escapes a red team found, attacked from every side:

* lupa turns a Python exception into a Lua value (a userdata of Python's
  wrapper metatable, shared by every Python callable in the VM).  A spell that
  caught one could overwrite that metatable's ``__call`` and so silence the
  instruction-count hook: ``--max-instructions`` and ``--timeout`` stopped
  working (only the worker kill ended the run; inline, the host hung).  Every
  path an error travels (``<close>`` handlers, coroutine close and wrap,
  metamethods, message handlers, re-thrown errors, conversions lupa makes in
  both directions) must hand the spell plain tables and strings only, and
  after any tampering the limits still end the run from inside the VM.
* Lua code the host triggers (a table key's ``__tostring``, ``__index`` of the
  global table, a ``__gc`` finalizer, ``__close``) ran on Lua's main thread,
  where no count hook runs, or inside the garbage collector, where Lua turns
  hooks off.  The host reads spell values raw, and finalizers cannot be
  installed at all.

Inline runs are made in a child process with a hard timeout, so that a
regression fails the test instead of hanging the suite.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.security.conftest import assert_clean, expect_error

TIMEOUT = 1.0
#: How long after its time limit a run may take to end (the VM notices within a millisecond).
SLACK = 0.5
LOOP = "function() while true do end end"

_INLINE = r"""
import json, sys, time
from llmspell import Policy, Runtime, SpellError

source, timeout, max_instructions = sys.argv[1], float(sys.argv[2]), sys.argv[3]
policy = Policy(timeout=timeout, max_instructions=int(max_instructions) if max_instructions else None)
printed = []
rt = Runtime(policy=policy, isolation="inline", output=printed.append)
started = time.monotonic()
try:
    out = {"ok": True, "result": rt.run(source=source, language="lua", filename="spell.lua")}
except SpellError as exc:
    out = {"ok": False, "kind": exc.kind, "message": exc.message}
out["elapsed"] = time.monotonic() - started
out["printed"] = "".join(printed)
print(json.dumps(out))
"""


def run_inline(source: str, cwd: Path, *, timeout: float = TIMEOUT, max_instructions: int | None = None) -> dict:
    """Run ``source`` with ``Runtime(isolation="inline")`` in a child process; a hang is a failure."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LLMSPELL_") and not k.endswith("_API_KEY")}
    env["HOME"] = str(cwd)
    try:
        proc = subprocess.run(
            [sys.executable, "-c", _INLINE, source, str(timeout), str(max_instructions or "")],
            cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout + 20,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the inline run never ended: spell code ran outside every limit")
    assert proc.returncode == 0, proc.stderr
    assert_clean(proc.stdout, proc.stderr)
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- 1. every path an error travels hands the spell plain data -----------------------

#: Calls that fail (or used to) inside a conversion lupa makes itself, or in the host.
FAILING = {
    # Python -> Lua: a str with a lone surrogate, which no UTF-8 Lua string holds
    "surrogate": """json.decode('"\\\\udcff"')""",
    "surrogate_in_table": """json.decode('["\\\\ud800"]')""",
    # Python -> Lua: an int that no Lua integer holds
    "huge_int": 'json.decode(string.rep("9", 30))',
    "enormous_int": 'json.decode(string.rep("9", 400))',
    # Lua -> Python: a string that is not UTF-8, in a sync and an async call
    "not_utf8_sync": 'json.encode("\\xff")',
    "not_utf8_log": 'log.info("\\xff", {["\\xfe"] = 1})',
    "not_utf8_async": 'tools.json_query({"\\xff"}, "x")',
    # plain host errors
    "host_error": 'json.decode("{")',
    "async_host_error": 'tools.file_read("/etc/passwd")',
}

_PROBE = r"""
local seen = {}
local function note(label, ...)
  for i = 1, select("#", ...) do seen[#seen + 1] = label .. "#" .. i .. "=" .. type((select(i, ...))) end
end
local function closer(label)
  return setmetatable({}, {__close = function(_, e) note(label, e) end})
end
local f = function() return CALL end

-- a <close> variable in a coroutine that dies, then is closed (the first report)
local co = coroutine.create(function()
  local g <close> = closer("dead_coroutine_close")
  local h <close> = closer("dead_coroutine_close2")
  f()
  error("after")
end)
note("resume", coroutine.resume(co))
note("close", coroutine.close(co))

-- a <close> variable in a coroutine closed while suspended after a caught failure
co = coroutine.create(function()
  local g <close> = closer("suspended_close")
  note("pcall_in_coroutine", pcall(f))
  coroutine.yield()
end)
coroutine.resume(co)
note("close_suspended", coroutine.close(co))

-- coroutine.wrap, and an error passing through two coroutines
note("wrap", pcall(coroutine.wrap(function() local g <close> = closer("wrap_close") f() error("x") end)))
note("nested", pcall(coroutine.wrap(function()
  local g <close> = closer("outer_close")
  coroutine.wrap(function() local h <close> = closer("inner_close") f() error("x") end)()
end)))

-- errors inside metamethods, with a <close> variable in the way
local mm = setmetatable({}, {
  __index = f, __newindex = f, __call = f, __add = f, __concat = f, __len = f, __eq = f, __lt = f,
  __le = f, __unm = f, __tostring = f, __name = "x",
})
local other = setmetatable({}, getmetatable(mm))
local tries = {
  index = function() return mm.x end, newindex = function() mm.x = 1 end, call = function() return mm() end,
  add = function() return mm + 1 end, concat = function() return mm .. "x" end, len = function() return #mm end,
  eq = function() return mm == other end, lt = function() return mm < other end,
  le = function() return mm <= other end, unm = function() return -mm end,
  tostring = function() return tostring(mm) end,
  format = function() return string.format("%s", mm) end,
  sort = function() table.sort({3, 2, 1}, function() f() return false end) end,
  gsub = function() return ("x"):gsub("x", function() f() end) end,
  close_handler = function()
    local a <close> = closer("after_close_handler")
    local b <close> = setmetatable({}, {__close = function() f() end})
  end,
}
for name, try in pairs(tries) do
  co = coroutine.create(function() local g <close> = closer("mm_" .. name .. "_close") return try() end)
  note("mm_" .. name, coroutine.resume(co))
  note("mm_" .. name .. "_closed", coroutine.close(co))
  note("mm_" .. name .. "_pcall", pcall(try))
end

-- message handlers, and errors caught then thrown again
note("xpcall", xpcall(f, function(e) note("handler", e) return e end))
note("xpcall_nested", xpcall(function() return xpcall(f, function(e) error(e, 0) end) end,
                             function(e) note("outer_handler", e) return e end))
note("rethrown", pcall(function()
  local g <close> = closer("rethrown_close")
  local ok, e = pcall(f)
  if not ok then error(e) end
end))
local ok, e = pcall(f)
note("tostring", tostring(e))
note("format", string.format("%s", e))
note("getmetatable", getmetatable(e))
return table.concat(seen, ",")
"""


@pytest.mark.parametrize("call", FAILING.values(), ids=FAILING.keys())
def test_lua_errors_reach_the_spell_as_plain_data_on_every_path(spell, call):
    result = spell("lua", _PROBE.replace("CALL", call))
    assert result.code == 0, result.err
    notes = result.out.strip().splitlines()[-1].split(",")
    assert len(notes) > 60, notes
    bad = [n for n in notes if n.endswith(("=userdata", "=thread"))]
    assert not bad, bad


def test_lua_error_in_a_main_chunk_close_handler_is_plain_data(spell):
    source = """
    local g <close> = setmetatable({}, {__close = function(_, e) print("closing with " .. type(e)) end})
    return json.decode('"\\\\udcff"') .. json.encode({[{}] = 1})
    """
    result = spell("lua", source)
    expect_error(result, "invalid_argument", contains="a table key must be a string or a number")
    assert "closing with table" in result.out, result.out


def test_lua_conversion_results_are_lua_values(spell):
    """A lone surrogate becomes U+FFFD; an int too big for Lua becomes a float (inf beyond float)."""
    source = """
    local a = json.decode('"a\\\\udcffb"')
    local b = json.decode('["\\\\ud800", {"k\\\\udfff": 1}]')
    local c = json.decode(string.rep("9", 30))
    local d = json.decode(string.rep("9", 400))
    local e = json.decode("[" .. string.rep("9", 400) .. "]")[1]
    local k = next(b[2])
    return {a == "a\\u{FFFD}b", b[1] == "\\u{FFFD}", k == "k\\u{FFFD}", math.type(c), c > 1e29, d == math.huge,
            e == math.huge}
    """
    result = spell("lua", source, "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == [True, True, True, "float", True, True, True]


def test_lua_file_names_that_are_not_utf8_reach_the_spell_as_text(spell, tree):
    (tree.allowed / os.fsdecode(b"odd-\xff.txt")).write_text("x")
    source = """
    local names = {}
    for _, entry in ipairs(tools.file_list("allowed")) do names[#names + 1] = entry.name end
    table.sort(names)
    return table.concat(names, "|")
    """
    result = spell("lua", source, "--allow-read=allowed")
    assert result.code == 0, result.err
    assert "odd-\ufffd.txt" in result.out


# -- 2. nothing a spell can reach silences the limits ---------------------------------

#: Catches every value it can (host errors through each path above), then tries to rewrite the
#: metatable of everything reachable (the Python wrapper's included, if one ever leaks), then spins.
_TAMPER = r"""
local caught = {}
local function keep(...) for i = 1, select("#", ...) do caught[#caught + 1] = (select(i, ...)) end end
local calls = {
  function() return json.decode('"\\udcff"') end, function() return json.encode("\xff") end,
  function() return json.decode(string.rep("9", 400)) end, function() return json.decode("{") end,
  function() return tools.file_read("/etc/passwd") end, function() return log.info("\xff") end,
}
for _, f in ipairs(calls) do
  local co = coroutine.create(function()
    local g <close> = setmetatable({}, {__close = function(_, e) keep(e) end})
    f()
    error("x")
  end)
  keep(coroutine.resume(co))
  keep(coroutine.close(co))
  keep(pcall(f))
  keep(xpcall(f, function(e) keep(e) return e end))
end
local noop = function() end
local seen = {}
local function tamper(v, depth)
  if seen[v] or depth > 6 then return end
  if type(v) == "table" or type(v) == "userdata" or type(v) == "function" then seen[v] = true end
  local ok, mt = pcall(getmetatable, v)
  if ok and type(mt) == "table" then
    for _, name in ipairs({"__call", "__index", "__newindex", "__tostring", "__gc", "__close", "__eq",
                           "__len", "__metatable", "__name"}) do
      pcall(rawset, mt, name, noop)
    end
    tamper(mt, depth + 1)
  end
  pcall(setmetatable, v, {__call = noop, __index = noop})
  if type(v) == "table" then
    for k, x in next, v do tamper(k, depth + 1) tamper(x, depth + 1) end
  end
end
tamper(_ENV, 0)
for _, v in ipairs(caught) do tamper(v, 0) end
tamper("", 0)
SPIN
"""

SPINS = {
    "plain_loop": "while true do end",
    "loop_in_pcall": "while true do pcall(function() while true do end end) end",
    "loop_with_calls": 'for i = 1, 1000 do pcall(json.encode, {1}) pcall(log.debug, "x") end while true do end',
    "loop_in_coroutine": "coroutine.wrap(function() while true do end end)()",
}


@pytest.mark.parametrize("spin", SPINS.values(), ids=SPINS.keys())
def test_lua_limits_hold_after_tampering_in_a_worker(spell, startup, spin):
    source = _TAMPER.replace("SPIN", spin)
    result = spell("lua", source, "--max-instructions", "3000000", "--timeout", "20")
    expect_error(result, "limit_exceeded", contains="instructions")
    result = spell("lua", source, "--timeout", str(TIMEOUT))
    expect_error(result, "timeout")
    assert "by force" not in result.err, "the VM did not stop the spell: the worker was killed"
    assert result.elapsed - startup < TIMEOUT + SLACK + 0.5, f"took {result.elapsed:.2f}s"


@pytest.mark.parametrize("spin", SPINS.values(), ids=SPINS.keys())
def test_lua_limits_hold_after_tampering_inline(tmp_path, spin):
    source = _TAMPER.replace("SPIN", spin)
    out = run_inline(source, tmp_path, timeout=20, max_instructions=3_000_000)
    assert out["kind"] == "limit_exceeded", out
    out = run_inline(source, tmp_path)
    assert out["kind"] == "timeout", out
    assert out["elapsed"] < TIMEOUT + SLACK, out


def test_lua_wrapper_metatables_are_locked(spell):
    """Error tables and bridge objects have locked metatables; the string one too."""
    source = """
    local ok, e = pcall(json.decode, "{")
    local t = {}
    for _, v in ipairs({e, llm, tools, json, ""}) do
      t[#t + 1] = tostring(getmetatable(v))
      t[#t + 1] = tostring((pcall(setmetatable, v, {})))
    end
    return table.concat(t, ",")
    """
    result = spell("lua", source)
    assert result.code == 0, result.err
    values = result.out.strip().split(",")
    assert "userdata" not in result.out
    # An error table, tools (its members are dynamic) and strings have locked metatables
    # (getmetatable gives false, setmetatable fails); llm and json are plain tables of the
    # spell's own, without a metatable, which the spell may give one.
    assert values == ["false", "false", "nil", "true", "false", "false", "nil", "true", "false", "false"], values


# -- 3. metamethods the host would trigger never run outside the limits ----------------

_KEY = f"setmetatable({{}}, {{__tostring = {LOOP}, __name = 'k'}})"
HOST_TRIGGERED = {
    "key_tostring_log": f'log.info("x", {{[{_KEY}] = 1}})',
    "key_tostring_json": f"json.encode({{[{_KEY}] = 1}})",
    "key_tostring_nested": f"json.encode({{a = {{b = {{[{_KEY}] = 1}}}}}})",
    "key_tostring_tool": f'tools.json_query({{[{_KEY}] = 1}}, "x")',
    "key_tostring_result": f"return {{[{_KEY}] = 1}}",
    "key_tostring_error": f'error({{kind = "x", message = "m", [{_KEY}] = 1}})',
    "message_tostring": f'error({{kind = "x", message = {_KEY}}})',
    "where_tostring": f'error({{kind = "x", message = "m", where = {_KEY}, hint = {_KEY}}})',
    "pairs_len_index": (f"local s = json.encode(setmetatable({{1, 2}}, {{__pairs = {LOOP}, __len = {LOOP}, "
                        f"__index = {LOOP}, __eq = {LOOP}}})) error({{kind = 'x', message = s}})"),
    "globals_index_then_host_error": f'setmetatable(_ENV, {{__index = {LOOP}}}) json.decode("{{")',
    "globals_index_then_async_error": f'setmetatable(_G, {{__index = {LOOP}}}) tools.file_read("/etc/passwd")',
    "debug_global": (f'debug = {{traceback = {LOOP}}} setmetatable(_G, {{__index = {LOOP}, __newindex = {LOOP}}})'
                     ' pcall(json.decode, "{") error({kind = "x", message = "m"})'),
    "close_on_coroutine_close": (f"local co = coroutine.create(function() local x <close> = setmetatable({{}}, "
                                 f"{{__close = {LOOP}}}) coroutine.yield() end) coroutine.resume(co) "
                                 "coroutine.close(co)"),
    "close_while_stopping": f"local x <close> = setmetatable({{}}, {{__close = {LOOP}}}) while true do end",
    "message_handler_loop": f'xpcall(json.decode, {LOOP}, "{{")',
    "gc_on_bridge_garbage": (f"for i = 1, 100 do pcall(setmetatable, {{}}, {{__gc = {LOOP}}}) end "
                             "local mt = {} local t = setmetatable({}, mt) mt.__gc = " + LOOP + " t = nil "
                             "for i = 1, 3000 do json.encode({string.rep('x', 1000), {1, 2, 3}}) end "
                             "while true do end"),
    "gc_at_end_of_run": (f"keep = {{}} for i = 1, 100 do local ok, t = pcall(setmetatable, {{}}, {{__gc = false}}) "
                         f"if ok then getmetatable(t).__gc = {LOOP} keep[i] = t end end "
                         "while true do end"),
}
#: What a run may end with: the VM's own limit, or a clear refusal of the value.
_ENDINGS = {"timeout", "invalid_argument", "runtime_error", "permission_denied", "x"}


@pytest.mark.parametrize("source", HOST_TRIGGERED.values(), ids=HOST_TRIGGERED.keys())
def test_lua_host_triggered_metamethods_stay_within_limits_in_a_worker(spell, startup, source):
    result = spell("lua", source, "--timeout", str(TIMEOUT))
    assert result.code == 1, result.out
    assert "by force" not in result.err, "spell code ran outside the VM's limits: the worker was killed"
    assert result.elapsed - startup < TIMEOUT + SLACK + 0.5, f"took {result.elapsed:.2f}s"


@pytest.mark.parametrize("source", HOST_TRIGGERED.values(), ids=HOST_TRIGGERED.keys())
def test_lua_host_triggered_metamethods_stay_within_limits_inline(tmp_path, source):
    out = run_inline(source, tmp_path)
    assert out["ok"] is False and out["kind"] in _ENDINGS, out
    assert out["elapsed"] < TIMEOUT + SLACK, out
    if "__pairs" in source:  # read raw: the array as it is
        assert out["message"] == "[1,2]", out


def test_lua_table_keys_must_be_strings_or_numbers(spell):
    result = spell("lua", 'log.info("x", {nested = {[{}] = 1}})')
    expect_error(result, "invalid_argument", contains="nested")
    assert "key" in result.err


def test_lua_finalizers_are_refused_with_a_clear_error(spell):
    result = spell("lua", "local t = setmetatable({}, {__gc = function() end})\nreturn 1")
    expect_error(result, "runtime_error", contains="__gc")
    assert "spell.lua:1" in result.err
    ok = spell("lua", "local mt = {__index = {a = 1}}\nreturn setmetatable({}, mt).a")
    assert ok.code == 0 and ok.out.strip() == "1", ok.err


# -- 4. nothing the host keeps points into a coroutine Lua has freed ------------------

#: lupa ties the wrapper of a value passed to Python to the Lua thread that passed it, and
#: freeing the wrapper after Lua collected that coroutine writes to freed memory (lupa's
#: issue #84).  The host kept such wrappers: a function passed as a tool handler, and the
#: traceback of a failed call (with its arguments) that lupa holds until the next failure.
_COROUTINE_GARBAGE = """
local handles = {}
for j = 1, 300 do
  local co = coroutine.create(function()
    handles[#handles + 1] = tools.register({name = "t" .. j, description = "x", handler = function() return j end})
    local ok = pcall(json.encode, {string.rep("x", j), {j}, function() end})
    assert(not ok)
  end)
  assert(coroutine.resume(co))
  if j % 10 == 0 then
    for i = 1, 3000 do local t = {i, tostring(i), string.rep("y", i % 300)} end
    pcall(json.decode, "{")
  end
end
local sum = 0
for _, h in ipairs(handles) do sum = sum + h.call({}) end
handles = nil
for i = 1, 100000 do local t = {i, tostring(i), string.rep("z", i % 200)} end
return sum
"""


def test_lua_values_from_dead_coroutines_never_crash_the_host(tmp_path):
    for _ in range(6):  # each run frees what the last one left; a crash kills the child
        out = run_inline(_COROUTINE_GARBAGE, tmp_path, timeout=60)
        assert out == {**out, "ok": True, "result": 300 * 301 // 2}, out


def test_lua_values_from_dead_coroutines_never_crash_the_worker(spell):
    for _ in range(3):
        result = spell("lua", _COROUTINE_GARBAGE, "--timeout", "60")
        assert result.code == 0 and result.out.strip() == str(300 * 301 // 2), result.err
