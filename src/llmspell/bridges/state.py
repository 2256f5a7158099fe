"""``state``: key-value state that persists (memory, a JSON file, SQLite), with dotted keys.

``state.create`` returns a state object; its methods convert the spell's values and delegate to
:class:`~llmspell.state.State` (the run's :class:`~llmspell.state.StateService`,
``host.services.state``), where the checks, the files and the events are.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from ..errors import SpellError
from ..state import State
from ..values import HostHandle
from .base import Bridge, Options, method


class StateOptions(Options):
    persistence: Annotated[Literal["memory", "file", "sqlite"] | None,
                           "where the state lives (default: sqlite for a path ending in .db, .sqlite or "
                           ".sqlite3, file for another path, memory without one)"] = None
    path: Annotated[str | None, "the state's file (needs --allow-read and --allow-write for its folder)"] = None


class TransformOptions(Options):
    type: Annotated[Literal["filter", "flatten", "sanitize"], "which transform"]
    keys: Annotated[list[str] | None, "filter: the (dotted) keys to keep; sanitize: key patterns added to the "
                    "secret ones"] = None
    patterns: Annotated[list[str] | None, "sanitize: the secret-key patterns, replacing the defaults"] = None
    replacement: Annotated[Any, "sanitize: what a secret value becomes (default \"[REDACTED]\")"] = "[REDACTED]"


class MergeOptions(Options):
    strategy: Annotated[Literal["deep", "shallow", "replace"],
                        "deep: tables inside tables merge key by key; shallow: per top-level key; replace: one "
                        "side whole"] = "deep"
    conflictResolution: Annotated[Literal["ours", "theirs"],  # noqa: N815 - the API's name
                                  "whose value stays where both hold a key (ours: the state merge is "
                                  "called on), or which side replace keeps"] = "theirs"


class StoreHandle(Bridge):
    """A state, as ``state.create`` returns it: dotted keys (``"context.topic"``) reach inside tables.

    Every change emits ``state.changed`` with ``key``, ``action`` (set or delete), ``old``, ``new``,
    ``persistence`` and ``path``; ``st.persistence`` and ``st.path`` say where it lives."""

    name = "store"
    description = ("A state (state.create): dotted keys reach inside tables; st.persistence and st.path say "
                   "where it lives; every change emits state.changed {key, action, old, new, persistence, path}.")

    def __init__(self, host: Any, state: State) -> None:
        super().__init__(host)
        self.state = state

    def script_attributes(self) -> dict[str, Any]:
        store = self.state.store
        return {"persistence": store.kind, "path": None if store.path is None else str(store.path)}

    @method
    async def get(self, key: Annotated[str, "a key; dots reach inside tables"]) -> Any:
        """The value at key, or nil."""
        return await self.state.get(key)

    @method
    async def set(self, key: Annotated[str, "a key; dots reach inside tables (made as needed)"],
                  value: Annotated[Any, "data: nil, booleans, numbers, strings, lists, tables (nil removes "
                                   "the key)"] = None) -> None:
        """Store a value; in a file or database it is on disk before this returns."""
        await self.state.set(key, value)

    @method
    async def delete(self, key: Annotated[str, "a key; dots reach inside tables"]) -> bool:
        """Remove a key; true if it was there."""
        return await self.state.delete(key)

    @method
    async def keys(self) -> list[str]:
        """The top-level keys, sorted."""
        return await self.state.keys()

    @method
    async def all(self) -> dict[str, Any]:
        """The whole state as one table."""
        return await self.state.all()

    @method
    async def transform(self, spec: Annotated[TransformOptions, "the transform"]) -> HostHandle:
        """A new memory state: filter (keep keys), flatten (dotted keys) or sanitize (redact secrets)."""
        made = await self.state.transform(spec.type, spec.keys, spec.patterns, spec.replacement)
        return StoreHandle(self.host, made).handle()

    @method
    async def merge(self, other: Annotated[Any, "another state, or a table"],
                    opts: Annotated[MergeOptions | None, "strategy and conflictResolution"] = None) -> HostHandle:
        """A new memory state: this one's data merged with other's; neither input changes."""
        opts = opts or MergeOptions()
        if isinstance(other, HostHandle) and isinstance(other.bridge, StoreHandle):
            source: State | dict[str, Any] = other.bridge.state
        elif isinstance(other, dict):
            source = other
        elif isinstance(other, list) and not other:
            source = {}  # an empty Lua table
        else:
            raise SpellError("invalid_argument", "store.merge: other must be a state or a table")
        made = await self.state.merge(source, opts.strategy, opts.conflictResolution)
        return StoreHandle(self.host, made).handle()


class StateBridge(Bridge):
    name = "state"
    description = "State that persists (memory, a JSON file, SQLite): dotted keys, transforms, merges."

    @method
    async def create(self, opts: Annotated[StateOptions | None, "persistence and path"] = None) -> HostHandle:
        """A state: in memory, or the one in the file path (made if missing)."""
        opts = opts or StateOptions()
        made = await self.host.services.state.create(opts.persistence, opts.path)
        return StoreHandle(self.host, made).handle()
