"""A state's file is a spell path like any other: the policy must allow it (read to open, write to set; a
SQLite state needs both), links and ``..`` cannot take it out of a grant, SQLite's side files cannot be
links, a folder, FIFO or SQLite URI text is never what it pretends, and the write quota counts what a
state writes -- every way around, in every language, inline and in the confined worker."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from tests.state.conftest import LANGS

from llmspell.errors import SpellError
from llmspell.sandbox import Policy

#: Opens params.path, reads, then writes; returns what happened at each step.
STEPS = {
    "lua": """
local function try(f, ...)
  local ok, e = pcall(f, ...)
  if ok then return {"ok", e} end
  return {e.kind, e.message}
end
local made = try(state.create, {path = params.path})
if made[1] ~= "ok" then return {create = made} end
local st = made[2]
return {create = {"ok"}, get = try(st.get, st, "kept"), set = try(st.set, st, "new", "value")}
""",
    "js": """
async function attempt(f) {
  try { return ["ok", await f()]; } catch (e) { return [e.kind, e.message]; }
}
const made = await attempt(() => state.create({path: params.path}));
if (made[0] !== "ok") return {create: made};
const st = made[1];
return {create: ["ok"], get: await attempt(() => st.get("kept")), set: await attempt(() => st.set("new", "value"))};
""",
    "tengo": """
