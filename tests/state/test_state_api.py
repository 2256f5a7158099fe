"""``state`` in Lua, JavaScript and Tengo through ``Runtime``: the same data read back in a later run
(memory, file, sqlite), dotted keys, transforms, merges that never change their inputs, what a state
cannot hold, a corrupt state file, at realistic sizes."""

from __future__ import annotations

import json
import sqlite3

import pytest
from tests.state.conftest import LANGS, grant

from llmspell.errors import SpellError

#: Writes a state, then returns what it reads back.  params.path / params.persistence choose the store.
WRITE = {
    "lua": """
local st = state.create({persistence = params.persistence, path = params.path})
st:set("context.topic", "rust")
st:set("context.depth", 3)
st:set("ratio", 0.5)
st:set("tags", {"a", "b"})
st:set("gone", true)
local was = st:delete("gone")
local again = st:delete("gone")
st:set("nothing", nil)
return {persistence = st.persistence, topic = st:get("context.topic"), context = st:get("context"),
        missing = st:get("context.nope"), keys = st:keys(), was = was, again = again, all = st:all()}
""",
    "js": """
const st = await state.create({persistence: params.persistence, path: params.path});
await st.set("context.topic", "rust");
await st.set("context.depth", 3);
await st.set("ratio", 0.5);
await st.set("tags", ["a", "b"]);
await st.set("gone", true);
const was = await st.delete("gone");
const again = await st.delete("gone");
await st.set("nothing", null);
return {persistence: st.persistence, topic: await st.get("context.topic"), context: await st.get("context"),
        missing: await st.get("context.nope"), keys: await st.keys(), was, again, all: await st.all()};
""",
    "tengo": """
st := state.create({persistence: params.persistence, path: params.path})
st.set("context.topic", "rust")
st.set("context.depth", 3)
st.set("ratio", 0.5)
st.set("tags", ["a", "b"])
st.set("gone", true)
was := st.delete("gone")
again := st.delete("gone")
st.set("nothing", undefined)
export {persistence: st.persistence, topic: st.get("context.topic"), context: st.get("context"),
        missing: st.get("context.nope"), keys: st.keys(), was: was, again: again, all: st.all()}
""",
}

READ = {
    "lua": "local st = state.create({path = params.path}); return {all = st:all(), topic = st:get('context.topic')}",
    "js": "const st = await state.create({path: params.path}); "
          "return {all: await st.all(), topic: await st.get('context.topic')};",
    "tengo": 'st := state.create({path: params.path}); export {all: st.all(), topic: st.get("context.topic")}',
}

EXPECTED = {"context": {"depth": 3, "topic": "rust"}, "ratio": 0.5, "tags": ["a", "b"]}


@pytest.mark.parametrize("persistence", ["memory", "file", "sqlite"])
@pytest.mark.parametrize("lang", LANGS)
def test_a_state_reads_back_in_a_later_run_of_another_language(isolated, run_spell, lang, persistence):
    folder = isolated.cwd / "data"
    folder.mkdir()
    path = None if persistence == "memory" else str(folder / ("s.db" if persistence == "sqlite" else "s.json"))
    r, _ = run_spell(lang, WRITE[lang], policy=grant(folder), params={"persistence": persistence, "path": path})
    assert r["persistence"] == persistence
    assert r["topic"] == "rust" and r["context"] == {"depth": 3, "topic": "rust"} and r.get("missing") is None
    assert r["keys"] == ["context", "ratio", "tags"] and r["was"] is True and r["again"] is False
    assert r["all"] == EXPECTED
    if persistence == "memory":
        return
    for other in LANGS:  # a later run, in every language, reads the same data
        back, _ = run_spell(other, READ[other], policy=grant(folder), params={"path": path})
        assert back == {"all": EXPECTED, "topic": "rust"}
    if persistence == "file":
        assert json.loads((folder / "s.json").read_text()) == EXPECTED
        assert [p.name for p in folder.iterdir()] == ["s.json"]  # no temporary file left behind
    else:
        with sqlite3.connect(folder / "s.db") as db:
            assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            rows = dict(db.execute("SELECT key, value FROM llmspell_state"))
        assert {k: json.loads(v) for k, v in rows.items()} == EXPECTED


