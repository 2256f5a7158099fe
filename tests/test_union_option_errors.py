"""An option that takes one of several kinds (a model name or a list of names; a tool name or a
tool object) names the place in the spell's value that is wrong and the kinds it may be, never
pydantic's internal name of a union member (``model.str``, ``tools[1].is-instance[...]``)."""

from __future__ import annotations

import pytest

SPELLS = {
    "lua": ("local ok, e = pcall(llm.agent, {tools = {42}}) print(e.message)\n"
            "ok, e = pcall(llm.complete, {model = {'test', 7}, prompt = 'x'}) print(e.message)\n"
            "ok, e = pcall(llm.complete, {model = 5, prompt = 'x'}) print(e.message)\n", "[1]", "[2]"),
    "js": ("for (const f of [() => llm.agent({tools: [42]}), () => llm.complete({model: ['test', 7], prompt: 'x'}),"
           " () => llm.complete({model: 5, prompt: 'x'})]) {\n"
           "  try { await f() } catch (e) { console.log(e.message) }\n}\n",
           "[0]", "[1]"),
    "tengo": ("for f in [func() { return llm.agent({tools: [42]}) }, "
              "func() { return llm.complete({model: [\"test\", 7], prompt: \"x\"}) }, "
              "func() { return llm.complete({model: 5, prompt: \"x\"}) }] { fmt.println(f().value.message) }\n",
              "[0]", "[1]"),
}


@pytest.mark.parametrize("language", sorted(SPELLS))
def test_a_value_that_fits_no_kind_is_named_by_its_place_and_the_kinds(isolated, language):
    source, first, second = SPELLS[language]
    rt, out = isolated.runtime(model="test", isolation="inline")
    rt.run(source=source, language=language)
    lines = "".join(out).splitlines()
    seq = {"lua": "a list (a sequence table)", "js": "an array", "tengo": "an array"}[language]
    assert lines[0] == f"llm.agent: tools{first} must be a string or a handle, not an integer"
    assert lines[1] == f"llm.complete: model{second} must be a string, not an integer"
    assert lines[2] == f"llm.complete: model must be a string or {seq}, not an integer"
