"""Property-based parity of a bridge echo: generated values go from the host
into Lua, JavaScript and Tengo (as ``params``, and built by the spell from a
source literal), through an embedder's bridge that gives back what it is
given, and back to the host as the run's result; every language gives the
same value, or an error of the same kind, compared as exact text (an int is
not a float, ``-0.0`` is not ``0.0``; only a table's key order, which Lua does
not keep, is not compared).

The echo has a synchronous method on the general path (``now``), one on the
engines' fast path for a scalar (``number``, ``text``) and an async one
(``later``); JavaScript makes the literals' calls all at once (the queue its
engine drains) and the parameters' one after another (its lone-call path).

Where the contract lets the languages differ, the difference is asserted
exactly for that language (``as_lua``, ``as_js``, ``as_tengo``):

- JavaScript holds every number as a double: the host reads a number as
  ``JSON.stringify`` writes it, so ``4.0`` comes back ``4``, ``2**63`` as
  ``9223372036854776000`` and ``1e21`` as a float;
- a ``nil`` member of a Lua table is no member (``{"a": None}`` is ``{}``);
  a null in a list keeps its place (``json.null``);
- an integer beyond int64 is the nearest float in Lua and Tengo (whose
  integers are int64), infinite beyond the float range.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.parity.test_json_properties import INT64, LANGS, SETTINGS, literal, lua_key, lua_keys, lua_str, values

from llmspell import Runtime, SpellError
from llmspell._json_text import js_number
from llmspell.bridges.base import Bridge, method
from llmspell.values import MAX_DEPTH
from llmspell.wellformed import well_formed


class EchoBridge(Bridge):
    """An embedder's bridge that gives back what it is given."""

    name = "echo"
    description = "Gives back its argument."

    @method
    def now(self, value: Annotated[Any, "any value"] = None) -> Any:
        """The value, at once (the general path of a synchronous method)."""
        return value

    @method
    async def later(self, value: Annotated[Any, "any value"] = None) -> Any:
        """The value, after a turn of the host's loop (an async method)."""
        return value

    @method
    def number(self, value: Annotated[float, "a number"]) -> float:
        """The number (the fast path of a scalar argument)."""
        return value

    @method
    def text(self, value: Annotated[str, "a string"]) -> str:
        """The string (the fast path of a scalar argument)."""
        return value

    @method
    def integer(self, digits: Annotated[str, "an integer's digits"]) -> int:
        """The host's int of these digits, whatever its size (a result, not an argument)."""
        return int(digits)


def _runtime(tmp: Any, isolation: str) -> Runtime:
    rt = Runtime(cwd=tmp, isolation=isolation, timeout=60, output=lambda _: None)
    rt.add_bridge("echo", EchoBridge)
    return rt


@pytest.fixture(scope="module")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    return _runtime(tmp_path_factory.mktemp("echo"), "inline")


# -- values ------------------------------------------------------------------------------
# From the host, text may hold lone surrogates (U+FFFD in every language) and
# integers may lie beyond int64; the spells' literals are the json test's values.
host_text = st.text(max_size=12) | st.sampled_from(["\ud83c", "\ud83c\udf89", "\udc00x", "a\ud800\ud800b"])
host_ints = st.integers(*INT64) | st.sampled_from(
    [1 << 31, -(1 << 31) - 1, 1 << 32, (1 << 53) + 1, 1 << 63, -(1 << 63) - 1, 1 << 70, -(10 ** 30), 10 ** 400])
host_scalars = st.none() | st.booleans() | host_ints | st.floats() | host_text | st.sampled_from(
    [-0.0, 4.0, 1e21, 1e-7, 2.0 ** 63, 5e-324])
host_values = st.recursive(
    host_scalars, lambda inner: st.lists(inner, max_size=6) | st.dictionaries(host_text, inner, max_size=6),
    max_leaves=20)


# -- each language's reading of a host value ------------------------------------------------
def _int64(n: int) -> int | float:
    if INT64[0] <= n <= INT64[1]:
        return n
    try:
        return float(n)
    except OverflowError:
        return math.inf if n > 0 else -math.inf


def _walk(v: Any, number: Any, drop_nil_members: bool = False) -> Any:
    if isinstance(v, str):
        return well_formed(v)
    if isinstance(v, bool) or v is None:
        return v
    if isinstance(v, (int, float)):
        return number(v)
    if isinstance(v, list):
        return [_walk(x, number, drop_nil_members) for x in v]
    return {well_formed(k): _walk(x, number, drop_nil_members) for k, x in v.items()
            if not (drop_nil_members and x is None)}