TRANSFORM = {
    "lua": """
local st = state.create()
st:set("user", {name = "ada", password = "hunter2", apiKey = "k-1", profile = {githubToken = "t", author = "x"}})
st:set("usage", {max_tokens = 10})
st:set("a.b.c", 1)
local flat = st:transform({type = "flatten"})
return {
  filtered = st:transform({type = "filter", keys = {"user.name", "a.b", "nope"}}):all(),
  flat = flat:all(), flat_get = flat:get("user.profile.author"),
  sanitized = st:transform({type = "sanitize"}):all(),
  custom = st:transform({type = "sanitize", patterns = {"name"}, replacement = "***"}):all(),
  added = st:transform({type = "sanitize", keys = {"max_*"}}):get("usage"),
  source = st:all(),
}
""",
    "js": """
const st = await state.create();
await st.set("user", {name: "ada", password: "hunter2", apiKey: "k-1", profile: {githubToken: "t", author: "x"}});
await st.set("usage", {max_tokens: 10});
await st.set("a.b.c", 1);
const flat = await st.transform({type: "flatten"});
return {
  filtered: await (await st.transform({type: "filter", keys: ["user.name", "a.b", "nope"]})).all(),
  flat: await flat.all(), flat_get: await flat.get("user.profile.author"),
  sanitized: await (await st.transform({type: "sanitize"})).all(),
  custom: await (await st.transform({type: "sanitize", patterns: ["name"], replacement: "***"})).all(),
  added: await (await st.transform({type: "sanitize", keys: ["max_*"]})).get("usage"),
  source: await st.all(),
};
""",
    "tengo": """
st := state.create()
st.set("user", {name: "ada", password: "hunter2", apiKey: "k-1", profile: {githubToken: "t", author: "x"}})
st.set("usage", {max_tokens: 10})
st.set("a.b.c", 1)
flat := st.transform({type: "flatten"})
export {
  filtered: st.transform({type: "filter", keys: ["user.name", "a.b", "nope"]}).all(),
  flat: flat.all(), flat_get: flat.get("user.profile.author"),
  sanitized: st.transform({type: "sanitize"}).all(),
  custom: st.transform({type: "sanitize", patterns: ["name"], replacement: "***"}).all(),
  added: st.transform({type: "sanitize", keys: ["max_*"]}).get("usage"),
  source: st.all()
}
""",
}


@pytest.mark.parametrize("lang", LANGS)
def test_transforms_filter_flatten_and_sanitize_into_new_states(run_spell, lang):
    r, _ = run_spell(lang, TRANSFORM[lang])
    user = {"name": "ada", "password": "hunter2", "apiKey": "k-1", "profile": {"githubToken": "t", "author": "x"}}
    assert r["source"] == {"user": user, "usage": {"max_tokens": 10}, "a": {"b": {"c": 1}}}  # unchanged
    assert r["filtered"] == {"user": {"name": "ada"}, "a": {"b": {"c": 1}}}
    assert r["flat"] == {"user.name": "ada", "user.password": "hunter2", "user.apiKey": "k-1",
                         "user.profile.githubToken": "t", "user.profile.author": "x", "usage.max_tokens": 10,
                         "a.b.c": 1}
    assert r["flat_get"] == "x"
    assert r["sanitized"]["user"] == {"name": "ada", "password": "[REDACTED]", "apiKey": "[REDACTED]",
                                      "profile": {"githubToken": "[REDACTED]", "author": "x"}}
    assert r["sanitized"]["usage"] == {"max_tokens": 10}
    assert r["custom"]["user"]["name"] == "***" and r["custom"]["user"]["password"] == "hunter2"
    assert r["added"] == {"max_tokens": "[REDACTED]"}


