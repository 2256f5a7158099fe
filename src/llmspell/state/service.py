"""The state service of a run: states that persist (memory, a JSON file, SQLite), their events.

The ``state`` bridge converts a spell's values and delegates here.  A state is
a view (:class:`State`) over a store (:mod:`.store`); two ``state.create`` calls
naming the same file in one run share one store, so their writes go through
one lock and one connection.  Persistent stores block on files and fsync, so
their calls run off the event loop; a memory state runs in place.

Every write is checked data (:mod:`.data`), counted against the run's write
quota before it reaches a file (``--max-write``), and followed by a
``state.changed`` event -- built only when someone listens -- with ``key``
(as the spell wrote it), ``action`` (``set`` or ``delete``), ``old`` and
``new`` (nil where there is none), ``persistence`` and ``path`` (the
resolved file, nil in memory).  A ``set`` emits even when the value is the
same; a ``delete`` of a missing key changes nothing and emits nothing.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from llmspell.errors import SpellError

from . import transforms as _transforms
from .data import checked
from .keys import MISSING, check_key
from .memory import MemoryStore
from .merge import Resolution, Strategy, merge
from .store import Reserve, Store

if TYPE_CHECKING:
    from llmspell.events import EventBus
    from llmspell.sandbox.policy import Policy

#: Names ending so are ``sqlite`` when a state names no persistence.
SQLITE_SUFFIXES = (".db", ".sqlite", ".sqlite3")
PERSISTENCES = ("memory", "file", "sqlite")
T = TypeVar("T")


def persistence_for(persistence: str | None, path: str | None, where: str) -> str:
    """The persistence a state asks for: named, else ``sqlite`` for a ``.db`` path, ``file`` for another
    path and ``memory`` without one."""
    if persistence is None:
        if path is None:
            return "memory"
        return "sqlite" if path.lower().endswith(SQLITE_SUFFIXES) else "file"
    if persistence == "memory" and path is not None:
        raise SpellError("invalid_argument", f'{where}: a "memory" state has no path',
                         hint='leave out path, or use persistence = "file" or "sqlite"')
    if persistence != "memory" and path is None:
        raise SpellError("invalid_argument", f'{where}: a "{persistence}" state needs a path',
                         hint='for example path = "state.db"')
    return persistence


class StateService:
    """The states of one run."""

    def __init__(self, policy: Policy, *, base: Path | None = None, reserve: Reserve | None = None,
                 events: EventBus | None = None) -> None:
        self.policy = policy
        self.base = base
        self.reserve = reserve
        self.events = events
        self._stores: dict[Path, Store] = {}
        self._opening = asyncio.Lock()

    async def create(self, persistence: str | None = None, path: str | None = None,
                     where: str = "state.create") -> State:
        """A new state: in memory, or the one in the file ``path`` (see :func:`persistence_for`)."""
        kind = persistence_for(persistence, path, where)
        if kind == "memory":
            return State(self, MemoryStore())
        assert path is not None
        async with self._opening:
            store = await _blocking(self._open, kind, path, where)
        return State(self, store)

    def _open(self, kind: str, path: str, where: str) -> Store:
        from .jsonfile import FileStore

        opener = FileStore if kind == "file" else _sqlite()
        try:
            real = self.policy.check_read(path, base=self.base)
        except SpellError as exc:
            raise _prefixed(exc, where) from None
        shared = self._stores.get(real)
        if shared is not None:
            if shared.kind != kind:
                raise SpellError("invalid_argument", f'{where}: "{real}" is already open in this run as a '
                                 f'"{shared.kind}" state, not "{kind}"')
            return shared
        try:
            store = opener.open(self.policy, path, self.base, self.reserve, where)
        except SpellError as exc:
            raise _prefixed(exc, where) from None
        self._stores[real] = store
        return store

    def close(self) -> None:
        """Close every store the run opened (each database connection)."""
        stores, self._stores = list(self._stores.values()), {}
        for store in stores:
            store.close()

    async def changed(self, state: State, key: str, action: str, old: Any, new: Any) -> None:
        """Emit ``state.changed`` (see the module) if anyone listens."""
        events = self.events
        if events is None or not events.listening("state.changed"):
            return
        store = state.store
        await events.emit("state.changed", {
            "key": key, "action": action, "old": None if old is MISSING else old,
            "new": None if new is MISSING else new, "persistence": store.kind,
            "path": None if store.path is None else str(store.path),
        })


#: The threads that run the stores' blocking calls.  Not the event loop's default executor: a run
#: ends (``asyncio.run`` returns) without waiting for a call still blocked in one -- a write waiting
#: for another process's lock when the run's time limit struck -- which finishes on its own.
#: A forked worker starts with a new one (the parent's threads do not exist in the child).
_EXECUTOR = ThreadPoolExecutor(max_workers=4, thread_name_prefix="llmspell-state")


def _new_executor() -> None:
    global _EXECUTOR
    _EXECUTOR = ThreadPoolExecutor(max_workers=4, thread_name_prefix="llmspell-state")


os.register_at_fork(after_in_child=_new_executor)


async def _blocking(fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` on a state thread, awaited."""
    return await asyncio.get_running_loop().run_in_executor(_EXECUTOR, functools.partial(fn, *args))


