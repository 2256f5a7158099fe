"""Resource exhaustion of every kind, and the flags and policy entries that bound it.

CPU, memory (JS ArrayBuffers included), stack, output, call storms, regular
expression backtracking, spells stuck in a coroutine, a pcall loop or a
microtask loop: each ends with its exact error kind, and the time-bound ones
within the timeout plus one second (the CLI's own start-up, measured once,
is subtracted).
"""

from __future__ import annotations

import pytest
from tests.security.conftest import expect_error

TIMEOUT = 1.0
#: "Stopped within the timeout plus one second", with room for a loaded machine.
BOUND = TIMEOUT + 1.5

STUCK = [
    ("lua", "cpu_loop", "while true do end"),
    ("lua", "coroutine", "local co = coroutine.create(function() while true do end end)\ncoroutine.resume(co)"),
    ("lua", "coroutine_wrap_pingpong",
     "local co = coroutine.wrap(function() while true do coroutine.yield(1) end end)\nwhile true do co() end"),
    ("lua", "nested_coroutines", "local function dive(n) local co = coroutine.create(function() "
     "if n > 0 then dive(n - 1) end while true do end end) return coroutine.resume(co) end\nreturn dive(50)"),
    ("lua", "pcall_loop", "while true do pcall(function() while true do end end) end"),
    ("lua", "pcall_error_loop", "while true do pcall(error, 'x') end"),
    ("lua", "xpcall_handler_loop",
     "while true do xpcall(function() error('x') end, function() while true do end end) end"),
    ("lua", "pcall_in_coroutine",
     "local co = coroutine.wrap(function() while true do pcall(function() while true do end end) end end)\nco()"),
    ("lua", "pattern_backtracking", 'local s = string.rep("a", 20000)\nreturn string.find(s, ".-.-.-.-b")'),
    ("lua", "gsub_backtracking", 'local s = string.rep("a", 20000)\nreturn s:gsub(".-.-.-.-b", "")'),
    ("lua", "host_conversion_blowup", "local t = {} for i = 1, 40 do t = {t, t} end\nreturn json.encode(t)"),
    ("js", "cpu_loop", "for (;;) {}"),
    ("js", "try_catch_loop", "while (true) { try { for (;;) {} } catch (e) {} }"),
    ("js", "finally_loop", "for (;;) { try { throw 1 } catch (e) {} finally { continue } }"),
    ("js", "regex_backtracking", 'return /(a+)+c/.test("a".repeat(40))'),
    ("js", "await_loop", "for (;;) { await null }"),
    ("js", "promise_chain", "const loop = () => Promise.resolve().then(loop);\nloop();\nawait new Promise(() => {})"),
    ("js", "microtask_loop", "queueMicrotask(function f() { queueMicrotask(f) });\nreturn 1"),
    ("js", "async_generator_loop", "async function* g() { for (;;) yield 1 }\nfor await (const x of g()) {}"),
    ("js", "getter_loop_in_result", "return { get x() { for (;;) {} } }"),
    ("js", "getter_loop_in_bridge_argument", 'return await tools.json_query({ get x() { for (;;) {} } }, "x")'),
    ("js", "tojson_loop", "return await json.encode({ toJSON() { for (;;) {} } })"),
    ("js", "error_message_getter_loop", "throw { get message() { for (;;) {} } }"),
]


@pytest.mark.parametrize("lang,source", [s[::2] for s in STUCK], ids=[f"{s[0]}-{s[1]}" for s in STUCK])
def test_stuck_spell_is_stopped_within_timeout_plus_one_second(spell, startup, lang, source):
    # Some of these also allocate without end (a promise chain holds every promise):
    # the memory limit is set far away so that it is the time limit that is tested
    # (at the default 256 MB the two race, and either may win).
    result = spell(lang, source, "--timeout", str(TIMEOUT), "--max-memory", "2GB")
    expect_error(result, "timeout", contains="--timeout")
    assert result.elapsed - startup < BOUND, f"took {result.elapsed:.2f}s (start-up {startup:.2f}s)"


@pytest.mark.parametrize("source,kind", [
    ("error(setmetatable({}, {__index = function() while true do end end}))", "runtime_error"),
    ("error(setmetatable({}, {__tostring = function() while true do end end}))", "runtime_error"),
    ("return setmetatable({}, {__index = function() while true do end end})", None),
], ids=["error_object_index_loop", "error_object_tostring_loop", "result_index_loop"])
def test_host_reads_spell_tables_without_running_their_metamethods(spell, source, kind):
    # The host reads error and result tables raw, so a looping metamethod never runs
    # (outside the VM's hooks it would hang an inline caller).
    result = spell("lua", source, "--timeout", str(TIMEOUT))
    if kind is None:
        assert result.code == 0, result.err
    else:
        expect_error(result, kind)
    assert result.elapsed < TIMEOUT, f"took {result.elapsed:.2f}s"


