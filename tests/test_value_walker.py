"""One conversion walker (values.make and values.read, with each language's
hooks) carries every value across: the same nesting limit, the same errors
naming where, and cycles told from depth, in every language."""

from __future__ import annotations

import pytest

from llmspell import SpellError, values

NESTED = {  # a value `depth` lists deep, returned by the spell
    "lua": "local v = 1 for i = 1, {depth} do v = {{v}} end return v",
    "javascript": "let v = 1; for (let i = 0; i < {depth}; i++) v = [v]; return v;",
    "tengo": "v := 1\nfor i := 0; i < {depth}; i++ {{ v = [v] }}\nexport v",
}
CYCLE = {
    "lua": "local t = {} t.self = t return t",
    "javascript": "const t = {}; t.self = t; return t;",
    "tengo": "t := {}\nt.self = t\nexport t",
}


def _nested(depth: int) -> object:
    v: object = 1
    for _ in range(depth):
        v = [v]
    return v


@pytest.mark.parametrize("lang", sorted(NESTED))
def test_every_language_nests_as_deep_as_python(isolated, lang):
    rt, _ = isolated.runtime(isolation="inline")
    limit = values.MAX_DEPTH
    assert rt.run(source=NESTED[lang].format(depth=limit), language=lang) == _nested(limit)
    with pytest.raises(SpellError) as info:
        rt.run(source=NESTED[lang].format(depth=limit + 1), language=lang)
    assert info.value.kind == "invalid_argument"
    assert f"nests more than {limit} levels deep" in info.value.message
    # The error names where, as the walker found it, not just "value".
    assert "[" in info.value.message.split(" nests")[0]
    with pytest.raises(SpellError):
        values.from_python(_nested(limit + 1))
    assert values.from_python(_nested(limit)) == _nested(limit)


@pytest.mark.parametrize("lang", sorted(CYCLE))
def test_a_cycle_is_named_in_every_language(isolated, lang):
    rt, _ = isolated.runtime(isolation="inline")
    with pytest.raises(SpellError) as info:
        rt.run(source=CYCLE[lang], language=lang)
    assert info.value.kind == "invalid_argument"
    assert "cycle" in info.value.message


@pytest.mark.parametrize("lang", ["lua", "tengo"])  # (JavaScript's json.decode runs in its own VM)
def test_host_values_going_in_have_the_same_limit(isolated, lang):
    # A bridge result one level deeper than the limit is refused on its way into the VM.
    depth = values.MAX_DEPTH + 1
    deep = "[" * depth + "]" * depth
    src = {"lua": f"return json.decode('{deep}')", "tengo": f'export json.decode("{deep}")'}[lang]
    rt, _ = isolated.runtime(isolation="inline")
    with pytest.raises(SpellError) as info:
        rt.run(source=src, language=lang)
    assert info.value.kind == "invalid_argument"
    assert f"nests more than {values.MAX_DEPTH} levels deep" in info.value.message
    ok = "[" * values.MAX_DEPTH + "]" * values.MAX_DEPTH
    src = {"lua": f"return json.decode('{ok}')", "tengo": f'export json.decode("{ok}")'}[lang]
    assert rt.run(source=src, language=lang) is not None
