"""Host-facing behaviour of the Tengo interpreter that the reference's cases
do not cover: the public API, limits, interrupts, host errors and isolation."""

from __future__ import annotations

import pytest

from llmspell.engines.tengo.errors import TengoCompileError, TengoParseError, TengoRuntimeError
from llmspell.engines.tengo.objects import UNDEFINED, Builtin, Function, ImmutableMap, TengoError
from llmspell.engines.tengo.program import compile_program
from llmspell.errors import SpellError


def run(src: str, **values):
    names = ["out", *values]
    return compile_program(src, "t.tengo", globals_names=names).run({"out": UNDEFINED, **values}).globals


def test_globals_in_and_out():
    g = run("out = x * 2; y := out + 1", x=21)
    assert g["out"] == 42 and g["y"] == 43 and g["x"] == 21


def test_program_runs_again_with_fresh_state():
    prog = compile_program("out = n; m := {}; m.k = n", "t", globals_names=["out", "n"])
    assert prog.run({"n": 1}).globals["m"] == {"k": 1}
    assert prog.run({"n": 2}).globals["m"] == {"k": 2}


def test_int64_wraps_and_huge_shifts_are_instant():
    g = run("a := 9223372036854775807 + 1; b := 1 << 1000000000\n"
            "c := -1 >> 1000000000; d := 3 * 4611686018427387904")
    assert (g["a"], g["b"], g["c"], g["d"]) == (-(1 << 63), 0, -1, -(1 << 62))


def test_division_by_zero_is_a_runtime_error_with_position():
    with pytest.raises(TengoRuntimeError) as info:
        run("a := 1\nb := a / 0")
    assert str(info.value) == "Runtime Error: division by zero\n\tat t.tengo:2:6"
    assert info.value.kind == "runtime_error" and info.value.line == 2


def test_parse_and_compile_errors_are_reported_as_the_reference_does():
    with pytest.raises(TengoParseError) as p:
        compile_program("a := (1 + ", "m.tengo")
    assert str(p.value).startswith("Parse Error: ") and "\tat m.tengo:1:" in str(p.value)
    with pytest.raises(TengoCompileError) as c:
        compile_program("a := 1\nb = 2", "m.tengo")
    assert str(c.value) == "Compile Error: unresolved reference 'b'\n\tat m.tengo:2:1"


def test_self_tail_calls_do_not_grow_the_stack():
    src = "f := func(n, acc) { if n == 0 { return acc }; return f(n - 1, acc + n) }; out = f(200000, 0)"
    assert run(src)["out"] == 200000 * 200001 // 2


def test_deep_recursion_is_a_clean_stack_overflow():
    with pytest.raises(TengoRuntimeError) as info:
        run("a := 0\nb := func(n) { return a(n + 1) + 1 }\na = func(n) { return b(n) + 1 }\nout = a(0)")
    assert info.value.message == "stack overflow"
    # the program still works afterwards
    assert run("out = 1")["out"] == 1


def test_check_interrupt_stops_a_runaway_loop_and_propagates_unchanged():
    class Stop(Exception):
        pass

    calls = []

    def check():
        calls.append(1)
        if len(calls) == 3:
            raise Stop("budget")

    prog = compile_program("for { }", "t")
    with pytest.raises(Stop):
        prog.run(check_interrupt=check)
    assert len(calls) == 3


def test_check_interrupt_also_runs_in_recursion_without_loops():
    class Stop(Exception):
        pass

    def check():
        raise Stop()

    prog = compile_program("f := func(n) { if n == 0 { return 0 }; return 1 + f(n - 1) }\n"
                           "for i := 0; i < 1; i++ {}\ng := func() { return f(500) }\n"
                           "x := 0\nh := func() { x = g() + g() + g() }\nh()", "t")
    with pytest.raises(Stop):
        prog.run(check_interrupt=check)


def test_spell_errors_from_host_functions_pass_through_with_the_call_site():
    def fail(*args):
        raise SpellError("rate_limited", "slow down")

    prog = compile_program("x := 1\n\nout = host(x)", "s.tengo", globals_names=["out", "host"])
    with pytest.raises(SpellError) as info:
        prog.run({"host": Builtin("host", fail)})
    e = info.value
    assert type(e) is SpellError and e.kind == "rate_limited"
    assert (e.file, e.line, e.column) == ("s.tengo", 3, 7)