MEMORY = [
    ("lua", "table_growth", "local t = {} for i = 1, 1e8 do t[i] = string.rep('x', 100) .. i end"),
    ("lua", "one_big_string", "return #string.rep('x', 1e9)"),
    ("lua", "concat_doubling", "local s = 'x' while true do s = s .. s end"),
    ("lua", "pcall_cannot_swallow",
     "local t = {} while true do pcall(function() for i = 1, 1e8 do t[#t + 1] = string.rep('y', 100) .. i end end)"
     " end"),
    ("lua", "coroutine_cannot_swallow", "local t = {}\nlocal co = coroutine.wrap(function() "
     "for i = 1, 1e8 do t[i] = string.rep('z', 100) .. i end end)\nprint(pcall(co))\nreturn 'survived'"),
    ("js", "array_growth", "const a = []; for (let i = 0; ; i++) a.push('x'.repeat(100) + i)"),
    ("js", "one_array_buffer", "return new ArrayBuffer(100 * 1024 * 1024).byteLength"),
    ("js", "many_array_buffers", "const l = []; for (;;) l.push(new Uint8Array(1 << 20))"),
    ("js", "typed_array_views", "const l = []; for (;;) l.push(new Float64Array(1 << 17))"),
    ("js", "object_growth", "const o = {}; for (let i = 0; ; i++) o['k' + i] = {i}"),
    ("js", "pending_bridge_calls", "const ps = []; for (;;) ps.push(tools.calculator('1+1'))"),
]


@pytest.mark.parametrize("lang,source", [s[::2] for s in MEMORY], ids=[f"{s[0]}-{s[1]}" for s in MEMORY])
def test_memory_exhaustion_is_memory_limit(spell, lang, source):
    result = spell(lang, source, "--max-memory", "32MB", "--timeout", "20")
    expect_error(result, "memory_limit", contains="--max-memory")
    assert "survived" not in result.out


def test_js_memory_limit_cannot_be_swallowed(spell):
    source = "try { const a = []; for (;;) a.push(new ArrayBuffer(1 << 20)) } catch (e) {}\nreturn 'survived'"
    result = spell("js", source, "--max-memory", "32MB")
    expect_error(result, "memory_limit")


def test_lua_host_side_memory_blowup_is_memory_limit(spell):
    source = "local s = string.rep('x', 1e6) local b = {} for i = 1, 2000 do b[i] = s end\nreturn #json.encode(b)"
    expect_error(spell("lua", source, "--max-memory", "32MB", "--timeout", "10"), "memory_limit")


STACK = [
    ("lua", "recursion", "local function f(n) return f(n + 1) + 1 end\nreturn f(1)", "stack overflow"),
    ("lua", "metamethod_recursion",
     "local t = setmetatable({}, {}) getmetatable(t).__index = function(s, k) return s[k] end\nreturn t.x",
     "stack overflow"),
    ("lua", "coroutine_recursion",
     "local function f() return coroutine.wrap(function() return f() end)() end\nreturn f()", "overflow"),
    ("js", "recursion", "function f() { return f() + 1 }\nreturn f()", "Maximum call stack size exceeded"),
    ("js", "getter_recursion", "const o = { get x() { return this.x } }\nreturn o.x", "Maximum call stack size"),
]


@pytest.mark.parametrize("lang,source,contains", [s[::2] + s[3:] for s in STACK], ids=[f"{s[0]}-{s[1]}" for s in STACK])
def test_stack_exhaustion_is_a_runtime_error(spell, lang, source, contains):
    expect_error(spell(lang, source, "--timeout", "10"), "runtime_error", contains=contains)


@pytest.mark.parametrize("lang", ["lua", "js"])
def test_deep_nesting_passed_to_the_host_is_invalid_argument(spell, lang):
    if lang == "lua":
        source = "local t = {} for i = 1, 100000 do t = {t} end\nreturn tools.json_query(t, 'a')"
    else:
        source = "let t = []; for (let i = 0; i < 100000; i++) t = [t];\nreturn await tools.json_query(t, 'a')"
    expect_error(spell(lang, source), "invalid_argument", contains="deep")


OUTPUT = [
    ("lua", "print_loop", "for i = 1, 100000 do print('hello world') end"),
    ("lua", "one_huge_print", "print(string.rep('x', 100000))"),
    ("js", "log_loop", "for (let i = 0; i < 100000; i++) console.log('hello world')"),
    ("js", "one_huge_log", "console.log('x'.repeat(100000))"),
    ("js", "print_loop", "for (let i = 0; i < 100000; i++) print('hello world')"),
]


