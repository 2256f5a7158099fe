"""Property-based parity of ``json``: generated values and JSON texts go
through ``json.encode`` and ``json.decode`` in Lua, JavaScript and Tengo, and
every language gives the same text, or an error of the same kind, compared as
exact text (nothing canonicalised: ``4.0`` against ``4`` would fail).

The one difference the contract names is JavaScript's: it holds every number
as a float, so an integer beyond 2^53 is already rounded there.  The expected
text is written for each language from the host's writer (_json_text), so
that difference is asserted exactly, not tolerated.

Values are written into each spell as source literals (so the languages' own
number and string types are what is encoded), a whole batch per run: one VM
per language per example.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmspell import Runtime
from llmspell._json_text import encode as host_encode

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
INT64 = (-(1 << 63), (1 << 63) - 1)
SAFE = 1 << 53


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    return Runtime(cwd=tmp_path_factory.mktemp("json"), isolation="inline", timeout=60, output=lambda _: None)


# -- values ------------------------------------------------------------------------------
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12) | st.sampled_from(
    ["", "0", "10", "9", "-1", "1.5", "__proto__", "\u2028", "\ufeff", "\U0001f389", "\uffff", "a\"b\\c\n\t\x00"])
ints = st.integers(*INT64) | st.sampled_from([0, -1, SAFE, SAFE + 1, -SAFE - 1, *INT64, 1 << 60])
floats = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [-0.0, 0.0, 4.0, 1e-5, 1e-7, 1e-6, 1e21, 1e20, 2.0 ** 60, 5e-324, 1.7976931348623157e308, 0.1, 123456.789])
scalars = st.none() | st.booleans() | ints | floats | text
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=6) | st.dictionaries(text, inner, max_size=6),
                      max_leaves=20)


def lua_str(s: str) -> str:
    out = []
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20 or c == "\x7f":
            out.append(f"\\{ord(c):03d}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def tengo_str(s: str) -> str:
    return '"' + "".join("\\" + c if c in '"\\' else f"\\u{ord(c):04x}" if ord(c) < 0x20 or c == "\x7f" else c
                         for c in s) + '"'


def literal(v: Any, lang: str) -> str:
    """``v`` as a source literal of ``lang`` (null as json.null in Lua, where nil holds no place)."""
    if v is None:
        return {"lua": "json.null", "js": "null", "tengo": "undefined"}[lang]
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        if lang == "lua" and v == INT64[0]:
            return "math.mininteger"
        if lang == "tengo" and v == INT64[0]:
            return "(-9223372036854775807 - 1)"
        return f"({v})"
    if isinstance(v, float):
        if math.isnan(v):
            return {"lua": "(0/0)", "js": "NaN", "tengo": "math.nan()"}[lang]
        if math.isinf(v):
            sign = "-" if v < 0 else ""
            return {"lua": f"({sign}math.huge)", "js": f"({sign}Infinity)",
                    "tengo": f"math.inf({-1 if v < 0 else 1})"}[lang]
        r = repr(v)
        return f"({r})" if lang != "lua" or "." in r or "e" in r else f"({r}.0)"
    if isinstance(v, str):
        return {"lua": lua_str, "js": json.dumps, "tengo": tengo_str}[lang](v)
    if isinstance(v, list):
        items = ", ".join(literal(x, lang) for x in v)
        if lang == "lua":
            return f"json.array({{{items}}})"
        return f"[{items}]"
    pairs = [(k, literal(x, lang)) for k, x in v.items()]
    if lang == "lua":
        return "{" + ", ".join(f"[{lua_str(k)}] = {x}" for k, x in pairs) + "}"
    if lang == "js":
        return "{" + ", ".join(f"[{json.dumps(k)}]: {x}" for k, x in pairs) + "}"
    return "{" + ", ".join(f"{tengo_str(k)}: {x}" for k, x in pairs) + "}"


# Each spell encodes every value, decodes its text and encodes that again:
# [["ok", text, text again or the decode's error kind]] or [["error", kind]].
SPELLS = {
    "lua": """
