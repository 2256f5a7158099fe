"""Values that crossed differently by language, now the same in Lua, JavaScript and Tengo.

- a whole float where an integer is declared (Lua's ``512/2`` is ``256.0``) is
  that integer in every language; ``256.5`` is a clear ``invalid_argument``;
- a JavaScript object made by a class (``Date``, ``Map``, ``Set``, ``RegExp``,
  a ``Promise``, the spell's own class) is refused, saying what to pass,
  instead of arriving as ``{}``;
- ``--param`` reads strict JSON: ``NaN``, ``Infinity``, ``0x10``, ``1e400`` stay strings;
- the one nesting limit (values.MAX_DEPTH) counts from each argument in every
  language (JavaScript counted the list of arguments as a level).
"""

from __future__ import annotations

import json
from typing import Annotated

import pytest

from llmspell.bridges.base import Bridge, method
from llmspell.errors import SpellError
from llmspell.values import MAX_DEPTH

LANGS = {"lua": "lua", "js": "javascript", "tengo": "tengo"}


class _Count(Bridge):
    """An embedder's bridge with an integer argument (the fast path of MethodSpec.bind)."""

    name = "count"

    @method
    def twice(self, n: Annotated[int, "a whole number"]) -> int:
        """Return 2n."""
        return 2 * n


def _run(isolated, lang: str, source: str) -> object:
    rt, _ = isolated.runtime(model="test")
    rt.add_bridge("count", _Count)
    return rt.run(source=source, language=LANGS[lang], filename=f"s.{lang}")


HALF = {  # max_tokens = 512 / 2, a whole float in Lua and Tengo
    "lua": 'local n = 512\nreturn {math.type(n / 2), llm.complete({prompt = "hi", max_tokens = n / 2}).content}',
    "js": 'const n = 512;\nreturn [typeof (n / 2), (await llm.complete({prompt: "hi", max_tokens: n / 2})).content]',
    "tengo": 'n := 512.0\nexport [type_name(n / 2), llm.complete({prompt: "hi", max_tokens: n / 2}).content]',
}


@pytest.mark.parametrize("lang", LANGS)
def test_a_whole_float_is_the_integer_declared(isolated, lang):
    kind, content = _run(isolated, lang, HALF[lang])
    assert kind == {"lua": "float", "js": "number", "tengo": "float"}[lang]
    assert content == "success (no tool calls)"


@pytest.mark.parametrize("lang", LANGS)
def test_a_whole_float_is_the_integer_of_a_scalar_argument(isolated, lang):
    source = {"lua": "return count.twice(42 / 2)", "js": "return await count.twice(42 / 2)",
              "tengo": "export count.twice(42.0 / 2)"}[lang]
    assert _run(isolated, lang, source) == 42


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("value, name", [("256.5", "max_tokens"), ("1e300", "max_tokens")])
def test_a_fractional_or_huge_float_is_not_an_integer(isolated, lang, value, name):
    source = {"lua": f'return llm.complete({{prompt = "hi", max_tokens = {value}}})',
              "js": f'return await llm.complete({{prompt: "hi", max_tokens: {value}}})',
              "tengo": f'export llm.complete({{prompt: "hi", max_tokens: {value}}})'}[lang]
    with pytest.raises(SpellError) as e:
        _run(isolated, lang, source)
    assert e.value.kind == "invalid_argument"
    assert e.value.message == f"llm.complete: {name} must be an integer, not a number"


@pytest.mark.parametrize("lang", LANGS)
def test_a_fractional_scalar_argument_is_not_an_integer(isolated, lang):
    source = {"lua": "return count.twice(2.5)", "js": "return await count.twice(2.5)",
              "tengo": "x := count.twice(2.5)\nexport x.value"}[lang]
    if lang == "tengo":
        assert _run(isolated, lang, source) == {"kind": "invalid_argument",
                                                "message": "count.twice: n must be an integer, not a number"}
        return
    with pytest.raises(SpellError) as e:
        _run(isolated, lang, source)
    assert (e.value.kind, e.value.message) == ("invalid_argument", "count.twice: n must be an integer, not a number")