@pytest.mark.parametrize("lang,source", [s[::2] for s in OUTPUT], ids=[f"{s[0]}-{s[1]}" for s in OUTPUT])
def test_output_flood_is_limit_exceeded(spell, lang, source):
    result = spell(lang, source, "--max-output", "1000")
    expect_error(result, "limit_exceeded", contains="output limit of 1000 bytes")
    assert len(result.out.encode()) <= 1000


def test_lua_output_limit_cannot_be_swallowed(spell):
    result = spell("lua", "pcall(print, string.rep('x', 5000))\nreturn 'survived'", "--max-output", "1000")
    expect_error(result, "limit_exceeded")


@pytest.mark.parametrize("source", [
    "local n = 0 while true do n = n + 1 end",
    "while true do pcall(function() local n = 0 while true do n = n + 1 end end) end",
    "local co = coroutine.wrap(function() while true do end end)\nco()",
    "for i = 1, 1e9 do local s = tostring(i) end",
], ids=["loop", "pcall_loop", "coroutine", "calls"])
def test_lua_instruction_budget(spell, source):
    result = spell("lua", source, "--max-instructions", "100000", "--timeout", "20")
    expect_error(result, "limit_exceeded", contains="limit of 100000 instructions")
    assert result.elapsed < 10


@pytest.mark.parametrize("lang", ["lua", "js"])
def test_llm_call_limit_cannot_be_swallowed(spell, lang):
    if lang == "lua":
        source = "for i = 1, 5 do pcall(llm.complete, {prompt = 'hi'}) end\nreturn 'survived'"
    else:
        source = "for (let i = 0; i < 5; i++) { try { await llm.complete({prompt: 'hi'}) } catch (e) {} }\n" \
                 "return 'survived'"
    result = spell(lang, source, "--max-llm-calls", "2", "--model", "test")
    expect_error(result, "limit_exceeded", contains="--max-llm-calls")
    assert "survived" not in result.out


@pytest.mark.parametrize("lang", ["lua", "js"])
def test_bridge_call_storm_is_limit_exceeded(spell, tree, lang):
    (tree.root / "llmspell.toml").write_text("[sandbox]\nmax_bridge_calls = 1000\n")
    if lang == "lua":
        source = "for i = 1, 1e7 do pcall(tools.calculator, '1+1') end\nreturn 'survived'"
    else:
        source = "const ps = []; for (let i = 0; i < 5000; i++) ps.push(tools.calculator('1+1').catch(() => 0));\n" \
                 "await Promise.all(ps); return 'survived'"
    result = spell(lang, source, "--timeout", "20")
    expect_error(result, "limit_exceeded", contains="bridge calls")
    assert "survived" not in result.out


@pytest.mark.parametrize("expression", ["9**9**9", "factorial(10**6)", "10**10**10", "(1" + "+1" * 600 + ")",
                                        "(" * 300 + "1" + ")" * 300])
def test_calculator_refuses_host_exhaustion(spell, expression):
    result = spell("lua", f"return tools.calculator('{expression}')", "--timeout", "10")
    expect_error(result, "invalid_argument", contains="calculator")
    assert result.elapsed < 8




@pytest.mark.parametrize("lang", ["lua", "js"])
@pytest.mark.parametrize("builtin,call_lua,call_js", [
    ("llm", "llm.complete({prompt = 'hi'})", "llm.complete({prompt: 'hi'})"),
    ("llm.complete", "llm.complete({prompt = 'hi'})", "llm.complete({prompt: 'hi'})"),
    ("tools.file_read", "tools.file_read('allowed/inside.txt')", "tools.file_read('allowed/inside.txt')"),
    ("tools.*", "tools.calculator('1+1')", "tools.calculator('1+1')"),
    ("env.get", "env.get('HOME')", "env.get('HOME')"),
], ids=["llm", "llm_complete", "file_read", "tools_glob", "env_get"])
def test_disabled_builtins_are_permission_denied(spell, tree, lang, builtin, call_lua, call_js):
    (tree.root / "llmspell.toml").write_text(f'[sandbox]\ndisabled_builtins = ["{builtin}"]\n')
    source = f"return {call_lua}" if lang == "lua" else f"return await {call_js}"
    result = spell(lang, source, "--allow-read=allowed", "--allow-env=HOME", "--model", "test")
    expect_error(result, "permission_denied", contains="disabled by the sandbox policy")


@pytest.mark.parametrize("source,flag", [
    ("for i = 1, 100000 do print('hello world') end", "--max-output"),
    ("while true do end", "--max-instructions"),
], ids=["output", "instructions"])
def test_lua_limit_errors_name_their_flag(spell, source, flag):
    result = spell("lua", source, flag, "1000")
    expect_error(result, "limit_exceeded", contains=flag)
