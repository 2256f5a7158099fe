"""The JavaScript engine: top-level await and return, console, promises, the
async iterator, limits, isolation."""

from __future__ import annotations

from typing import Annotated, Any

import pytest

from llmspell import SpellError, values
from llmspell.bridges.base import Bridge, method
from llmspell.engines import javascript


def run(isolated, src, params=None, **kwargs):
    kwargs.setdefault("model", "test")
    rt, out = isolated.runtime(**kwargs)
    return rt.run(source=src, language="javascript", params=params, filename="s.js"), "".join(out)


def test_top_level_await_and_return(isolated):
    r, _ = run(isolated, "const r = await llm.complete({prompt: 'x'});\nreturn r.model + '!'")
    assert r == "test!"


def test_no_return_is_null(isolated):
    assert run(isolated, "const x = 1;")[0] is None


def test_console_log_formats_like_node(isolated):
    _, out = run(isolated, "console.log('a', 1, true, null, undefined, [1, 'b'], {k: 'v'}, 2.5)")
    assert out == "a 1 true null undefined [ 1, \"b\" ] { k: \"v\" } 2.5\n"


def test_console_error_goes_to_the_log_not_stdout(isolated):
    _, out = run(isolated, "console.error('to the log'); console.log('to stdout')")
    assert out == "to stdout\n"


@pytest.mark.parametrize("name", ["require", "process", "fetch", "XMLHttpRequest", "Deno", "std", "os"])
def test_host_access_globals_are_absent(isolated, name):
    assert run(isolated, f"return typeof {name}")[0] == "undefined"


def test_bridge_globals_cannot_be_replaced(isolated):
    src = "try { llm.complete = () => 'hacked'; } catch (e) {}\n" \
          "return (await llm.complete({prompt: 'x'})).model"
    assert run(isolated, src)[0] == "test"


def test_promise_all_and_async_functions(isolated):
    src = """
async function ask(p) { const r = await llm.complete({prompt: p}); return p + ':' + r.model; }
return await Promise.all(['a', 'b', 'c'].map(ask));
"""
    assert run(isolated, src)[0] == ["a:test", "b:test", "c:test"]


def test_rejections_are_catchable_with_then_catch(isolated):
    src = "return await llm.complete({}).then(() => 'ok', (e) => e.kind)"
    assert run(isolated, src)[0] == "invalid_argument"


def test_async_iterator_stream_in_order(isolated):
    src = "const p = []; for await (const x of llm.stream({prompt: 'q'})) p.push(x); return p.join('')"
    assert run(isolated, src)[0] == "success (no tool calls)"


def test_an_unsettled_promise_fails_instead_of_hanging(isolated):
    with pytest.raises(SpellError) as info:
        run(isolated, "await new Promise(() => {});", timeout=10)
    assert "never" in info.value.message or "nothing will settle" in info.value.message


def test_runaway_then_next_run_works(isolated):
    rt, _ = isolated.runtime(model="test", timeout=0.5)
    with pytest.raises(SpellError) as info:
        rt.run(source="while (true) {}", language="javascript")
    assert info.value.kind == "timeout"
    assert rt.run(source="return 'alive'", language="javascript") == "alive"


def test_runaway_after_an_await_is_stopped(isolated):
    with pytest.raises(SpellError) as info:
        run(isolated, "await llm.complete({prompt: 'x'});\nwhile (true) {}", timeout=0.5)
    assert info.value.kind == "timeout"


def test_memory_limit_then_next_run_works(isolated):
    rt, _ = isolated.runtime(model="test", max_memory=64 * 1024 * 1024, timeout=30)
    with pytest.raises(SpellError) as info:
        src = "const a = [];\nfor (let i = 0; ; i++) a.push('x'.repeat(64) + i);"
        rt.run(source=src, language="javascript")
    assert info.value.kind == "memory_limit"
    assert rt.run(source="return 'alive'", language="javascript") == "alive"


def test_each_run_gets_a_fresh_context(isolated):
    rt, _ = isolated.runtime(model="test")
    rt.run(source="globalThis.leaked = 1; Array.prototype.evil = 1;", language="javascript")
    r = rt.run(source="return [typeof leaked, [].evil === undefined]", language="javascript")
    assert r == ["undefined", True]


def test_mjs_extension_is_javascript(isolated):
    isolated.write("m.mjs", "return 40 + 2")
    rt, _ = isolated.runtime()
    assert rt.run("m.mjs") == 42


# -- long strings: QuickJS ropes on every way out of the VM ------------------------------------------

class _Echo(Bridge):
    name = "echo"

    @method
    def text(self, s: Annotated[str, "a string"]) -> str:
        """Return s."""
        return s

    @method
    def one(self, x: Annotated[Any, "anything"]) -> Any:
        """Return x."""
        return x


#: A rope: QuickJS makes ``a + b`` one lazily when b is longer than 512 characters.
_ROPE = "const R = 'a' + 'é😀'.repeat(300) + 'z';\n"
_ROPE_VALUE = "a" + "é😀" * 300 + "z"


