"""Concurrency and crashes: concurrent writers in one run lose no update, two processes on one SQLite
state neither lose updates nor corrupt it, and a writer killed with SIGKILL in the middle of a stream of
writes leaves a readable store holding every write it acknowledged (file and sqlite)."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import sqlite3
import struct
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Annotated

import pytest
from tests.state.conftest import LANGS, grant

from llmspell.bridges.base import Bridge, method

#: Many writes at once into one table and beside it: JavaScript's Promise.all, the only language here
#: whose bridge calls overlap.  Each write of a dotted key is a read-modify-write of its table.
CONCURRENT_JS = """
const st = await state.create({persistence: params.persistence, path: params.path});
const writes = [];
for (let i = 0; i < params.n; i++) {
  writes.push(st.set(`shared.k${i}`, i));
  writes.push(st.set(`own${i}`, {i}));
}
await Promise.all(writes);
const shared = await st.get("shared");
return {shared: Object.keys(shared).length, sum: Object.values(shared).reduce((a, b) => a + b, 0),
        keys: (await st.keys()).length};
"""


@pytest.mark.parametrize("isolation", ["inline", "process"])
@pytest.mark.parametrize("persistence", ["memory", "file", "sqlite"])
def test_concurrent_writes_in_one_run_lose_no_update(isolated, run_spell, persistence, isolation):
    folder = isolated.cwd / "data"
    folder.mkdir()
    n = 300
    path = None if persistence == "memory" else str(folder / ("s.db" if persistence == "sqlite" else "s.json"))
    r, _ = run_spell("js", CONCURRENT_JS, policy=grant(folder), isolation=isolation,
                     params={"persistence": persistence, "path": path, "n": n})
    assert r == {"shared": n, "sum": n * (n - 1) // 2, "keys": n + 1}


WRITER = {
    "lua": """
local st = state.create({path = params.path})
for i = 1, params.n do st:set("items." .. params.who .. i, i) end
return #st:keys()
""",
    "js": """
const st = await state.create({path: params.path});
for (let i = 1; i <= params.n; i++) await st.set(`items.${params.who}${i}`, i);
return (await st.keys()).length;
""",
    "tengo": """
st := state.create({path: params.path})
for i := 1; i <= params.n; i++ { st.set("items." + params.who + string(i), i) }
export len(st.keys())
""",
}


def test_processes_writing_one_sqlite_state_lose_nothing_and_never_corrupt_it(isolated):
    # Three processes (one per language), in confined workers, write into the same table of one
    # database at once: each write reads the table's row and writes it back in one transaction.
    folder = isolated.cwd / "data"
    folder.mkdir()
    path = folder / "shared.db"
    n = 400  # about a second of writes each: the three overlap
    procs = []
    for lang in LANGS:
        spell = isolated.write(f"writer.{lang}", WRITER[lang])
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "llmspell", "run", f"--allow-read={folder}", f"--allow-write={folder}",
             "--param", f"path={path}", "--param", f"who={lang}", "--param", f"n={n}", "--timeout", "300",
             str(spell)], cwd=isolated.cwd, env=isolated.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True))
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        isolated.no_traceback(out, err)
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        items = json.loads(db.execute("SELECT value FROM llmspell_state WHERE key = 'items'").fetchone()[0])
    db.close()
    assert items == {f"{lang}{i}": i for lang in LANGS for i in range(1, n + 1)}


#: A writer that never stops: each value is set, then acknowledged on stdout (flushed), until killed.
CRASH_WRITER = textwrap.dedent("""
    import sys
    from llmspell import Runtime
    from llmspell.sandbox import Policy

    folder, path = sys.argv[1], sys.argv[2]
    def ack(text):
        sys.stdout.write(text)
        sys.stdout.flush()
    policy = Policy(allow_read=(folder,), allow_write=(folder,), max_write=None)
    Runtime(policy=policy, isolation="inline", output=ack).run(source='''
        local st = state.create({path = params.path})
        local pad = string.rep("v", 2000)
        local i = 0
        while true do
          i = i + 1
          st:set("k" .. i, {i = i, pad = pad})
          st:set("last", i)
          print(i)
        end
    ''', language="lua", filename="writer.lua", params={"path": path})