@pytest.mark.parametrize("value, name, instead", [
    ("new Date(0)", "a Date", "its text (date.toISOString())"),
    ("new Map([[1, 2]])", "a Map", "an object (Object.fromEntries(map))"),
    ("new Set([1])", "a Set", "an array ([...set])"),
    ("/a+/", "a RegExp", "plain data (an object literal, e.g. {...value})"),
    ("Promise.resolve(1)", "a Promise", "its value (await it first)"),
    ("new (class Point { constructor() { this.x = 1; } })()", "a Point",
     "plain data (an object literal, e.g. {...value})"),
])
@pytest.mark.parametrize("how", ["argument", "nested", "result"])
def test_js_objects_made_by_a_class_do_not_cross_as_empty_objects(isolated, value, name, instead, how):
    source = {"argument": f"return await log.info('x', {{when: {value}}})",
              "nested": f"return json.decode(json.encode(1)) + await count.twice([{value}])",
              "result": f"return {{when: {value}}}"}[how]
    path = {"argument": "when", "nested": "[0]", "result": "result.when"}[how]
    with pytest.raises(SpellError) as e:
        _run(isolated, "js", source)
    assert e.value.kind == "invalid_argument"
    assert e.value.message.endswith(f"{path}: {name} cannot be passed to the host; pass {instead}"), e.value.message


def test_js_plain_objects_still_cross(isolated):
    source = "const o = Object.create(null); o.a = 1;\nreturn [o, {b: [1, {c: 2}]}]"
    assert _run(isolated, "js", source) == [{"a": 1}, {"b": [1, {"c": 2}]}]


@pytest.mark.parametrize("text, expected", [
    ("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"), ("1e400", "1e400"),
    ("-1e400", "-1e400"), ("0x10", "0x10"), ("[1,NaN]", "[1,NaN]"), ('{"a": Infinity}', '{"a": Infinity}'),
    ("1e300", 1e300), ("-0.5", -0.5), ("42", 42), ('{"a": [1, 2.5]}', {"a": [1, 2.5]}),
])
def test_param_values_are_strict_json_or_the_text_given(isolated, text, expected):
    isolated.write("p.js", "return params.x")
    p = isolated.cli("run", "p.js", "--json", "--param", f"x={text}")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == expected


def _nest(lang: str, n: int) -> str:
    """Source of a value that is n arrays around 1."""
    return {"lua": f"(function() local v = 1; for i = 1, {n} do v = {{v}} end; return v end)()",
            "js": f"(() => {{ let v = 1; for (let i = 0; i < {n}; i++) v = [v]; return v; }})()",
            "tengo": f"func() {{ v := 1; for i := 0; i < {n}; i++ {{ v = [v] }}; return v }}()"}[lang]


@pytest.mark.parametrize("lang", LANGS)
def test_the_one_nesting_limit_counts_from_each_argument(isolated, lang):
    """{v = <MAX_DEPTH - 1 arrays>} is MAX_DEPTH containers: it crosses; one more does not."""
    results = []
    for n in (MAX_DEPTH - 1, MAX_DEPTH):
        sep = " =" if lang == "lua" else ":"
        call = f'log.info("x", {{v{sep} {_nest(lang, n)}}})'
        source = {"lua": f"local ok, e = pcall(function() return {call} end)\nreturn ok or e.kind .. ': ' .. e.message",
                  "js": f"try {{ await {call}; return true; }} catch (e) {{ return e.kind + ': ' + e.message; }}",
                  "tengo": f"r := {call}\nexport is_error(r) ? r.value.kind + \": \" + r.value.message : true"}[lang]
        results.append(_run(isolated, lang, source))
    assert results[0] is True
    assert results[1].startswith("invalid_argument: log.info: v") or results[1].startswith("invalid_argument: v")
    assert results[1].endswith(f"nests more than {MAX_DEPTH} levels deep (is it a cycle?)")
