"""The JavaScript engine: top-level await and return, console, promises, the
async iterator, limits, isolation."""

from __future__ import annotations

import pytest

from llmspell import SpellError


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