""")


@pytest.mark.parametrize("name", ["s.json", "s.db"])
def test_a_writer_killed_mid_stream_leaves_every_acknowledged_write(isolated, run_spell, name):
    folder = isolated.cwd / "data"
    folder.mkdir()
    path = folder / name
    proc = subprocess.Popen([sys.executable, "-c", CRASH_WRITER, str(folder), str(path)], cwd=isolated.cwd,
                            env=isolated.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    acked = 0
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            acked = int(line)
            if acked >= 150:
                break
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert acked >= 150, proc.stderr.read() if proc.stderr else ""
    r, _ = run_spell("lua", "local st = state.create({path = params.path}); "
                     "return {all = st:all(), keys = st:keys()}", policy=grant(folder), params={"path": str(path)})
    data = r["all"]
    last = data["last"]
    assert last >= acked  # the writer may have gone on after its last acknowledgement, never back
    for i in range(1, last + 1):
        assert data[f"k{i}"] == {"i": i, "pad": "v" * 2000}
    if name == "s.db":
        with sqlite3.connect(path) as db:
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        db.close()


@pytest.mark.parametrize("lang", LANGS)
def test_a_run_that_times_out_waiting_for_another_writer_ends_without_waiting_for_it(isolated, lang):
    # Another process holds the database's write lock; the spell's set waits for it (up to
    # BUSY_TIMEOUT) in a thread.  The run's time limit ends the run, and its end does not wait
    # for that thread: the connection is closed once the waiting write gives up.
    import time

    from llmspell.errors import SpellError
    from llmspell.state.store import BUSY_TIMEOUT

    folder = isolated.cwd / "data"
    folder.mkdir()
    path = folder / "s.db"
    spell = {"lua": "local st = state.create({path = params.path}); st:set('x', 1)",
             "js": "const st = await state.create({path: params.path}); await st.set('x', 1);",
             "tengo": 'st := state.create({path: params.path}); st.set("x", 1)'}[lang]
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    try:
        rt, _ = isolated.runtime(policy=grant(folder), isolation="inline", timeout=1)
        started = time.monotonic()
        with pytest.raises(SpellError) as caught:
            rt.run(source=spell, language=LANGS[lang], filename=f"spell.{lang}", params={"path": str(path)})
        assert caught.value.kind == "timeout" and "time limit" in caught.value.message
        assert time.monotonic() - started < BUSY_TIMEOUT / 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_opening_a_database_keeps_the_locks_sqlite_holds_on_it(isolated):
    # SQLite in WAL mode holds a read lock on the database file for as long as a connection is open:
    # it is what stops another process from deleting the WAL under it.  Closing any descriptor of
    # the file drops every POSIX lock the process holds on it, so opening a state must never open
    # and close the database file itself once SQLite has it, not even for a second state of it.
    class Locks(Bridge):
        name = "locks"

        @method
        def held(self, path: Annotated[str, "a file"]) -> bool:
            """Whether this process holds a POSIX lock on the file."""
            fd = os.open(path, os.O_RDONLY)
            try:
                probe = struct.pack("hhqqi4x", fcntl.F_WRLCK, 0, 0, 0, 0)
                kind, _, _, _, pid = struct.unpack("hhqqi4x", fcntl.fcntl(fd, fcntl.F_OFD_GETLK, probe))
            finally:
                os.close(fd)  # drops them: asked once per run below
            return kind != fcntl.F_UNLCK and pid == os.getpid()

    folder = isolated.cwd / "data"
    folder.mkdir()
    path = folder / "s.db"
    for first in (True, False):  # a new database, then one that exists
        rt, _ = isolated.runtime(policy=grant(folder), isolation="inline")
        rt.add_bridge("locks", Locks)
        held = rt.run(source="local a = state.create({path = params.path}); a:set('x', 1)\n"
                             "local b = state.create({path = params.path, persistence = 'sqlite'})\n"
                             "return locks.held(params.path)", language="lua", params={"path": str(path)})
        assert held is True, first


@pytest.mark.parametrize("name", ["s.json", "s.db"])
def test_a_confined_worker_killed_mid_stream_leaves_every_acknowledged_write(isolated, run_spell, name):
    # As above, with the writer a spell in its confined worker (Landlock, seccomp) under the CLI:
    # the worker -- the process that writes -- is the one killed.
    folder = isolated.cwd / "data"
    folder.mkdir()
    path = folder / name
    spell = isolated.write("writer.lua", """
local st = state.create({path = params.path})
local i = 0
while true do
  i = i + 1
  st:set("k" .. i, {i = i})
  st:set("last", i)
  print(i)
end
""")
    cli = subprocess.Popen([sys.executable, "-m", "llmspell", "run", f"--allow-read={folder}",
                            f"--allow-write={folder}", "--param", f"path={path}", "--timeout", "300",
                            "--max-output", "10MB", str(spell)], cwd=isolated.cwd, env=isolated.env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    acked = 0
    try:
        assert cli.stdout is not None
        for line in cli.stdout:
            acked = int(line)
            if acked >= 100:
                break
        children = Path(f"/proc/{cli.pid}/task/{cli.pid}/children").read_text().split()
        assert children, "the CLI runs the spell in a worker process"
        for child in children:
            os.kill(int(child), signal.SIGKILL)
    finally:
        cli.kill()
        cli.wait()
    assert acked >= 100
    r, _ = run_spell("lua", "return state.create({path = params.path}):all()", policy=grant(folder),
                     params={"path": str(path)})
    assert r["last"] >= acked
    assert all(r[f"k{i}"] == {"i": i} for i in range(1, r["last"] + 1))