def _js_number(v: int | float) -> int | float:
    """A number as JavaScript holds it (a double) and the host reads it back:
    as JSON.stringify writes it (NaN and the infinities are floats)."""
    f = float(v) if isinstance(v, float) or abs(v) < 10 ** 308 else (math.inf if v > 0 else -math.inf)
    if not math.isfinite(f):
        return f
    if f == 0 and math.copysign(1, f) < 0:
        return -0.0  # a double's sign of zero crosses as it is
    return json.loads(js_number(f))


def as_lua(v: Any) -> Any:
    return _walk(v, lambda n: _int64(n) if type(n) is int else n, drop_nil_members=True)


def as_js(v: Any) -> Any:
    return _walk(v, _js_number)


def as_tengo(v: Any) -> Any:
    return _walk(v, lambda n: _int64(n) if type(n) is int else n)


EXPECT = {"lua": as_lua, "js": as_js, "tengo": as_tengo}


def exact(v: Any) -> str:
    """``v`` as text that tells an int from a float and ``-0.0`` from ``0.0``
    (a float's repr has a point, an exponent or is nan/inf); a table's keys
    sorted, as Lua keeps no order."""
    if v is None or isinstance(v, (bool, int, str)):
        return repr(v)
    if isinstance(v, float):
        return "float:" + repr(v)
    if isinstance(v, list):
        return "[" + ", ".join(exact(x) for x in v) + "]"
    assert isinstance(v, dict), type(v)
    return "{" + ", ".join(f"{k!r}: {exact(v[k])}" for k in sorted(v)) + "}"


# -- the spells ------------------------------------------------------------------------------
# Each gives, per value, [from params, from the literal], each as
# [now, later, the scalar fast path or "-"], a call as ["ok", value] or ["error", kind].
SPELLS = {
    "lua": """
local lit = {%s}
local function one(ok, x)
  if not ok then return {"error", x.kind} end
  if x == nil then return {"ok", json.null} end
  return {"ok", x}
end
local function row(v)
  local fast = "-"
  if type(v) == "number" then fast = one(pcall(echo.number, v))
  elseif type(v) == "string" then fast = one(pcall(echo.text, v)) end
  return {one(pcall(echo.now, v)), one(pcall(echo.later, v)), fast}
end
local out = {}
for i = 1, %d do out[i] = {row(params.v[i]), row(lit[i])} end
return out
""",
    "js": """
const lit = [%s];
const one = (p) => p.then((x) => ["ok", x], (e) => ["error", e.kind]);
const fast = (v) => typeof v === "number" ? one(echo.number(v)) : typeof v === "string" ? one(echo.text(v)) : "-";
const out = [];
for (const v of params.v) out.push([[await one(echo.now(v)), await one(echo.later(v)), await fast(v)]]);
const all = await Promise.all(lit.map((v) => Promise.all([one(echo.now(v)), one(echo.later(v)), fast(v)])));
for (let i = 0; i < %d; i++) out[i].push(all[i]);
return out;
""",
    "tengo": """
math := import("math")
lit := [%s]
one := func(x) { return is_error(x) ? ["error", x.value.kind] : ["ok", x] }
row := func(v) {
  fast := is_int(v) || is_float(v) ? one(echo.number(v)) : is_string(v) ? one(echo.text(v)) : "-"
  return [one(echo.now(v)), one(echo.later(v)), fast]
}
out := []
for i := 0; i < %d; i++ { out = append(out, [row(params.v[i]), row(lit[i])]) }
export out
""",
}


def run_all(runtime: Runtime, batch: list, literals: list) -> dict[str, Any]:
    got = {}
    for lang, spell in SPELLS.items():
        source = spell % (", ".join(literal(v, lang) for v in literals), len(batch))
        got[lang] = runtime.run(source=source, language=LANGS[lang], params={"v": batch})
    return got


def expected_row(v: Any, lang: str) -> list:
    want = EXPECT[lang](v)
    fast = ["ok", want] if isinstance(want, (int, float, str)) and not isinstance(want, bool) else "-"
    return [["ok", want], ["ok", want], fast]


