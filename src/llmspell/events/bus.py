"""One run's events: who listens to what, and delivering an event to them.

Services emit built-in events (a tool ran, a model answered) and a spell emits
its own with ``events.emit``; listeners are the spell's functions, run back on
its VM, one after another in the order they were added.  An event nobody
listens to must cost nothing, so an emitter asks :meth:`EventBus.listening`
before it builds the event's fields: with no listener that is one falsy
check.  Patterns are names or globs (``agent.*``, ``*``, ``tool.?``), matched
with :func:`fnmatch.fnmatchcase` -- the same rule in every spell language.

A listener that fails does not stop the event reaching the others or the
work that emitted it: its error is kept (:attr:`EventBus.failures`) and the
caller decides (``events.emit`` reports it to the spell; a built-in event logs
it).  A run limit or a cancellation raised in a listener ends the run.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

#: A listener: called with the event's fields, awaited.
Listener = Callable[[dict[str, Any]], Awaitable[Any]]


@dataclass
class _Subscription:
    id: int
    pattern: str
    listener: Listener
    once: bool
    #: The pattern has no glob characters: matched by equality.
    exact: bool


@dataclass(frozen=True)
class Event:
    """One delivered event, as listeners see it: ``{name, data, timestamp, id}`` merged with ``data``'s fields."""

    name: str
    data: Mapping[str, Any]
    timestamp: float
    id: int

    def fields(self) -> dict[str, Any]:
        """What a listener is called with; ``data``'s own fields do not hide the four standard ones."""
        return {**self.data, "name": self.name, "data": dict(self.data), "timestamp": self.timestamp,
                "id": self.id}


class EventBus:
    """The listeners of one run."""

    def __init__(self) -> None:
        self._subscriptions: list[_Subscription] = []
        self._ids = itertools.count(1)
        self._event_ids = itertools.count(1)
        #: Errors raised by listeners, oldest first, as ``(event name, exception)``.
        self.failures: list[tuple[str, BaseException]] = []

    def __bool__(self) -> bool:
        return bool(self._subscriptions)

    def on(self, pattern: str, listener: Listener, *, once: bool = False) -> int:
        """Call ``listener`` for every event whose name matches ``pattern`` (for the first only, ``once``);
        returns the id that :meth:`off` takes."""
        sub = _Subscription(next(self._ids), pattern, listener, once, not any(c in pattern for c in "*?["))
        self._subscriptions.append(sub)
        return sub.id

    def off(self, subscription: int) -> bool:
        """Stop a listener; False if there was none with that id (already removed, or a ``once`` that fired)."""
        before = len(self._subscriptions)
        self._subscriptions = [s for s in self._subscriptions if s.id != subscription]
        return len(self._subscriptions) != before

    def listening(self, name: str) -> bool:
        """Whether an event called ``name`` would reach anyone (false at once when no one listens)."""
        return bool(self._subscriptions) and any(self._matches(s, name) for s in self._subscriptions)

    async def emit(self, name: str, data: Mapping[str, Any] | None = None) -> int:
        """Deliver ``name`` with ``data`` to its listeners in order; returns how many were called.
        A listener's error is recorded in :attr:`failures` and the next listener still runs;
        a run limit or a cancellation is raised at once."""
        targets = [s for s in self._subscriptions if self._matches(s, name)]
        if not targets:
            return 0
        event = Event(name, dict(data or {}), time.time(), next(self._event_ids))
        called = 0
        for sub in targets:
            if sub.once:
                if not self.off(sub.id):
                    continue  # a listener called for an earlier event already removed it
            called += 1
            try:
                await sub.listener(event.fields())
            except Exception as exc:  # noqa: BLE001 -- the listener's own failure; limits pass through
                if _ends_run(exc):
                    raise
                self.failures.append((name, exc))
        return called

    @staticmethod
    def _matches(sub: _Subscription, name: str) -> bool:
        return sub.pattern == name if sub.exact else fnmatchcase(name, sub.pattern)


def _ends_run(exc: BaseException) -> bool:
    """A run limit or a cancellation: not a listener's failure but the end of the run."""
    from llmspell.errors import SpellError
    from llmspell.host import is_run_limit

    return isinstance(exc, SpellError) and (exc.kind == "cancelled" or is_run_limit(exc))