local values, opts, out = {%s}, %s, {}
for i = 1, %d do
  local ok, t = pcall(json.encode, values[i], opts)
  if not ok then out[i] = {"error", t.kind} else
    local ok2, back = pcall(json.decode, t)
    local ok3, again = false, nil
    if ok2 then ok3, again = pcall(json.encode, back, opts) end
    out[i] = {"ok", t, (ok2 and ok3) and again or (ok2 and again or back).kind}
  end
end
return out
""",
    "js": """
const values = [%s], opts = %s, out = [];
for (let i = 0; i < %d; i++) {
  let t;
  try { t = await json.encode(values[i], opts); } catch (e) { out.push(["error", e.kind]); continue; }
  let again;
  try { again = await json.encode(await json.decode(t), opts); } catch (e) { again = e.kind; }
  out.push(["ok", t, again]);
}
return out;
""",
    "tengo": """
math := import("math")
values := [%s]
opts := %s
out := []
for i := 0; i < %d; i++ {
  t := json.encode(values[i], opts)
  if is_error(t) { out = append(out, ["error", t.value.kind]); continue }
  back := json.decode(t)
  again := is_error(back) ? back : json.encode(back, opts)
  out = append(out, ["ok", t, is_error(again) ? again.value.kind : again])
}
export out
""",
}
LANGS = {"lua": "lua", "js": "javascript", "tengo": "tengo"}


def run_all(runtime: Runtime, batch: list, indent: int | None) -> dict[str, Any]:
    got = {}
    for lang, spell in SPELLS.items():
        opts = {"lua": "nil", "js": "undefined", "tengo": "undefined"}[lang] if indent is None else (
            f"{{indent = {indent}}}" if lang == "lua" else f"{{indent: {indent}}}")
        source = spell % (", ".join(literal(v, lang) for v in batch), opts, len(batch))
        got[lang] = runtime.run(source=source, language=LANGS[lang])
    return got


def as_js(v: Any) -> Any:
    """``v`` as JavaScript holds it: every number a float (an int beyond 2^53 rounded)."""
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return float(v) if abs(v) > SAFE else v
    if isinstance(v, list):
        return [as_js(x) for x in v]
    if isinstance(v, dict):
        return {k: as_js(x) for k, x in v.items()}
    return v


def expected(v: Any, indent: int | None) -> list:
    try:
        t = host_encode(v, indent)
    except Exception as exc:  # noqa: BLE001 - the host writer's refusal: its kind is the expectation
        return ["error", exc.kind]  # type: ignore[attr-defined]
    return ["ok", t, t]


@SETTINGS
@given(st.lists(values, min_size=1, max_size=10), st.sampled_from([None, None, 0, 2, 10]))
def test_encode_gives_the_same_text_in_every_language(runtime, batch, indent):
    got = run_all(runtime, batch, indent)
    want = [expected(v, indent) for v in batch]
    assert got["lua"] == want
    assert got["tengo"] == want
    assert got["js"] == [expected(as_js(v), indent) for v in batch]


# -- texts -------------------------------------------------------------------------------
def dumps(v: Any) -> str:
    return json.dumps(v, ensure_ascii=False, allow_nan=True)


texts = st.one_of(
    values.map(dumps),
    values.map(lambda v: json.dumps(v, ensure_ascii=True, indent=1, allow_nan=True)),
    st.integers(min_value=-(10 ** 30), max_value=10 ** 30).map(str),
    st.sampled_from([
        "NaN", "[1, NaN]", "-Infinity", '{"a": Infinity}', "12345678901234567890", "-9223372036854775809",
        "9223372036854775807", "9007199254740993", "1e400", "-0", "-0.0", "1E-7", "0.00001", '"\\ud83c"',
        '["\\ud83c\\udf89", "\\udc00x"]', '{"\\ud800": 1}', '{"a": 1, "a": 2}', '{"b": 1} x', "[1,]", "",
        " ", "[" * 64 + "]" * 64, "[" * 65 + "]" * 65, '{"k":' * 64 + "1" + "}" * 64, "[" * 5000, "nul",
        '{"items":[],"ids":[1,null,3]}', "[null]", '{"n": null}', "null", '"\\u0000\\u001f\\u2028"',
        '{"10": 1, "9": 2, "": 3}', "[1e21, 1e-7, 1.5e300, 4.0, 100]",
    ]),
)


def expected_text(text: str, js: bool) -> list:
    from llmspell._json_text import decode

    try:
        v = decode(text)
    except Exception as exc:  # noqa: BLE001 - the host reader's refusal: its kind is the expectation
        return ["error", exc.kind]  # type: ignore[attr-defined]
    from llmspell.values import to_python

    v = to_python(v)
    try:
        return ["ok", host_encode(as_js(v) if js else v)]
    except Exception as exc:  # noqa: BLE001 - e.g. 1e400 reads as infinity, which has no JSON form
        return ["error", exc.kind]  # type: ignore[attr-defined]


DECODE = {
    "lua": """