attempt := func(r) {
  if is_error(r) { return [r.value.kind, r.value.message] }
  return ["ok", r]
}
st := state.create({path: params.path})
result := {}
if is_error(st) {
  result = {create: attempt(st)}
} else {
  result = {create: ["ok"], get: attempt(st.get("kept")), set: attempt(st.set("new", "value"))}
}
""",
}


def run(isolated, lang, path, policy, isolation="inline"):
    rt, _ = isolated.runtime(policy=policy, isolation=isolation)
    return rt.run(source=STEPS[lang], language=LANGS[lang], filename=f"spell.{lang}", params={"path": str(path)})


def seeded(folder: Path, name: str) -> Path:
    """A state file in ``folder`` holding kept = 1, written by a run the policy allows."""
    path = folder / name
    if name.endswith(".db"):
        with sqlite3.connect(path) as db:
            db.execute("CREATE TABLE llmspell_state (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) "
                       "WITHOUT ROWID")
            db.execute("INSERT INTO llmspell_state VALUES ('kept', '1')")
        db.close()
    else:
        path.write_text('{"kept":1}\n')
    return path


@pytest.fixture
def data(isolated) -> Path:
    folder = isolated.cwd / "data"
    folder.mkdir()
    return folder


ISOLATIONS = ["inline", "process"]


@pytest.mark.parametrize("isolation", ISOLATIONS)
@pytest.mark.parametrize("name", ["s.json", "s.db"])
@pytest.mark.parametrize("lang", LANGS)
def test_no_grant_refuses_the_state_and_names_the_flag(isolated, data, lang, name, isolation):
    path = seeded(data, name)
    before = path.read_bytes()
    r = run(isolated, lang, path, Policy(), isolation)
    kind, message = r["create"]
    assert kind == "permission_denied" and f"--allow-read={path}" in message and message.startswith("state.create:")
    assert path.read_bytes() == before


@pytest.mark.parametrize("isolation", ISOLATIONS)
@pytest.mark.parametrize("lang", LANGS)
def test_read_alone_reads_a_file_state_and_refuses_its_writes(isolated, data, lang, isolation):
    path = seeded(data, "s.json")
    r = run(isolated, lang, path, Policy(allow_read=(str(data),)), isolation)
    assert r["create"] == ["ok"] and r["get"] == ["ok", 1]
    kind, message = r["set"]
    assert kind == "permission_denied" and f"--allow-write={path}" in message and message.startswith("store.set:")
    assert path.read_text() == '{"kept":1}\n' and sorted(os.listdir(data)) == ["s.json"]


@pytest.mark.parametrize("isolation", ISOLATIONS)
@pytest.mark.parametrize("lang", LANGS)
def test_a_sqlite_state_needs_read_and_write(isolated, data, lang, isolation):
    path = seeded(data, "s.db")
    for policy, flag in [(Policy(allow_read=(str(data),)), "--allow-write"),
                         (Policy(allow_write=(str(data),)), "--allow-read")]:
        r = run(isolated, lang, path, policy, isolation)
        kind, message = r["create"]
        assert kind == "permission_denied" and f"{flag}={path}" in message
    assert sorted(os.listdir(data)) == ["s.db"]  # SQLite never opened it: no -wal, no -shm


@pytest.mark.parametrize("name", ["s.json", "s.db"])
@pytest.mark.parametrize("lang", LANGS)
def test_deny_write_inside_a_grant_wins(isolated, data, lang, name):
    path = seeded(data, name)
    policy = Policy(allow_read=(str(data),), allow_write=(str(data),), deny_write=(str(path),))
    r = run(isolated, lang, path, policy)
    step = r["set"] if name == "s.json" else r["create"]
    assert step[0] == "permission_denied" and "--deny-write" in step[1]


@pytest.mark.parametrize("isolation", ISOLATIONS)
@pytest.mark.parametrize("name", ["s.json", "s.db"])
@pytest.mark.parametrize("lang", LANGS)
def test_dotdot_and_links_cannot_leave_the_grant(isolated, data, lang, name, isolation):
    outside = isolated.cwd / "outside"
    outside.mkdir()
    target = seeded(outside, name)
    before = target.read_bytes()
    (data / "link").symlink_to(outside)
    (data / name).symlink_to(target)
    policy = Policy(allow_read=(str(data),), allow_write=(str(data),))
    for path in [data / ".." / "outside" / name, data / "link" / name, data / name]:
        r = run(isolated, lang, path, policy, isolation)
        kind, message = r["create"]
        assert kind == "permission_denied" and str(target) in message, (path, r)
    assert target.read_bytes() == before and sorted(os.listdir(outside)) == [name]


@pytest.mark.parametrize("isolation", ISOLATIONS)
@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])
@pytest.mark.parametrize("lang", LANGS)
def test_a_sqlite_side_file_that_is_a_link_is_refused(isolated, data, lang, suffix, isolation):
    outside = isolated.cwd / "outside"
    outside.mkdir()
    victim = outside / "victim"
    victim.write_text("precious")
    path = seeded(data, "s.db")
    (data / f"s.db{suffix}").symlink_to(victim)
    r = run(isolated, lang, path, Policy(allow_read=(str(data),), allow_write=(str(data),)), isolation)
    kind, message = r["create"]
    assert kind == "invalid_argument" and f"(s.db{suffix}) is not a regular file" in message
    assert victim.read_text() == "precious"


@pytest.mark.parametrize("name", ["s.json", "s.db"])
@pytest.mark.parametrize("lang", LANGS)
def test_a_folder_a_fifo_or_a_device_is_refused_at_once(isolated, data, lang, name):
    policy = Policy(allow_read=(str(data),), allow_write=(str(data),))
    os.mkfifo(data / f"fifo-{name}")
    (data / f"dir-{name}").mkdir()
    r = run(isolated, lang, data / f"dir-{name}", policy)
    assert r["create"][0] == "invalid_argument" and "is a directory" in r["create"][1]
    r = run(isolated, lang, data / f"fifo-{name}", policy)
    assert r["create"][0] == "invalid_argument" and "is not a regular file" in r["create"][1], r
    r = run(isolated, lang, "/dev/null", Policy(allow_read=("/dev/null",), allow_write=("/dev/null",)))
    assert r["create"][0] == "invalid_argument" and "is not a regular file" in r["create"][1], r


@pytest.mark.parametrize("lang", LANGS)
def test_sqlite_uri_text_in_a_path_is_part_of_the_file_name(isolated, data, lang):
    # "?mode=memory" would make SQLite keep nothing; "&vfs=" would choose another way to the disk.
    name = "s?mode=memory&vfs=unix-none#x.db"
    r = run(isolated, lang, data / name, Policy(allow_read=(str(data),), allow_write=(str(data),)))
    assert r["create"] == ["ok"] and r["set"][0] == "ok"
    with sqlite3.connect(data / name) as db:
        assert db.execute("SELECT value FROM llmspell_state WHERE key = 'new'").fetchone() == ('"value"',)
    db.close()


QUOTA = {
    "lua": "local st = state.create({path = params.path}); st:set('a', params.text); st:set('b', params.text)",
    "js": "const st = await state.create({path: params.path}); await st.set('a', params.text); "
          "await st.set('b', params.text);",
    "tengo": 'st := state.create({path: params.path}); st.set("a", params.text); st.set("b", params.text)',
}


@pytest.mark.parametrize("name", ["s.json", "s.db"])
@pytest.mark.parametrize("lang", LANGS)
def test_the_write_quota_counts_what_a_state_writes(isolated, data, lang, name):
    policy = Policy(allow_read=(str(data),), allow_write=(str(data),), max_write=15_000)
    rt, _ = isolated.runtime(policy=policy, isolation="inline")
    with pytest.raises(SpellError) as caught:
        rt.run(source=QUOTA[lang], language=LANGS[lang], filename=f"spell.{lang}",
               params={"path": str(data / name), "text": "x" * 10_000})
    assert caught.value.kind == "limit_exceeded" and "15000 bytes" in caught.value.message
    back = Runtime_read(isolated, data / name)
    assert back == {"a": "x" * 10_000}  # the first write is there, the refused one never started


def Runtime_read(isolated, path: Path) -> dict:  # noqa: N802 - reads like the call it stands for
    rt, _ = isolated.runtime(policy=Policy(allow_read=(str(path.parent),), allow_write=(str(path.parent),)),
                             isolation="inline")
    return rt.run(source="return state.create({path = params.path}):all()", language="lua",
                  filename="read.lua", params={"path": str(path)})


@pytest.mark.parametrize("lang", LANGS)
def test_a_database_swapped_between_the_walk_and_sqlites_open_is_refused(isolated, data, lang, monkeypatch):
    # The swap is a race; here it is made certain: SQLite is handed the path after a link replaced the
    # file the walk opened (as another process could do in between), so it opens the file outside.
    from llmspell.state import sqlite as sqlite_store

    outside = isolated.cwd / "outside"
    outside.mkdir()
    victim = seeded(outside, "victim.db")
    real_connect = sqlite_store._connect

    def swapped(real: Path, where: str):
        real.unlink()
        real.symlink_to(victim)
        return real_connect(real, where)

    monkeypatch.setattr(sqlite_store, "_connect", swapped)
    r = run(isolated, lang, data / "s.db", Policy(allow_read=(str(data),), allow_write=(str(data),)))
    kind, message = r["create"]
    assert kind == "permission_denied" and "changed while it was opened" in message