@pytest.mark.parametrize("src, expected", [
    ("return await echo.text(R)", _ROPE_VALUE),                      # a lone call with plain arguments
    ("return await echo.one({k: R})", {"k": _ROPE_VALUE}),            # a lone call with a table
    ("return await echo.text(`${R}${R}`)", _ROPE_VALUE * 2),          # a template literal
    ("return await Promise.all([echo.text(R), echo.one([R, 1])])", [_ROPE_VALUE, [_ROPE_VALUE, 1]]),  # a batch
    ("await log.info(R); await log.warn(R, {f: R}); return 1", 1),
    ("return (await llm.complete({prompt: R, system: R})).model", "test"),  # an async call
    ("return R", _ROPE_VALUE),
    ("return {a: [R]}", {"a": [_ROPE_VALUE]}),
    ("tools.register({name: 't', description: 'd', parameters: {}, handler: () => R});\n"
     "return await tools.call('t', {})", _ROPE_VALUE),               # a spell function's result
    ("tools.register({name: 't', description: 'd', parameters: {v: {}}, handler: (a) => a.v + R});\n"
     "return await tools.call('t', {v: R})", _ROPE_VALUE * 2),
])
def test_long_strings_leave_the_vm_every_way(isolated, src, expected):
    rt, _ = isolated.runtime(model="test")
    rt.add_bridge("echo", _Echo)
    assert rt.run(source=_ROPE + src, language="javascript", filename="s.js") == expected


def test_long_strings_are_printed_whole(isolated):
    _, out = run(isolated, _ROPE + "console.log(R); print(R + R); console.log({k: R})")
    assert out == f"{_ROPE_VALUE}\n{_ROPE_VALUE * 2}\n{{ k: \"{_ROPE_VALUE}\" }}\n"


@pytest.mark.parametrize("src, message, line", [
    ("throw new Error(R)", _ROPE_VALUE, 2),
    ("throw R", "uncaught " + _ROPE_VALUE, None),  # a thrown string has no stack
    ("await echo.text(R); null.x", "TypeError: cannot read property 'x' of null", 2),
])
def test_long_strings_in_errors(isolated, src, message, line):
    rt, _ = isolated.runtime(model="test")
    rt.add_bridge("echo", _Echo)
    with pytest.raises(SpellError) as e:
        rt.run(source=_ROPE + src, language="javascript", filename="s.js")
    assert e.value.kind == "runtime_error" and e.value.message == message
    assert e.value.line == line


@pytest.mark.parametrize("call, what", [
    ("log.info(Symbol('s'))", "a Symbol"),
    ("log.info(10n)", "a BigInt"),
    ("log.info('a', 10n)", "a BigInt"),           # was sent as the number 10
    ("log.info('a', Symbol('s'))", "a Symbol"),   # was a bare TypeError
    ("llm.complete(12345678901234567890n)", "a BigInt"),
    ("tools.call('calculator', Symbol.iterator)", "a Symbol"),
    ("log.info({a: [1n]})", "a BigInt"),
])
def test_a_symbol_or_bigint_argument_is_a_clear_invalid_argument(isolated, call, what):
    src = f"try {{ await {call}; return 'sent' }} catch (e) {{ return [e.kind, e.message] }}"
    kind, message = run(isolated, src)[0]
    assert kind == "invalid_argument" and message.endswith(f"{what} cannot be passed to the host"), message


# -- the prelude's numbers are Python's --------------------------------------------------------------------

def _nested(depth: int) -> Any:
    v: Any = 1
    for _ in range(depth):
        v = [v]
    return v


@pytest.mark.parametrize("max_depth", [None, 10, 100])
def test_the_prelude_nests_as_deep_as_python(isolated, monkeypatch, max_depth):
    # The prelude reads values.MAX_DEPTH when a VM starts: one number, whatever it is set to.
    if max_depth is not None:
        monkeypatch.setattr(values, "MAX_DEPTH", max_depth)
    rt, _ = isolated.runtime(isolation="inline")
    limit = values.MAX_DEPTH
    for depth in (limit - 1, limit, limit + 1):
        src = f"let v = 1; for (let i = 0; i < {depth}; i++) v = [v]; return v;"
        try:
            values.from_python(_nested(depth))
            python_refuses = False
        except SpellError:
            python_refuses = True
        try:
            assert rt.run(source=src, language="javascript") == _nested(depth)
            js_refuses = False
        except SpellError as e:
            assert f"nests more than {limit} levels deep" in e.message, e.message
            js_refuses = True
        assert (depth, js_refuses) == (depth, python_refuses)


@pytest.mark.parametrize("offset", [None, 50_000, 200_000])
def test_a_failed_calls_stack_shows_only_the_spells_lines(isolated, monkeypatch, offset):
    # The prelude starts at javascript._PRELUDE_OFFSET and hides its own frames below that line, by the same number.
    if offset is not None:
        monkeypatch.setattr(javascript, "_PRELUDE_OFFSET", offset)
    rt, _ = isolated.runtime(isolation="inline")
    src = ("async function ask() {\n  return await llm.complete({model: 'nope:x', prompt: 'hi'});\n}\n"
           "try { await ask(); } catch (e) { return e.stack; }")
    stack = rt.run(source=src, language="javascript").splitlines()
    assert stack and all(int(line.rsplit(":", 2)[1]) <= 4 for line in stack), stack
