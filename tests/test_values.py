"""Values crossing between spells and the host, both ways, in Lua and JavaScript."""

from __future__ import annotations

import pytest

from llmspell import SpellError


def run(isolated, lang, src, params=None):
    rt, out = isolated.runtime(model="test", timeout=20)
    return rt.run(source=src, language={"lua": "lua", "js": "javascript", "tengo": "tengo"}[lang], params=params,
                  filename=f"v.{lang}")


NESTED = {"name": "x", "list": [1, 2, [3, {"deep": True}]], "map": {"a": None, "b": 1.5, "c": "s"},
          "big": 2 ** 40, "neg": -3, "unicode": "é✓🎉"}


@pytest.mark.parametrize("lang", ["lua", "js"])
def test_params_round_trip_unchanged(isolated, lang):
    result = run(isolated, lang, "return params.data", {"data": NESTED})
    expected = dict(NESTED)
    expected["map"] = {"b": 1.5, "c": "s"} if lang == "lua" else NESTED["map"]  # nil is no value in Lua
    assert result == expected


def test_lua_sequences_are_one_based_lists(isolated):
    src = """
local l = params.l
return {first = l[1], last = l[#l], n = #l, zero = l[0] == nil, seq = {10, 20, 30}}
"""
    assert run(isolated, "lua", src, {"l": ["a", "b", "c"]}) == {
        "first": "a", "last": "c", "n": 3, "zero": True, "seq": [10, 20, 30]}


def test_lua_maps_sparse_and_mixed_tables_become_objects(isolated):
    src = "return {map = {x = 1}, sparse = {[1] = 'a', [3] = 'c'}, mixed = {1, 2, k = 'v'}, empty = {}}"
    assert run(isolated, "lua", src) == {
        "map": {"x": 1}, "sparse": {"1": "a", "3": "c"}, "mixed": {"1": 1, "2": 2, "k": "v"}, "empty": {}}


def test_js_objects_and_arrays(isolated):
    src = "return {arr: [1, 'two', null, [3]], obj: {k: {v: false}},\n" \
          "        empty_arr: [], empty_obj: {}, u: undefined}"
    assert run(isolated, "js", src) == {"arr": [1, "two", None, [3]], "obj": {"k": {"v": False}},
                                        "empty_arr": [], "empty_obj": {}, "u": None}


@pytest.mark.parametrize("lang,src", [
    ("lua", "return {i = 7, f = 7.5, whole_float = 2.0, big = 9007199254740993, div = 7 // 2,\n"
            "        ty = math.type(params.n)}"),
])
def test_lua_integers_stay_integers(isolated, lang, src):
    r = run(isolated, lang, src, {"n": 5})
    assert r["i"] == 7 and type(r["i"]) is int
    assert r["big"] == 9007199254740993 and type(r["big"]) is int
    assert type(r["div"]) is int and r["div"] == 3
    assert type(r["f"]) is float and type(r["whole_float"]) is float
    assert r["ty"] == "integer"


def test_js_integer_numbers_come_back_as_ints(isolated):
    r = run(isolated, "js", "return {i: 7, f: 7.5, n: params.n, isInt: Number.isInteger(params.n)}", {"n": 5})
    assert r == {"i": 7, "f": 7.5, "n": 5, "isInt": True}
    assert type(r["i"]) is int


@pytest.mark.parametrize("lang", ["lua", "js"])
def test_bridge_results_convert_to_native_values(isolated, lang):
    src = {
        "lua": "local d = json.decode('{\"a\": [1, {\"b\": 2}], \"n\": 1.5, \"i\": 3}')\n"
               "return {a2b = d.a[2].b, len = #d.a, it = math.type(d.i), ft = math.type(d.n)}",
        "js": "const d = json.decode('{\"a\": [1, {\"b\": 2}], \"n\": 1.5, \"i\": 3}');\n"
              "return {a2b: d.a[1].b, len: d.a.length, it: Number.isInteger(d.i) ? 'integer' : 'float', "
              "ft: Number.isInteger(d.n) ? 'integer' : 'float'}",
    }[lang]
    assert run(isolated, lang, src) == {"a2b": 2, "len": 2, "it": "integer", "ft": "float"}


CYCLES = {
    "lua": "local t = {name = 'loop'}\nt.self = t\nreturn {json.encode(t)}",
    "js": "const t = {name: 'loop'};\nt.self = t;\nreturn json.encode(t);",
    "tengo": 't := {name: "loop"}\nt.self = t\nexport json.encode(t)',
}


@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
def test_a_cycle_given_to_a_bridge_is_a_clear_error(isolated, lang):
    with pytest.raises(SpellError) as info:
        run(isolated, lang, CYCLES[lang])
    e = info.value
    assert e.kind == "invalid_argument"
    assert "contains a cycle" in e.message
    assert len(e.message) < 200


@pytest.mark.parametrize("lang,src", [
    ("lua", "local t = {}\nt.self = t\nreturn t"),
    ("js", "const t = {};\nt.self = t;\nreturn t;"),
])
def test_a_cyclic_result_is_a_clear_error(isolated, lang, src):
    with pytest.raises(SpellError) as info:
        run(isolated, lang, src)
    assert "cycle" in info.value.message


@pytest.mark.parametrize("lang,src", [
    ("lua", "local d = {}\nlocal c = d\nfor i = 1, 200 do c.x = {} c = c.x end\nlog.info('deep', d)"),
    ("js", "const d = {};\nlet c = d;\nfor (let i = 0; i < 200; i++) { c.x = {}; c = c.x; }\n"
           "await log.info('deep', d);"),
])
def test_an_over_deep_value_is_a_clear_error(isolated, lang, src):
    with pytest.raises(SpellError) as info:
        run(isolated, lang, src)
    assert info.value.kind == "invalid_argument"
    assert "nests more than 64 levels deep" in info.value.message
    assert len(info.value.message) < 200


def test_deep_but_allowed_values_pass(isolated):
    src = "local d = {}\nlocal c = d\nfor i = 1, 50 do c.x = {} c = c.x end\n" \
          "c.x = 'bottom'\nreturn json.encode(d)"
    assert run(isolated, "lua", src).count('{"x":') == 51


@pytest.mark.parametrize("lang,src", [
    ("lua", "return json.encode({f = function() end})"),
    ("js", "return json.encode({f: 1n})"),
])
def test_values_with_no_json_form(isolated, lang, src):
    with pytest.raises(SpellError) as info:
        run(isolated, lang, src)
    assert "ScriptFunction" not in info.value.message
    assert info.value.kind == "invalid_argument"


@pytest.mark.parametrize("lang,src", [
    ("lua", "return {s = 'line\\nbreak \"quoted\" \\0 nul', e = ''}"),
    ("js", "return {s: 'line\\nbreak \"quoted\" \\0 nul', e: ''}"),
])
def test_strings_with_special_characters(isolated, lang, src):
    assert run(isolated, lang, src) == {"s": 'line\nbreak "quoted" \x00 nul', "e": ""}


def test_a_python_object_cannot_be_given_as_a_param(isolated):
    with pytest.raises(SpellError) as info:
        run(isolated, "lua", "return 1", {"x": object()})
    assert info.value.kind == "invalid_argument"
