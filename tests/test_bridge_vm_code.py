"""A bridge that needs code inside the VM declares it beside itself
(``Bridge.vm_code``) and the engine installs it on the bridge's global,
whatever the bridge: the preludes name no bridge."""

from __future__ import annotations

import re
from importlib import resources

import pytest
from tests.support.vm_probe import ProbeBridge

from llmspell import SpellError
from llmspell.runtime import default_bridges


def _runtime(isolated):
    rt, out = isolated.runtime()
    rt.add_bridge("probe", ProbeBridge)
    return rt, out


def test_js_installs_a_bridges_own_code(isolated):
    rt, _ = _runtime(isolated)
    got = rt.run(source="return [await probe.twice('ab'), probe.ids()]", language="javascript")
    assert got == ["ABAB", "shout"]


def test_lua_installs_a_bridges_own_code(isolated):
    rt, _ = _runtime(isolated)
    assert rt.run(source="return probe.twice('ab')", language="lua") == "ABAB"


@pytest.mark.parametrize(("language", "source", "line"), [
    ("lua", "local x = 1\nprobe.fail()", 2),
    ("javascript", "const x = 1;\nprobe.fail();", 2),
])
def test_errors_of_a_bridges_code_point_at_the_spell(isolated, language, source, line):
    rt, _ = _runtime(isolated)
    with pytest.raises(SpellError) as info:
        rt.run(source=source, language=language)
    assert info.value.kind == "invalid_argument"
    assert info.value.message == "probe.fail: on purpose"
    assert info.value.line == line


def test_a_language_without_code_sees_only_the_methods(isolated):
    rt, _ = _runtime(isolated)
    assert rt.run(source='export probe.shout("ab")', language="tengo") == "AB"
    with pytest.raises(SpellError) as info:
        rt.run(source='export probe.twice("ab")', language="tengo")
    assert (info.value.kind, info.value.message) == ("runtime_error", "not callable: undefined")


def test_the_spell_cannot_reach_the_toolkit(isolated):
    rt, _ = _runtime(isolated)
    # The object the bridge's code got is the global; the toolkit it was given is not on it.
    assert rt.run(source="return [typeof probe.vm, typeof vm, Object.isFrozen(probe)]",
                  language="javascript") == ["undefined", "undefined", True]
    assert rt.run(source="return {type(probe.vm), type(vm)}", language="lua") == ["nil", "nil"]


def test_the_preludes_name_no_bridge():
    names = [name for name, _ in default_bridges()]
    for prelude in ("js_prelude.js", "lua_prelude.lua"):
        text = resources.files("llmspell.engines").joinpath(prelude).read_text()
        code = re.sub(r"(//|--)[^\n]*", "", text)  # comments may mention them
        for name in names:
            assert f'"{name}"' not in code and f"'{name}'" not in code, (prelude, name)