def test_tengo_errors_from_host_functions_become_runtime_errors():
    def fail(*args):
        raise TengoError("bad input")

    prog = compile_program("out = host(1)", "s", globals_names=["out", "host"])
    with pytest.raises(TengoRuntimeError, match="bad input"):
        prog.run({"host": Builtin("host", fail)})


def test_host_can_call_back_into_script_functions():
    prog = compile_program("k := 1\nout = func(a, b) { return a * b + k }", "t", globals_names=["out"])
    result = prog.run()
    fn = result.globals["out"]
    assert isinstance(fn, Function)
    assert result.call(fn, 6, 7) == 43
    with pytest.raises(TengoRuntimeError, match="wrong number of arguments"):
        result.call(fn, 1)


def test_script_cannot_reach_python_objects():
    for src in ("x := __import__", "x := eval", "x := __builtins__", "x := _U", "x := _idx"):
        with pytest.raises(TengoCompileError, match="unresolved reference"):
            compile_program(src, "t")
    g = run('m := {__class__: 1, __dict__: 2}; out = [m.__class__, m["__dict__"], m.__init__]')
    assert g["out"] == [1, 2, UNDEFINED]
    with pytest.raises(TengoRuntimeError, match="not indexable: builtin-function"):
        run("out = len.__name__")
    with pytest.raises(TengoRuntimeError, match="invalid index type"):
        run('out = "abc".__class__')
    with pytest.raises(TengoRuntimeError, match="not indexable"):
        run("out = (1).__class__")


def test_allocation_limit():
    # as the reference counts: the array, 101 comparisons, 100 appends, 100 increments
    src = "a := []\nfor i := 0; i < 100; i++ { a = append(a, i) }"
    compile_program(src, "t", max_allocs=302).run()
    with pytest.raises(TengoRuntimeError, match="allocation limit exceeded"):
        compile_program(src, "t", max_allocs=301).run()


def test_string_limit():
    prog = compile_program('s := "x"\nfor i := 0; i < 20; i++ { s += s }', "t", max_string_len=1000)
    with pytest.raises(TengoRuntimeError, match="exceeding string size limit"):
        prog.run()


def test_append_never_changes_another_reference():
    g = run("a := [1]\nb := a\na = append(a, 2)\nc := [a]\na = append(a, 3)\nout = [b, c[0], a]")
    assert g["out"] == [[1], [1, 2], [1, 2, 3]]


def test_source_modules_run_once_and_export_immutable_values():
    modules = {"counter": "n := 0\nexport {next: func() { n += 1; return n }}", "lib": 'export [1, 2]'}
    prog = compile_program('c1 := import("counter"); c2 := import("counter")\n'
                           'out = [c1.next(), c2.next(), is_immutable_array(import("lib"))]',
                           "t", globals_names=["out"], module_loader=modules.get)
    assert prog.run().globals["out"] == [1, 2, True]


def test_builtin_modules_from_the_loader():
    mod = ImmutableMap({"twice": Builtin("twice", lambda x: x * 2)})
    prog = compile_program('m := import("m"); out = m.twice(21)', "t", globals_names=["out"],
                           module_loader=lambda name: mod if name == "m" else None)
    assert prog.run().globals["out"] == 42
    with pytest.raises(TengoCompileError, match="module 'nope' not found"):
        compile_program('import("nope")', "t", module_loader=lambda name: None)


def test_as_module_gives_the_exported_value():
    prog = compile_program("a := 1\nif a { export [a, 2] }\nb := 3", "t", as_module=True)
    result = prog.run()
    assert list(result.exported) == [1, 2] and result.globals == {"a": 1}


def test_long_operator_chains_compile():
    src = "out = " + " + ".join(str(i) for i in range(400))
    assert run(src)["out"] == sum(range(400))


def test_closures_keep_their_own_loop_variables_inside_functions():
    src = """
f := func() {
    fns := []
    for i := 0; i < 3; i++ { x := i * 10; fns = append(fns, func() { x += 1; return x }) }
    for k, v in {a: 1} { fns = append(fns, func() { return k + string(v) }) }
    return [fns[0](), fns[1](), fns[2](), fns[0](), fns[3]()]
}
out = f()
"""
    assert run(src)["out"] == [1, 11, 21, 2, "a1"]


def test_bool_takes_exactly_one_argument_as_in_the_reference():
    assert compile_program("out = bool(1)", "t", globals_names=["out"]).run().globals["out"] is True
    with pytest.raises(TengoRuntimeError, match="wrong number of arguments"):
        compile_program("out = bool(1, false)", "t", globals_names=["out"]).run()
