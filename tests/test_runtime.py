"""``llmspell.Runtime``, the embedding API: running files and source, params,
output, errors as SpellError, limits that leave the Runtime usable, concurrency."""

from __future__ import annotations

import asyncio
from typing import Annotated

import pytest

from llmspell import Runtime, SpellError
from llmspell.bridges.base import Bridge, method


def test_run_a_file_with_params_and_collect_output(isolated):
    isolated.write("spells/hello.lua",
                   "print('hi ' .. params.who)\nreturn {who = params.who, n = params.n + 1}")
    rt, out = isolated.runtime(model="test")
    assert rt.run("spells/hello.lua", {"who": "rt", "n": 1}) == {"who": "rt", "n": 2}
    assert out == ["hi rt\n"]


def test_run_source_needs_a_language(isolated):
    rt, _ = isolated.runtime()
    with pytest.raises(SpellError) as info:
        rt.run(source="return 1")
    assert info.value.kind == "invalid_argument"
    assert rt.run(source="return 1", language="lua") == 1
    assert rt.run(source="return 1", language="javascript") == 1


def test_missing_file_is_not_found(isolated):
    rt, _ = isolated.runtime()
    with pytest.raises(SpellError) as info:
        rt.run("nope.js")
    assert info.value.kind == "not_found"
    assert "nope.js" in info.value.message


def test_spell_error_carries_kind_message_and_location(isolated):
    isolated.write("bad.js",
                   "const a = 1;\nthrow Object.assign(new Error('nope'), {kind: 'validation_error'});\n")
    rt, _ = isolated.runtime()
    with pytest.raises(SpellError) as info:
        rt.run("bad.js")
    e = info.value
    assert (e.kind, e.message, e.file, e.line) == ("validation_error", "nope", "bad.js", 2)
    assert e.render().startswith("bad.js:2: validation_error: nope")


def test_model_option_is_the_default_model(isolated):
    rt, _ = isolated.runtime(model="test")
    assert rt.run(source="return llm.complete({prompt = 'x'}).model", language="lua") == "test"


@pytest.mark.parametrize("lang,src", [("lua", "while true do end"), ("javascript", "for (;;) {}")])
def test_timeout_then_the_runtime_still_works(isolated, lang, src):
    rt, _ = isolated.runtime(timeout=0.5)
    with pytest.raises(SpellError) as info:
        rt.run(source=src, language=lang)
    assert info.value.kind == "timeout"
    assert rt.run(source="return 'next run works'", language=lang) == "next run works"


def test_concurrent_runs_are_isolated(isolated):
    rt, _ = isolated.runtime(model="test")

    async def main():
        lua = [rt.arun(source="x = params.i\nllm.complete({prompt = 'a'})\nreturn x", language="lua",
                       params={"i": i}) for i in range(4)]
        js = [rt.arun(source="globalThis.x = params.i; await llm.complete({prompt: 'a'}); return x",
                      language="javascript", params={"i": i}) for i in range(4)]
        return await asyncio.gather(*lua, *js)

    assert asyncio.run(main()) == [0, 1, 2, 3, 0, 1, 2, 3]


def test_config_file_is_read_from_cwd(isolated):
    isolated.config('[llm]\ndefault_model = "test"\n[llm.aliases]\n"fast" = "test"\n')
    rt = Runtime(cwd=isolated.cwd, output=lambda s: None)
    src = "return llm.complete({model = 'fast', prompt = 'x'}).model"
    assert rt.run(source=src, language="lua") == "test"
    assert rt.run(source="return (await llm.complete({prompt: 'x'})).model", language="javascript") == "test"


def test_printing_goes_to_stdout_by_default(isolated, capfd):
    rt = Runtime(cwd=isolated.cwd)
    rt.run(source="print('to stdout')", language="lua")
    assert "to stdout\n" in capfd.readouterr().out


def test_check_reports_syntax_without_running(isolated):
    isolated.write("ok.lua", "print('must not run')")
    isolated.write("bad.lua", "local = 1")
    rt, out = isolated.runtime()
    rt.check("ok.lua")
    assert out == []
    with pytest.raises(SpellError) as info:
        rt.check("bad.lua")
    assert info.value.kind == "syntax_error" and info.value.line == 1


class _Foo(Bridge):
    name = "foo"

    @method
    def twice(self, n: Annotated[int, "a number"]) -> int:
        """Return 2n."""
        return 2 * n


@pytest.mark.parametrize("name, src", [
    ("foo.lua", "return foo.twice(21)"),
    ("foo.js", "return await foo.twice(21);"),
    ("foo.tengo", "export foo.twice(21)"),
])
def test_check_and_run_agree_on_an_added_bridge(isolated, name, src):
    isolated.write(name, src)
    rt, _ = isolated.runtime()
    rt.add_bridge("foo", _Foo)
    assert "foo" in rt.global_names() and "params" in rt.global_names()
    rt.check(name)
    assert rt.run(name) == 42


@pytest.mark.parametrize("lang, call", [("lua", "json.encode(%d)"), ("lua", "log.info('%d')"),
                                        ("javascript", "await log.info('%d')"), ("tengo", "json.encode(%d)")])
def test_bridge_call_budget_is_exact(isolated, lang, call):
    """max_bridge_calls counts every call, the fast paths' included: N calls run, call N+1 ends the run."""
    from llmspell import Policy

    source = "\n".join(call % i for i in range(3))
    rt, _ = isolated.runtime(policy=Policy(max_bridge_calls=3))
    rt.run(source=source, language=lang)
    with pytest.raises(SpellError) as info:
        rt.run(source=source + "\n" + call % 3, language=lang)
    assert info.value.kind == "limit_exceeded"
    assert "more than 3 bridge calls" in info.value.message

