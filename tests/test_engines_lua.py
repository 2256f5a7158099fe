"""The Lua engine: the sandboxed standard library, coroutines, limits, output."""

from __future__ import annotations

import pytest

from llmspell import SpellError


def run(isolated, src, params=None, **kwargs):
    kwargs.setdefault("model", "test")
    rt, out = isolated.runtime(**kwargs)
    return rt.run(source=src, language="lua", params=params, filename="s.lua"), "".join(out)


@pytest.mark.parametrize("name", ["io", "debug", "python", "package", "require", "dofile", "loadfile"])
def test_dangerous_globals_are_absent(isolated, name):
    assert run(isolated, f"return {name} == nil")[0] is True


def test_os_has_only_clock_time_date(isolated):
    r, _ = run(isolated, "local k = {} for n in pairs(os) do k[#k + 1] = n end table.sort(k) return k")
    assert set(r) <= {"clock", "time", "date", "difftime"}
    assert {"clock", "time", "date"} <= set(r)


def test_string_dump_is_absent_and_string_methods_work(isolated):
    r, _ = run(isolated, "return {string.dump == nil, ('abc'):upper(), ('x'):rep(3)}")
    assert r == [True, "ABC", "xxx"]


def test_load_refuses_bytecode_and_runs_text(isolated):
    r, _ = run(isolated, "local f = load('return 1 + 2')\nlocal ok = pcall(load, function() return nil end)\n"
                         "return {f(), ok}")
    assert r[0] == 3


def test_no_python_object_is_reachable(isolated):
    src = """
local found = {}
for k, v in pairs(_G) do
  if type(v) == 'userdata' then found[#found + 1] = k end
end
return #found
"""
    assert run(isolated, src)[0] == 0


def test_print_joins_arguments_with_tabs(isolated):
    _, out = run(isolated, "print('a', 1, nil, true, 2.5)")
    assert out == "a\t1\tnil\ttrue\t2.5\n"


def test_method_calls_with_colon_and_dot(isolated):
    r, _ = run(isolated, "return {llm:complete({prompt = 'x'}).model, llm.complete({prompt = 'x'}).model}")
    assert r == ["test", "test"]


def test_sync_methods_with_colon_and_dot(isolated):
    src = "return {json:encode({a = 1}), json.encode({a = 1}), json:decode('[2]')[1], json.decode('[2]')[1]}"
    assert run(isolated, src)[0] == ['{"a":1}', '{"a":1}', 2, 2]


def test_failed_sync_call_is_an_error_table_with_the_spell_line(isolated):
    src = "local ok, e = pcall(json.decode, '{')\nreturn {ok, e.kind, e.where, tostring(e):sub(1, 17)}"
    r, _ = run(isolated, src)
    assert r == [False, "invalid_argument", "s.lua:1", "invalid_argument:"]


def test_uncaught_sync_call_failure_names_its_line(isolated):
    with pytest.raises(SpellError) as info:
        run(isolated, "local x = 1\nlocal y = json.decode('{')\nreturn y")
    assert info.value.kind == "invalid_argument"
    assert (info.value.file, info.value.line) == ("s.lua", 2)


def test_bridge_calls_inside_coroutines(isolated):
    src = """
local co = coroutine.wrap(function(a)
  local r = llm.complete({prompt = a})
  local b = coroutine.yield(r.model)
  return b .. '!'
end)
local first = co('hi')
return {first, co('done')}
"""
    assert run(isolated, src)[0] == ["test", "done!"]


def test_pcall_cannot_swallow_the_time_limit(isolated):
    src = "local ok = pcall(function() while true do end end)\nprint('escaped')\nwhile true do end"
    with pytest.raises(SpellError) as info:
        run(isolated, src, timeout=0.5)
    assert info.value.kind == "timeout"


def test_runaway_inside_a_coroutine_is_stopped(isolated):
    src = "local co = coroutine.create(function() while true do end end)\nreturn coroutine.resume(co)"
    with pytest.raises(SpellError) as info:
        run(isolated, src, timeout=0.5)
    assert info.value.kind == "timeout"


def test_memory_limit_then_next_run_works(isolated):
    rt, _ = isolated.runtime(model="test", max_memory=64 * 1024 * 1024, timeout=30)
    with pytest.raises(SpellError) as info:
        rt.run(source="local t = {}\nfor i = 1, 1e9 do t[i] = string.rep('x', 64) .. i end", language="lua")
    assert info.value.kind == "memory_limit"
    assert rt.run(source="return 'alive'", language="lua") == "alive"


def test_each_run_gets_a_fresh_vm(isolated):
    rt, _ = isolated.runtime(model="test")
    rt.run(source="leaked = 'x'; string.leaked = 1", language="lua")
    assert rt.run(source="return {leaked == nil, string.leaked == nil}", language="lua") == [True, True]


def test_multiple_return_values_take_the_first_as_result(isolated):
    assert run(isolated, "return 1, 2, 3")[0] == 1


def test_integer_and_float_arithmetic(isolated):
    r, _ = run(isolated, "return {3 // 2, 3 / 2, math.type(2^2), math.maxinteger, 10 % 3}")
    assert r == [1, 1.5, "float", 2 ** 63 - 1, 1]
    assert type(r[3]) is int
