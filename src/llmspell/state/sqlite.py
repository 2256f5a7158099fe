"""The ``sqlite`` store: one row per top-level name in a SQLite database (WAL, one transaction per write).

Every write is ``BEGIN IMMEDIATE`` ... ``COMMIT`` with ``synchronous=FULL``,
so the row is in the fsynced write-ahead log before ``set`` returns and a
process killed at any point leaves the database as of its last commit.  Two
processes (or two runs) on one database take turns through SQLite's locks
(waiting up to ``BUSY_TIMEOUT``), and a dotted write reads and writes its row
inside the same transaction, so no writer's update is lost.

SQLite opens files by name, which the sandbox never hands to the system after
its check (:mod:`llmspell.sandbox.paths`).  So the database is opened in
steps that leave SQLite nothing to be misled by: the path is resolved and
checked (read and write), its folder opened by the walk and the database
file opened (or made) through it without following a link -- only a regular
file will do; the files SQLite keeps beside it (``-wal``, ``-shm``,
``-journal``) must be absent or regular files, never links; SQLite is given
the resolved path as a ``file:`` URI we build (percent-encoded: a ``?`` or
``#`` in a name is a character, never a URI parameter such as ``mode=``);
and once it has opened the database and its WAL, the files it holds open are
checked to be the very files the walk found (by device and inode, among the
process's descriptors).  An existing database is looked at, never opened by
us: closing a descriptor of a file drops every POSIX lock the process holds
on it, SQLite's included.  (The same holds for the spell's other file access: a
``file_read`` of a database a state of the same process holds drops SQLite's
WAL read lock until its next transaction; SQLite's own documentation warns of
it.  The data stays whole within the process; another process closing the
database meanwhile may checkpoint and restart the WAL early.)  A swap that slips between the walk and SQLite's own
open is found there and the state is refused; what SQLite wrote meanwhile
went where the kernel let it -- in a worker, Landlock holds it to the
``--allow-write`` folders.  Temporary tables stay in memory.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from llmspell.errors import SpellError

from . import data as _data
from ._files import checked_path, not_regular, open_regular, os_error, parent_dir
from .jsonfile import corrupt
from .keys import MISSING
from .store import BUSY_TIMEOUT, SQLITE_SIDE_FILES, Reserve, Store

if TYPE_CHECKING:
    from llmspell.sandbox.policy import Policy

_TABLE = "llmspell_state"
_SETUP = (
    "PRAGMA trusted_schema = OFF",
    "PRAGMA temp_store = MEMORY",
    f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT * 1000)}",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
    f"CREATE TABLE IF NOT EXISTS {_TABLE} (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID",
)


class SqliteStore(Store):
    kind = "sqlite"

    def __init__(self, conn: sqlite3.Connection, real: Path, reserve: Reserve | None) -> None:
        super().__init__()
        self._conn = conn
        self.path = real
        self._reserve = reserve
        self._closed = False
        self._close_pending = False

    @classmethod
    def open(cls, policy: Policy, path: str, base: Path | None, reserve: Reserve | None, where: str) -> SqliteStore:
        """The database ``path`` (made if missing), opened safely (see the module); needs read and write."""
        real = checked_path(policy, path, base, ("read", "write"))
        try:
            with parent_dir(real, create=policy) as (dfd, name):
                if name == ".":
                    raise OSError(21, "Is a directory")
                identity = _database_file(dfd, name, real, where)
                _check_side_files(dfd, name, real, where)
                conn = _connect(real, where)
                try:
                    _check_held(dfd, name, identity, real, where)
                except BaseException:
                    conn.close()
                    raise
        except OSError as exc:
            raise os_error(exc, real, "open", where) from None
        return cls(conn, real, reserve)

    # -- the store's primitives ---------------------------------------------------------
    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._using(), self._errors("store.set"):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    @contextmanager
    def _using(self) -> Iterator[None]:
        """The connection, for one thread at a time; closed on the way out if the run ended meanwhile."""
        with self._lock:
            if self._closed:
                raise SpellError("cancelled", f'the state "{self.path}" was closed: its run is over')
            try:
                yield
            finally:
                if self._close_pending:
                    self._closed = True
                    self._conn.close()

    @contextmanager
    def _reading(self) -> Iterator[None]:
        with self._using(), self._errors("store.get"):
            self._conn.execute("BEGIN")
            try:
                yield
            finally:
                self._conn.execute("COMMIT")

    def _present(self, names: list[str]) -> set[str]:
        marks = ",".join("?" * len(names))
        rows = self._conn.execute(f"SELECT key FROM {_TABLE} WHERE key IN ({marks})", names).fetchall()
        return {row[0] for row in rows}

    def _read(self, name: str) -> Any:
        row = self._conn.execute(f"SELECT value FROM {_TABLE} WHERE key = ?", (name,)).fetchone()
        return MISSING if row is None else self._decode(row[0], name)

    def _write(self, name: str, value: Any, where: str) -> None:
        if value is MISSING:
            self._conn.execute(f"DELETE FROM {_TABLE} WHERE key = ?", (name,))
            return
        text = _data.encode(value)
        if self._reserve is not None:
            self._reserve(len(name.encode("utf-8", "replace")) + len(text.encode("utf-8")))
        self._conn.execute(f"INSERT INTO {_TABLE} (key, value) VALUES (?, ?) "
                           "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (name, text))

    def names(self) -> list[str]:
        with self._using(), self._errors("store.keys"):
            return sorted(row[0] for row in self._conn.execute(f"SELECT key FROM {_TABLE}"))

    def snapshot(self) -> dict[str, Any]:
        with self._using(), self._errors("store.all"):
            rows = self._conn.execute(f"SELECT key, value FROM {_TABLE}").fetchall()
        return {key: self._decode(text, key) for key, text in rows}

    def close(self) -> None:
        """Close the connection now, or -- when a thread is inside a call (a write waiting for another
        process's lock when the run timed out) -- as that call ends: the run's end never waits for it."""
        if self._lock.acquire(blocking=False):
            try:
                self._closed = True
                self._conn.close()
            finally:
                self._lock.release()
        else:
            self._close_pending = True

    def _decode(self, text: Any, name: str) -> Any:
        try:
            return _data.decode(text)
        except (ValueError, TypeError, RecursionError):
            assert self.path is not None
            raise corrupt(self.path, "store.get", f'the value of "{name}" is not JSON') from None

    @contextmanager
    def _errors(self, where: str) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            assert self.path is not None
            raise sql_error(exc, self.path, where) from None


def sql_error(exc: sqlite3.Error, real: Path, where: str) -> SpellError:
    """What SQLite said, naming the database file."""
    text = str(exc)
    if isinstance(exc, sqlite3.OperationalError) and "locked" in text:
        return SpellError("timeout", f'{where}: "{real}" stayed locked by another writer for {BUSY_TIMEOUT:g}s',
                          hint="another process holds a long transaction on this state")
    if isinstance(exc, sqlite3.DatabaseError) and ("not a database" in text or "malformed" in text):
        return corrupt(real, where, "it is not a SQLite database, or a damaged one")
    if "readonly" in text or "read-only" in text:
        return SpellError("permission_denied", f'{where}: the system refused to write "{real}"')
    return SpellError("tool_error", f'{where}: SQLite could not use "{real}": {text}')


def _connect(real: Path, where: str) -> sqlite3.Connection:
    uri = "file:" + quote(str(real), safe="/") + "?mode=rw"
    try:
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as exc:
        raise sql_error(exc, real, where) from None
    try:
        for statement in _SETUP:
            row = conn.execute(statement).fetchone()
            if statement.endswith("WAL") and (row is None or str(row[0]).lower() != "wal"):
                raise SpellError("tool_error", f'{where}: SQLite could not put "{real}" in WAL mode')
        conn.execute(f"SELECT count(*) FROM {_TABLE}").fetchone()  # opens the WAL and its index
    except sqlite3.Error as exc:
        conn.close()
        raise sql_error(exc, real, where) from None
    except BaseException:
        conn.close()
        raise
    return conn


def _check_side_files(dfd: int, name: str, real: Path, where: str) -> None:
    """SQLite opens its side files by name, following links: each must be absent or a regular file."""
    for suffix in SQLITE_SIDE_FILES:
        try:
            info = os.stat(name + suffix, dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(info.st_mode):
            raise not_regular(real, where, f"'s {suffix[1:]} file ({name}{suffix})")


def _database_file(dfd: int, name: str, real: Path, where: str) -> tuple[int, int]:
    """The database file's (device, inode), made empty if missing: a regular file, never a link.

    An existing file is only looked at (``lstat``), never opened: closing any descriptor of a file
    drops every POSIX lock the process holds on it -- SQLite's own, of another state of this
    process on the same database, included."""
    while True:
        try:
            info = os.stat(name, dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            try:  # a new file: no connection can hold locks on it yet
                os.close(open_regular(dfd, name, os.O_RDWR | os.O_CREAT | os.O_EXCL, real, where))
            except FileExistsError:
                pass  # made meanwhile by someone else: look again
            continue
        if stat.S_ISDIR(info.st_mode):
            raise OSError(21, "Is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise not_regular(real, where)
        return info.st_dev, info.st_ino


def _check_held(dfd: int, name: str, identity: tuple[int, int], real: Path, where: str) -> None:
    """The database and WAL files SQLite holds are the ones the walk finds (by device and inode)."""
    _check_side_files(dfd, name, real, where)
    wanted = {identity}
    for suffix in ("-wal", "-shm"):
        try:
            info = os.stat(name + suffix, dir_fd=dfd, follow_symlinks=False)
        except FileNotFoundError:
            continue
        wanted.add((info.st_dev, info.st_ino))
    try:
        entries = os.listdir("/proc/self/fd")
    except OSError:  # no /proc here: the walk's checks alone
        return
    held = set()
    for entry in entries:
        number = int(entry)
        try:
            info = os.fstat(number)
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode):
            held.add((info.st_dev, info.st_ino))
    if not wanted <= held:
        raise SpellError("permission_denied", f'{where}: "{real}" changed while it was opened (a link or a folder '
                         "swapped in); refusing to use it")