MERGE = {
    "lua": """
local a = state.create(); a:set("cfg", {x = 1, inner = {p = 1, q = 1}}); a:set("only_a", true)
local b = state.create(); b:set("cfg", {y = 2, inner = {q = 2}}); b:set("only_b", true)
local function m(opts) return a:merge(b, opts):all() end
return {deep = m({}), deep_ours = m({conflictResolution = "ours"}), shallow = m({strategy = "shallow"}),
        shallow_ours = m({strategy = "shallow", conflictResolution = "ours"}),
        replace = m({strategy = "replace"}), replace_ours = m({strategy = "replace", conflictResolution = "ours"}),
        table = a:merge({cfg = {x = 9}}):get("cfg.x"), a = a:all(), b = b:all()}
""",
    "js": """
const a = await state.create(); await a.set("cfg", {x: 1, inner: {p: 1, q: 1}}); await a.set("only_a", true);
const b = await state.create(); await b.set("cfg", {y: 2, inner: {q: 2}}); await b.set("only_b", true);
const m = async (opts) => (await a.merge(b, opts)).all();
return {deep: await m({}), deep_ours: await m({conflictResolution: "ours"}), shallow: await m({strategy: "shallow"}),
        shallow_ours: await m({strategy: "shallow", conflictResolution: "ours"}),
        replace: await m({strategy: "replace"}),
        replace_ours: await m({strategy: "replace", conflictResolution: "ours"}),
        table: await (await a.merge({cfg: {x: 9}})).get("cfg.x"), a: await a.all(), b: await b.all()};
""",
    "tengo": """
a := state.create(); a.set("cfg", {x: 1, inner: {p: 1, q: 1}}); a.set("only_a", true)
b := state.create(); b.set("cfg", {y: 2, inner: {q: 2}}); b.set("only_b", true)
m := func(opts) { return a.merge(b, opts).all() }
export {deep: m({}), deep_ours: m({conflictResolution: "ours"}), shallow: m({strategy: "shallow"}),
        shallow_ours: m({strategy: "shallow", conflictResolution: "ours"}),
        replace: m({strategy: "replace"}), replace_ours: m({strategy: "replace", conflictResolution: "ours"}),
        table: a.merge({cfg: {x: 9}}).get("cfg.x"), a: a.all(), b: b.all()}
""",
}


@pytest.mark.parametrize("lang", LANGS)
def test_merges_deep_shallow_replace_with_ours_or_theirs_never_change_their_inputs(run_spell, lang):
    r, _ = run_spell(lang, MERGE[lang])
    a = {"cfg": {"x": 1, "inner": {"p": 1, "q": 1}}, "only_a": True}
    b = {"cfg": {"y": 2, "inner": {"q": 2}}, "only_b": True}
    assert r["a"] == a and r["b"] == b
    assert r["deep"] == {"cfg": {"x": 1, "y": 2, "inner": {"p": 1, "q": 2}}, "only_a": True, "only_b": True}
    assert r["deep_ours"] == {"cfg": {"x": 1, "y": 2, "inner": {"p": 1, "q": 1}}, "only_a": True, "only_b": True}
    assert r["shallow"] == {"cfg": b["cfg"], "only_a": True, "only_b": True}
    assert r["shallow_ours"] == {"cfg": a["cfg"], "only_a": True, "only_b": True}
    assert r["replace"] == b and r["replace_ours"] == a
    assert r["table"] == 9


BAD = {
    "lua": """
local st = state.create({path = params.path})
st:set("kept", {1, 2})
local function try(f, ...)
  local ok, e = pcall(f, ...)
  if ok then return {"ok", e} end
  return {e.kind, e.message}
end
return {
  fn = try(st.set, st, "job.callback", function() end),
  nested = try(st.set, st, "job", {steps = {{run = print}}}),
  handle = try(st.set, st, "other", st),
  nan = try(st.set, st, "n", 0/0),
  bad_key = try(st.set, st, "a..b", 1),
  empty_key = try(st.get, st, ""),
  through = try(st.set, st, "kept.x", 1),
  memory_path = try(state.create, {persistence = "memory", path = "x.json"}),
  no_path = try(state.create, {persistence = "sqlite"}),
  kind = try(state.create, {persistence = "redis"}),
  transform = try(st.transform, st, {type = "filter"}),
  merge = try(st.merge, st, 5),
  kept = st:all(),
}
""",
    "js": """
const st = await state.create({path: params.path});
await st.set("kept", [1, 2]);
async function attempt(f) {
  try { return ["ok", await f()]; } catch (e) { return [e.kind, e.message]; }
}
return {
  fn: await attempt(() => st.set("job.callback", () => 1)),
  nested: await attempt(() => st.set("job", {steps: [{run: console.log}]})),
  handle: await attempt(() => st.set("other", st)),
  nan: await attempt(() => st.set("n", NaN)),
  bad_key: await attempt(() => st.set("a..b", 1)),
  empty_key: await attempt(() => st.get("")),
  through: await attempt(() => st.set("kept.x", 1)),
  memory_path: await attempt(() => state.create({persistence: "memory", path: "x.json"})),
  no_path: await attempt(() => state.create({persistence: "sqlite"})),
  kind: await attempt(() => state.create({persistence: "redis"})),
  transform: await attempt(() => st.transform({type: "filter"})),
  merge: await attempt(() => st.merge(5)),
  kept: await st.all(),
};
""",
    "tengo": """
st := state.create({path: params.path})
st.set("kept", [1, 2])
attempt := func(r) {
  if is_error(r) { return [r.value.kind, r.value.message] }
  return ["ok", r]
}
export {
  fn: attempt(st.set("job.callback", func() {})),
  nested: attempt(st.set("job", {steps: [{run: func() {}}]})),
  handle: attempt(st.set("other", st)),
  nan: attempt(st.set("n", 0.0 / 0.0)),
  bad_key: attempt(st.set("a..b", 1)),
  empty_key: attempt(st.get("")),
  through: attempt(st.set("kept.x", 1)),
  memory_path: attempt(state.create({persistence: "memory", path: "x.json"})),
  no_path: attempt(state.create({persistence: "sqlite"})),
  kind: attempt(state.create({persistence: "redis"})),
  transform: attempt(st.transform({type: "filter"})),
  merge: attempt(st.merge(5)),
  kept: st.all()
}
""",
}