local out = {}
for i, t in ipairs(params.texts) do
  local ok, v = pcall(json.decode, t)
  if not ok then out[i] = {"error", v.kind} else
    local ok2, again = pcall(json.encode, v)
    out[i] = ok2 and {"ok", again} or {"error", again.kind}
  end
end
return out
""",
    "js": """
const out = [];
for (const t of params.texts) {
  let v;
  try { v = await json.decode(t); } catch (e) { out.push(["error", e.kind]); continue; }
  try { out.push(["ok", await json.encode(v)]); } catch (e) { out.push(["error", e.kind]); }
}
return out;
""",
    "tengo": """
out := []
for t in params.texts {
  v := json.decode(t)
  if is_error(v) { out = append(out, ["error", v.value.kind]); continue }
  again := json.encode(v)
  out = append(out, is_error(again) ? ["error", again.value.kind] : ["ok", again])
}
export out
""",
}


@SETTINGS
@given(st.lists(texts, min_size=1, max_size=10))
def test_decode_agrees_in_every_language(runtime, batch):
    got = {lang: runtime.run(source=spell, language=LANGS[lang], params={"texts": batch})
           for lang, spell in DECODE.items()}
    want = [expected_text(t, js=False) for t in batch]
    assert got["lua"] == want
    assert got["tengo"] == want
    assert got["js"] == [expected_text(t, js=True) for t in batch]


# -- Lua's keys --------------------------------------------------------------------------
lua_keys = st.dictionaries(
    st.integers(*INT64) | st.floats(allow_nan=False) | st.booleans() | text, st.integers(-5, 5), max_size=8)


def js_key(k: Any) -> str:
    from llmspell._json_text import js_number

    if isinstance(k, bool):
        return "true" if k else "false"
    if isinstance(k, float):
        if math.isinf(k):
            return "Infinity" if k > 0 else "-Infinity"
        return js_number(k)
    return str(k)


def lua_key(k: Any) -> str:
    """The name Lua's key ``k`` gets: a float key with an integer value is an integer in Lua."""
    if isinstance(k, float) and k.is_integer() and INT64[0] <= k <= INT64[1]:
        return str(int(k))
    return js_key(k)


@SETTINGS
@given(lua_keys)
def test_lua_keys_of_every_kind_are_named_as_javascript_names_them(runtime, table):
    names = [lua_key(k) for k in table]
    table = {k: v for k, v in table.items() if names.count(lua_key(k)) == 1}  # no two keys with one name
    if "~" not in table:
        table["~"] = 0  # integer keys 1..n alone would be an array
    lua = "{" + ", ".join(f"[{literal(k, 'lua') if not isinstance(k, str) else lua_str(k)}] = {v}"
                          for k, v in table.items()) + "}"
    js = "{" + ", ".join(f"[{json.dumps(lua_key(k))}]: {v}" for k, v in table.items()) + "}"
    got_lua = runtime.run(source=f"return json.encode({lua})", language="lua")
    got_js = runtime.run(source=f"return json.encode({js})", language="javascript")
    assert got_lua == got_js == host_encode({lua_key(k): v for k, v in table.items()})