@SETTINGS
@given(st.lists(st.tuples(host_values, values), min_size=1, max_size=8))
def test_echo_gives_back_the_same_value_in_every_language(runtime, pairs):
    batch, literals = [p for p, _ in pairs], [lit for _, lit in pairs]
    got = run_all(runtime, batch, literals)
    for lang in SPELLS:
        want = [[expected_row(p, lang), expected_row(lit, lang)] for p, lit in pairs]
        assert exact(got[lang]) == exact(want), lang


# A host int as a method's result (no argument walk on the way in): Lua and
# Tengo hold it within int64, else as the nearest float; JavaScript as a double.
INTEGERS = {
    "lua": "local out = {}\nfor i, d in ipairs(params.v) do out[i] = echo.integer(d) end\nreturn out",
    "js": "const out = [];\nfor (const d of params.v) out.push(await echo.integer(d));\nreturn out;",
    "tengo": "out := []\nfor d in params.v { out = append(out, echo.integer(d)) }\nexport out",
}


@SETTINGS
@given(st.lists(host_ints, min_size=1, max_size=10))
def test_a_host_int_result_is_held_as_each_language_holds_a_number(runtime, ints):
    for lang, spell in INTEGERS.items():
        got = runtime.run(source=spell, language=LANGS[lang], params={"v": [str(n) for n in ints]})
        assert exact(got) == exact(EXPECT[lang](ints)), lang


# A Lua table's keys of every kind cross as JavaScript names them (a float key
# with an integer value is an integer in Lua), through every method.
@SETTINGS
@given(lua_keys)
def test_lua_keys_of_every_kind_cross_as_javascript_names_them(runtime, table):
    names = [lua_key(k) for k in table]
    table = {k: v for k, v in table.items() if names.count(lua_key(k)) == 1}  # no two keys with one name
    table["~"] = 0  # integer keys 1..n alone would be a list
    lua = "{" + ", ".join(f"[{literal(k, 'lua') if not isinstance(k, str) else lua_str(k)}] = {v}"
                          for k, v in table.items()) + "}"
    js = "{" + ", ".join(f"[{json.dumps(lua_key(k))}]: {v}" for k, v in table.items()) + "}"
    got_lua = runtime.run(source=f"local t = {lua}\nreturn {{echo.now(t), echo.later(t)}}", language="lua")
    got_js = runtime.run(source=f"const t = {js};\nreturn [await echo.now(t), await echo.later(t)];",
                         language="javascript")
    want = {well_formed(lua_key(k)): v for k, v in table.items()}
    assert exact(got_lua) == exact(got_js) == exact([want, want])


# Sparse arrays: JavaScript's holes are nulls; Tengo has no holes (undefined
# keeps its place); a Lua table with holes is a table keyed by the positions
# (only keys 1..n are a list), and an array marked with json.array that has a
# hole is refused, naming it (json.null keeps a place); an empty Lua table is
# an empty table unless json.array marks it.
SPARSE = {
    "lua": """
local a = {}
a[4] = 1
local b = json.array({1, json.null, 3})
local c = json.array({})
c[2] = "x"
local ok, e = pcall(echo.now, c)
local ok2, e2 = pcall(echo.later, json.array({1, nil, 3}))
return {echo.now(a), echo.later({1, nil, 3}), echo.now(b), echo.later(b), {e.kind, e.message}, {e2.kind, e2.message},
        echo.now({}), echo.later(json.array({}))}
""",
    "js": """
const a = [];
a[3] = 1;
const b = [1, , 3];
return [await echo.now(a), await echo.later(b), await echo.now(b), await echo.later(new Array(2))];
""",
    "tengo": """
b := [1, undefined, 3]
export [echo.now(b), echo.later(b), echo.now([undefined, undefined, undefined, 1])]
""",
}
SPARSE_WANT = {
    "lua": [{"4": 1}, {"1": 1, "3": 3}, [1, None, 3], [1, None, 3],
            ["invalid_argument", "value[1]: an array has a hole here"],
            ["invalid_argument", "value[2]: an array has a hole here"], {}, []],
    "js": [[None, None, None, 1], [1, None, 3], [1, None, 3], [None, None]],
    "tengo": [[1, None, 3], [1, None, 3], [None, None, None, 1]],
}


@pytest.mark.parametrize("lang", SPELLS)
def test_sparse_arrays_cross_as_each_language_has_them(runtime, lang):
    assert exact(runtime.run(source=SPARSE[lang], language=LANGS[lang])) == exact(SPARSE_WANT[lang])


