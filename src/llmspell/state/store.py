"""The store protocol: what every persistence (memory, file, sqlite) gives the state service.

A store holds a state by its top-level names, each with a JSON-like value
(:mod:`.data`).  The dotted-key logic (:mod:`.keys`) is written once here,
on four primitives a backend supplies -- which candidate names are present,
read one, write one, and a transaction around a read-modify-write -- so a
``set("a.b", v)`` is one transaction in every backend: nothing another
writer did between the read and the write is lost.

Store methods block (files, fsync, SQLite): the service runs them off the
event loop for the persistent backends.  The limits of every backend are
here, in one place.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from .data import copy
from .keys import MISSING, candidates, get_in, set_in, step

#: A JSON state file larger than this is refused when it is read (the whole file is held in memory).
MAX_FILE_BYTES = 256 * 1024 * 1024
#: How long a SQLite writer waits for another process's transaction before it gives up (seconds).
BUSY_TIMEOUT = 30.0
#: Names of the files SQLite keeps beside a database (WAL, its index, a rollback journal).
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")

#: Called with the size of what a store is about to write (the run's write quota); raises to refuse.
Reserve = Callable[[int], None]


class Store:
    """A state's data by top-level name; subclasses supply the primitives below."""

    #: ``memory``, ``file`` or ``sqlite``.
    kind: str = ""
    #: The file the state lives in (resolved), or None in memory.
    path: Path | None = None

    def __init__(self) -> None:
        self._lock = threading.RLock()

    # -- what a backend supplies -----------------------------------------------------
    def _present(self, names: list[str]) -> set[str]:
        """Which of ``names`` are top-level names of the state."""
        raise NotImplementedError

    def _read(self, name: str) -> Any:
        """The value of a top-level name (MISSING if none); the caller does not change it."""
        raise NotImplementedError

    def _write(self, name: str, value: Any, where: str) -> None:
        """Store ``value`` (MISSING: remove) under a top-level name, durably, inside a transaction;
        ``where`` names the spell's call in errors."""
        raise NotImplementedError

    def _transaction(self) -> AbstractContextManager[Any]:
        """Around one read-modify-write: no other writer (thread or process) comes between."""
        return self._locked()

    def _reading(self) -> AbstractContextManager[Any]:
        """Around the statements of one read: they see one version of the state."""
        return self._locked()

    def names(self) -> list[str]:
        """Every top-level name, sorted."""
        raise NotImplementedError

    def snapshot(self) -> dict[str, Any]:
        """The whole state as one table (a copy)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release what the store holds (a database connection)."""

    # -- written once for all ------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        with self._lock:
            yield

    def get(self, key: str) -> Any:
        """The value at a dotted key (a copy), or MISSING."""
        with self._reading():
            top, rest = step(self._present(candidates(key)), key)
            return copy(get_in(self._read(top), rest))

    def change(self, key: str, new: Any, where: str) -> Any:
        """Set the dotted ``key`` to ``new`` (MISSING: delete) in one transaction; returns the old value
        (MISSING if there was none).  ``new`` is checked data the store may keep."""
        with self._transaction():
            top, rest = step(self._present(candidates(key)), key)
            old_top = self._read(top)
            old = get_in(old_top, rest)
            if new is MISSING and old is MISSING:
                return MISSING
            self._write(top, set_in(old_top, rest, new, key, where), where)
        return copy(old)
