"""The json bridge beyond the parity cases: Lua's json.null and json.array
(what a spell may and may not do with them), realistic sizes in every
language, and the number text the one writer gives."""

from __future__ import annotations

import pytest

from llmspell import SpellError
from llmspell._json_text import js_number

LUA_TRIES = """
local function try(f, ...)
  local ok, e = pcall(f, ...)
  if ok then return "ok" end
  return type(e) == "table" and e.kind .. ": " .. e.message or tostring(e)
end
"""


@pytest.mark.parametrize(("value", "text"), [
    (1e-5, "0.00001"), (1e-6, "0.000001"), (1e-7, "1e-7"), (2.0 ** 60, "1152921504606847000"),
    (1e21, "1e+21"), (1e20, "100000000000000000000"), (-0.0, "0"), (4.0, "4"), (-1.5e-300, "-1.5e-300"),
    (5e-324, "5e-324"), (123456.789, "123456.789"), (0.1 + 0.2, "0.30000000000000004"), (-2.5e25, "-2.5e+25"),
])
def test_a_float_is_written_as_javascript_writes_it(value, text):
    assert js_number(value) == text


def test_lua_round_trip_keeps_empty_arrays_and_nulls(isolated):
    rt, _ = isolated.runtime()
    src = """return json.encode(json.decode('{"items":[],"ids":[1,null,3],"n":null,"o":{}}'))"""
    assert rt.run(source=src, language="lua") == '{"ids":[1,null,3],"items":[],"n":null,"o":{}}'


def test_lua_null_and_array_are_what_the_reference_says(isolated):
    rt, _ = isolated.runtime()
    src = """
local a = json.decode('[1,null,null]')
return {#a, a[2] == json.null, tostring(json.null), getmetatable(a), json.encode(json.array()),
        json.encode(json.array({})), json.encode({}), json.encode(json:array({1, json.null}))}
"""
    assert rt.run(source=src, language="lua") == [3, True, "null", "array", "[]", "[]", "{}", "[1,null]"]


def test_lua_cannot_take_the_marks_apart(isolated):
    rt, _ = isolated.runtime()
    src = LUA_TRIES + """
local a = json.decode("[1,2,3]")
local holed = json.decode("[1,2,3]"); holed[2] = nil
local named = json.decode("[1]"); named.name = "x"
return {
  try(setmetatable, a, {}),                       -- the mark cannot be replaced...
  try(function() getmetatable(a).__gc = print end), -- ...nor its metatable reached
  try(setmetatable, json.null, {}),
  try(function() json.null.x = 1 end),
  try(json.encode, holed),
  try(json.encode, named),
  try(json.array, setmetatable({}, {})),
  try(json.array, 5),
  try(json.array, json.null),
}
"""
    got = rt.run(source=src, language="lua")
    assert "cannot change a protected metatable" in got[0]
    assert "attempt to index a string value" in got[1]
    assert "cannot change a protected metatable" in got[2]
    assert "null cannot be changed" in got[3]
    assert got[4:] == [
        "invalid_argument: value[2]: an array has a hole here",
        "invalid_argument: value: a table marked as an array has the key 'name'",
        "invalid_argument: json.array: the table has a metatable of its own",
        "invalid_argument: json.array: expected a table, got number",
        "invalid_argument: json.array: expected a table, got table",
    ]


def test_lua_json_null_crosses_to_the_host_as_null(isolated):
    rt, _ = isolated.runtime()
    assert rt.run(source="return {json.null, {k = json.null}, json.decode('[null]')}", language="lua") == [
        None, {"k": None}, [None]]


def test_lua_boolean_and_number_keys_are_named_as_in_javascript(isolated):
    rt, _ = isolated.runtime()
    lua = rt.run(source="return json.encode({[true] = 1, [false] = 2, [1.5] = 3, [1e300] = 4, [2.0] = 5, x = 6})",
                 language="lua")
    js = rt.run(source="return json.encode({[true]: 1, [false]: 2, [1.5]: 3, [1e300]: 4, [2.0]: 5, x: 6})",
                language="javascript")
    assert lua == js == '{"1.5":3,"1e+300":4,"2":5,"false":2,"true":1,"x":6}'


@pytest.mark.parametrize(("lang", "src"), [
    ("lua", "local t = {} for i = 1, 100000 do t[i] = {i, i / 4, 'x' .. i, json.null} end\n"
            "local text = json.encode(t)\nreturn {#text, json.encode(json.decode(text)) == text, #json.decode(text)}"),
    ("javascript", "const t = []; for (let i = 1; i <= 100000; i++) t.push([i, i / 4, 'x' + i, null]);\n"
                   "const text = json.encode(t);\n"
                   "return [text.length, json.encode(json.decode(text)) === text, json.decode(text).length]"),
    ("tengo", "t := []\nfor i := 1; i <= 100000; i++ { t = append(t, [i, i / 4.0, \"x\" + i, undefined]) }\n"
              "text := json.encode(t)\n"
              "export [len(text), json.encode(json.decode(text)) == text, len(json.decode(text))]"),
])
def test_a_hundred_thousand_rows_round_trip_to_the_same_text(isolated, lang, src):
    rt, _ = isolated.runtime(timeout=120)
    length, same, rows = rt.run(source=src, language=lang)
    assert (same, rows) == (True, 100000)
    assert length == len(
        "[" + ",".join(f'[{i},{js_number(i / 4)},"x{i}",null]' for i in range(1, 100001)) + "]")


@pytest.mark.parametrize(("lang", "src"), [
    ("lua", "return json.encode({1}, {indent = 11})"),
    ("javascript", "return json.encode([1], {indent: -1})"),
    ("tengo", "export json.encode([1], {indent: 11})"),
])
def test_an_indent_out_of_range_is_refused(isolated, lang, src):
    rt, _ = isolated.runtime()
    with pytest.raises(SpellError) as e:
        rt.run(source=src, language=lang)
    assert e.value.kind == "invalid_argument"
    assert "indent must be a whole number from 0 to 10" in e.value.message


def test_tengo_json_module_reads_an_integer_beyond_int64_as_a_float(isolated):
    # import("json") is Tengo's own module (bytes out), but it reads numbers as the json global does.
    rt, _ = isolated.runtime()
    src = ('j := import("json")\ntext := import("text")\n'
           'export [j.decode("12345678901234567890"), j.decode("-9223372036854775808"), '
           'j.decode(text.repeat("1", 5000)) == json.decode(text.repeat("1", 5000)), string(j.encode(1e-7))]')
    assert rt.run(source=src, language="tengo") == [12345678901234567890.0, -(1 << 63), True, "1e-7"]


@pytest.mark.parametrize("lang", ["lua", "javascript", "tengo"])
def test_floats_are_written_with_their_shortest_digits_in_every_language(isolated, lang):
    # QuickJS's own number text gives 17 digits for some doubles where fewer read
    # back the same (2**-24, 2**-44): json.encode writes the shortest, as the host does.
    import random

    from llmspell._json_text import encode

    rng = random.Random(7)
    values = [2.0 ** -k for k in range(1, 1075)] + [rng.random() * 10.0 ** rng.randint(-300, 300) for _ in range(3000)]
    values += [-v for v in values[:500]]
    rt, _ = isolated.runtime()
    src = {"lua": "return json.encode(params.v)", "javascript": "return json.encode(params.v)",
           "tengo": "export json.encode(params.v)"}[lang]
    out = rt.run(source=src, language=lang, params={"v": values})
    assert out == encode(values)
    assert "5.960464477539063e-8" in out and "5.684341886080802e-14" in out