@pytest.mark.parametrize("backend", ["s.json", "s.db"])
@pytest.mark.parametrize("lang", LANGS)
def test_bad_input_is_a_clear_error_and_nothing_stored_is_lost(isolated, run_spell, lang, backend):
    folder = isolated.cwd / "data"
    folder.mkdir()
    r, _ = run_spell(lang, BAD[lang], policy=grant(folder), params={"path": str(folder / backend)})
    data_only = "a state holds data only (nil, booleans, numbers, strings, lists and tables)"
    assert r["fn"] == ["invalid_argument", f'store.set: the value at "job.callback" is a function; {data_only}']
    assert r["nested"] == ["invalid_argument",
                           f'store.set: the value at "job.steps" (inside a list) is a function; {data_only}']
    assert r["handle"] == ["invalid_argument", f'store.set: the value at "other" is a handle; {data_only}']
    assert r["nan"][0] == "invalid_argument" and '"n" is NaN' in r["nan"][1]
    assert r["bad_key"][0] == "invalid_argument" and '"a..b" is not a key' in r["bad_key"][1]
    assert r["empty_key"][0] == "invalid_argument" and r["empty_key"][1].startswith('store.get: "" is not a key')
    assert r["through"] == ["invalid_argument", 'store.set: cannot reach "kept.x": "kept" holds a list, not a table']
    assert r["memory_path"] == ["invalid_argument", 'state.create: a "memory" state has no path']
    assert r["no_path"] == ["invalid_argument", 'state.create: a "sqlite" state needs a path']
    assert r["kind"] == ["invalid_argument", "state.create: persistence must be one of memory, file, sqlite"]
    assert r["transform"] == ["invalid_argument", "store.transform: filter needs keys (the keys to keep)"]
    assert r["merge"] == ["invalid_argument", "store.merge: other must be a state or a table"]
    assert r["kept"] == {"kept": [1, 2]}


CORRUPT = {
    "lua": "local st = state.create({path = params.path}); st:set('x', 1)",
    "js": "const st = await state.create({path: params.path}); await st.set('x', 1);",
    "tengo": 'st := state.create({path: params.path})\nresult := {}\nif is_error(st) { result = {"error": st.value} }',
}


@pytest.mark.parametrize(("name", "text"), [("s.json", '{"kept": [1, 2'), ("s.json", "[1, 2]"),
                                            ("s.db", "this is not a database, it is text " * 200)])
@pytest.mark.parametrize("lang", LANGS)
def test_a_corrupt_state_file_is_an_error_naming_it_and_is_left_as_it_is(isolated, run_spell, lang, name, text):
    folder = isolated.cwd / "data"
    folder.mkdir()
    path = folder / name
    path.write_text(text)
    if lang == "tengo":
        r, _ = run_spell(lang, CORRUPT[lang], policy=grant(folder), params={"path": str(path)})
        err = SpellError(**{k: r["error"][k] for k in ("kind", "message")})
    else:
        with pytest.raises(SpellError) as caught:
            run_spell(lang, CORRUPT[lang], policy=grant(folder), params={"path": str(path)})
        err = caught.value
    assert err.kind == "invalid_argument"
    assert err.message.startswith(f'state.create: "{path}" is not a readable state file (')
    assert err.message.endswith("it was left as it is")
    assert path.read_text() == text
    assert sorted(p.name for p in folder.iterdir()) == [name]