def _sqlite() -> Any:
    from .sqlite import SqliteStore  # sqlite3 is imported only by runs that use it

    return SqliteStore


def _prefixed(exc: SpellError, where: str) -> SpellError:
    if exc.message.startswith(where):
        return exc
    return SpellError(exc.kind, f"{where}: {exc.message}", hint=exc.hint, run_limit=exc.run_limit)


class State:
    """One state a spell holds: get, set, delete, keys, all, transform, merge."""

    def __init__(self, service: StateService, store: Store) -> None:
        self.service = service
        self.store = store

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if isinstance(self.store, MemoryStore):
            return fn(*args)
        return await _blocking(fn, *args)

    async def get(self, key: str) -> Any:
        """The value at the dotted ``key``, or None."""
        check_key(key, "store.get")
        value = await self._run(self.store.get, key)
        return None if value is MISSING else value

    async def set(self, key: str, value: Any) -> None:
        """Store ``value`` at ``key`` (None: remove the key, as assigning nil to a Lua field does);
        durable before this returns."""
        if value is None:
            await self.delete(key, where="store.set")
            return
        check_key(key, "store.set")
        new = checked(value, key, "store.set")
        old = await self._run(self.store.change, key, new, "store.set")
        await self.service.changed(self, key, "set", old, new)

    async def delete(self, key: str, where: str = "store.delete") -> bool:
        """Remove ``key``; whether it was there."""
        check_key(key, where)
        old = await self._run(self.store.change, key, MISSING, where)
        if old is MISSING:
            return False
        await self.service.changed(self, key, "delete", old, MISSING)
        return True

    async def keys(self) -> list[str]:
        """The top-level keys, sorted."""
        return await self._run(self.store.names)

    async def all(self) -> dict[str, Any]:
        """The whole state as one table."""
        return await self._run(self.store.snapshot)

    async def transform(self, kind: str, keys: list[str] | None = None, patterns: list[str] | None = None,
                        replacement: Any = _transforms.REDACTED) -> State:
        """A new memory state made from this one's data (see :mod:`.transforms`)."""
        where = "store.transform"
        data = await self.all()
        if kind == "filter":
            if keys is None:
                raise SpellError("invalid_argument", f"{where}: filter needs keys (the keys to keep)")
            for key in keys:
                check_key(key, where)
            out = _transforms.filter_keys(data, keys, where)
        elif kind == "flatten":
            out = _transforms.flatten(data)
        else:
            chosen = _transforms.patterns_for(patterns, keys, where)
            out = _transforms.sanitize(data, chosen, checked(replacement, "replacement", where))
        return State(self.service, MemoryStore(out))

    async def merge(self, other: State | dict[str, Any], strategy: Strategy = "deep",
                    resolution: Resolution = "theirs") -> State:
        """A new memory state: this one's data merged with ``other``'s (see :mod:`.merge`)."""
        theirs = await other.all() if isinstance(other, State) else checked(other, "other", "store.merge")
        return State(self.service, MemoryStore(merge(await self.all(), theirs, strategy, resolution)))