# -- values that cannot cross ------------------------------------------------------------------
# A value nested d levels deep, built by the spell, through each method:
# MAX_DEPTH levels cross, one more is refused with the same kind everywhere.
DEEP = {
    "lua": """
local v = 1
for _ = 1, %d do v = {v} end
local function kind(ok, x) return ok and "ok" or x.kind .. ": " .. x.message end
return {kind(pcall(echo.now, v)), kind(pcall(echo.later, v))}
""",
    "js": """
let v = 1;
for (let i = 0; i < %d; i++) v = [v];
const kind = async (f) => { try { await f(); return "ok"; } catch (e) { return e.kind + ": " + e.message; } };
return [await kind(() => echo.now(v)), await kind(() => echo.later(v))];
""",
    "tengo": """
v := 1
for i := 0; i < %d; i++ { v = [v] }
kind := func(x) { return is_error(x) ? x.value.kind + ": " + x.value.message : "ok" }
export [kind(echo.now(v)), kind(echo.later(v))]
""",
}


@pytest.mark.parametrize("depth", [1, MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 3 * MAX_DEPTH])
def test_nesting_crosses_to_the_same_depth_in_every_language(runtime, depth):
    for lang, spell in DEEP.items():
        # The path to the level refused, cut to its start (20 positions), as each language counts them.
        where = ("[1]" if lang == "lua" else "[0]") * 20 + "..."
        refused = f"invalid_argument: {where} nests more than {MAX_DEPTH} levels deep (is it a cycle?)"
        want = ["ok", "ok"] if depth <= MAX_DEPTH else [refused, refused]
        assert runtime.run(source=spell % depth, language=LANGS[lang]) == want, lang


# What each language has that is not data: refused as the call's invalid_argument,
# which the spell catches and goes on.
NOT_DATA = {
    "lua": """
local t = {}
t.self = t
local function kind(ok, x) return ok and "ok" or x.kind end
local out = {}
for _, v in ipairs({t, coroutine.create(function() end), io and io.stdout or t}) do
  out[#out + 1] = {kind(pcall(echo.now, v)), kind(pcall(echo.later, v))}
end
return out
""",
    "js": """
const t = {};
t.self = t;
const kind = (f) => { try { return f().then(() => "ok", (e) => e.kind); } catch (e) { return e.kind; } };
const out = [];
for (const v of [t, 10n, Symbol("s")]) out.push([await kind(() => echo.now(v)), await kind(() => echo.later(v))]);
return out;
""",
    "tengo": """
t := {}
t.self = t
kind := func(x) { return is_error(x) ? x.value.kind : "ok" }
out := []
for v in [t, [t], len] { out = append(out, [kind(echo.now(v)), kind(echo.later(v))]) }
export out
""",
}


@pytest.mark.parametrize("lang", SPELLS)
def test_what_is_not_data_is_the_calls_invalid_argument(runtime, lang):
    assert runtime.run(source=NOT_DATA[lang], language=LANGS[lang]) == [["invalid_argument"] * 2] * 3


@pytest.mark.parametrize("lang", SPELLS)
def test_params_nested_too_deep_are_refused_before_the_spell(runtime, lang):
    v: Any = 1
    for _ in range(MAX_DEPTH + 1):
        v = [v]
    with pytest.raises(SpellError) as info:
        runtime.run(source=SPELLS[lang] % ("", 0), language=LANGS[lang], params={"v": [v]})
    assert info.value.kind == "invalid_argument"
    assert "nests more than 64 levels deep" in info.value.message


# -- the same through a worker process ---------------------------------------------------------
EDGES = [0, -0.0, 4.0, 4, 1 << 31, (1 << 53) + 1, 1 << 63, -(1 << 63), 10 ** 400, math.nan, -math.inf, 1e21, 5e-324,
         "\ud83c", "\U0001f389", "", [], {}, [None, 1, None], {"a": None, "__proto__": [{}]}, {"1": 1, "2": 2},
         [[[[]]]], True, None, list(range(-500, 500)), {f"k{i}": [i, str(i), i / 7] for i in range(300)}]


def test_a_worker_process_gives_back_what_inline_does(tmp_path):
    got = run_all(_runtime(tmp_path, "process"), EDGES, [0] * len(EDGES))
    for lang in SPELLS:
        want = [[expected_row(v, lang), expected_row(0, lang)] for v in EDGES]
        assert exact(got[lang]) == exact(want), lang