SIZES = {
    "lua": """
local st = state.create({path = params.path})
local big = string.rep("x", 300 * 1024)
for i = 1, 5 do st:set("blobs.b" .. i, big .. i) end
for i = 1, params.n do st:set("k" .. i, {i = i, name = "item " .. i}) end
local back = state.create({path = params.path})
return {keys = #back:keys(), blob = #back:get("blobs.b5"), last = back:get("k" .. params.n .. ".name")}
""",
    "js": """
const st = await state.create({path: params.path});
const big = "x".repeat(300 * 1024);
for (let i = 1; i <= 5; i++) await st.set("blobs.b" + i, big + i);
for (let i = 1; i <= params.n; i++) await st.set("k" + i, {i, name: "item " + i});
const back = await state.create({path: params.path});
return {keys: (await back.keys()).length, blob: (await back.get("blobs.b5")).length,
        last: await back.get("k" + params.n + ".name")};
""",
    "tengo": """
text := import("text")
st := state.create({path: params.path})
big := text.repeat("x", 300 * 1024)
for i := 1; i <= 5; i++ { st.set("blobs.b" + string(i), big + string(i)) }
for i := 1; i <= params.n; i++ { st.set("k" + string(i), {i: i, name: "item " + string(i)}) }
back := state.create({path: params.path})
export {keys: len(back.keys()), blob: len(back.get("blobs.b5")), last: back.get("k" + string(params.n) + ".name")}
""",
}


@pytest.mark.parametrize("lang", LANGS)
def test_thousands_of_keys_and_values_of_hundreds_of_kb_in_sqlite(isolated, run_spell, lang):
    folder = isolated.cwd / "data"
    folder.mkdir()
    n = 3000
    r, _ = run_spell(lang, SIZES[lang], policy=grant(folder), params={"path": str(folder / "big.db"), "n": n})
    assert r == {"keys": n + 1, "blob": 300 * 1024 + 1, "last": f"item {n}"}
    with sqlite3.connect(folder / "big.db") as db:
        assert db.execute("SELECT count(*) FROM llmspell_state").fetchone() == (n + 1,)


@pytest.mark.parametrize("lang", LANGS)
def test_a_json_file_state_holds_values_of_hundreds_of_kb(isolated, run_spell, lang):
    # Each write replaces the whole file (1.5 MB here): 105 writes stay under the default write quota.
    folder = isolated.cwd / "data"
    folder.mkdir()
    r, _ = run_spell(lang, SIZES[lang], policy=grant(folder), params={"path": str(folder / "big.json"), "n": 100})
    assert r == {"keys": 101, "blob": 300 * 1024 + 1, "last": "item 100"}
    data = json.loads((folder / "big.json").read_text())
    assert len(data["blobs"]["b3"]) == 300 * 1024 + 1 and data["k100"] == {"i": 100, "name": "item 100"}


SHARED = {
    "lua": """
local a = state.create({path = params.path})
local b = state.create({path = params.path})
a:set("x", 1)
local ok, e = pcall(state.create, {path = params.path, persistence = "sqlite"})
return {b = b:get("x"), other = e.kind .. ": " .. e.message}
""",
    "js": """
const a = await state.create({path: params.path});
const b = await state.create({path: params.path});
await a.set("x", 1);
let other;
try { await state.create({path: params.path, persistence: "sqlite"}); } catch (e) { other = e.kind + ": " + e.message; }
return {b: await b.get("x"), other};
""",
    "tengo": """
a := state.create({path: params.path})
b := state.create({path: params.path})
a.set("x", 1)
e := state.create({path: params.path, persistence: "sqlite"})
export {b: b.get("x"), other: e.value.kind + ": " + e.value.message}
""",
}


@pytest.mark.parametrize("lang", LANGS)
def test_two_states_of_one_file_in_a_run_share_it_and_agree_on_its_persistence(isolated, run_spell, lang):
    folder = isolated.cwd / "data"
    folder.mkdir()
    path = folder / "s.json"
    r, _ = run_spell(lang, SHARED[lang], policy=grant(folder), params={"path": str(path)})
    assert r == {"b": 1, "other": f'invalid_argument: state.create: "{path}" is already open in this run as a '
                                  '"file" state, not "sqlite"'}
