"""One run's events: who listens to what, and delivering an event to them.

Services emit built-in events (a tool ran, a model answered) and a spell emits
its own with ``events.emit``; listeners are the spell's functions, run back on
its VM, one after another in the order they were added.  An event nobody
listens to must cost nothing, so an emitter asks :meth:`EventBus.listening`
before it builds the event's fields: with no listener that is one falsy
check.  Patterns are names or globs (``agent.*``, ``*``, ``tool.?``), matched
with :func:`fnmatch.fnmatchcase` -- the same rule in every spell language.

A listener that fails does not stop the event reaching the others or the
work that emitted it: its error is kept (:attr:`EventBus.failures`) and
reported -- a built-in event's (:meth:`EventBus.emit`) as a warning on the
run's log, a spell's own (``events.emit``, :meth:`EventBus.deliver`) raised to
the spell that emitted it once every listener ran.  A run limit or a cancellation raised in a listener ends the run.

An event emitted while another is being delivered (a listener that emits, or
makes a tool call that does) is queued and delivered right after it, in
order, by the same delivery: a listener never runs inside another, so a
listener that emits the event it listens to loops instead of nesting ever
deeper, and the loop is bounded: one delivery carries at most
:data:`MAX_CASCADE` queued events, then an emit is refused with
``limit_exceeded``, a limit of the run that ends it (such a loop never ends by
itself).  A queued emit returns before its event is delivered; its listeners'
failures are reported with the delivery's.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

#: A listener: called with the event's fields, awaited.
Listener = Callable[[dict[str, Any]], Awaitable[Any]]

#: The most events one delivery carries after its own (those its listeners emit, and theirs, ...).
MAX_CASCADE = 1000


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

    def __init__(self, warn: Callable[[str], None] | None = None) -> None:
        #: Where a failed listener of a built-in event is reported (:meth:`emit`): the run's log.
        self.warn = warn
        self._subscriptions: list[_Subscription] = []
        self._ids = itertools.count(1)
        self._event_ids = itertools.count(1)
        #: Errors raised by listeners, oldest first, as ``(event name, exception)``.
        self.failures: list[tuple[str, BaseException]] = []
        #: Events emitted while one is being delivered, waiting for their turn.
        self._queue: deque[Event] = deque()
        self._delivering = False
        #: How many events the current delivery has queued so far (see MAX_CASCADE).
        self._cascade = 0

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
        """Deliver ``name`` with ``data`` to its listeners in order; returns how many were called (or,
        while another event is being delivered, will be: it is queued behind it, see the module).
        A listener's error does not stop the next listener, nor fail the caller: it is recorded in
        :attr:`failures` and reported to :attr:`warn` (the run's log), one line each; a run limit or a
        cancellation is raised at once.  (``events.emit`` uses :meth:`deliver` to raise them instead.)"""
        called, failed = await self._emit(name, data)
        for event, exc in failed:
            text = f"events: a listener of {event!r} failed: {_described(exc)}"
            if self.warn is not None:
                self.warn(text)
            else:
                logging.getLogger("llmspell.spell").warning("%s", text)
        return called

    async def deliver(self, name: str, data: Mapping[str, Any] | None = None
                      ) -> tuple[int, list[tuple[str, BaseException]]]:
        """As :meth:`emit`, but the failures of the listeners this call ran are returned, not reported,
        as ``(event name, exception)``: this event's and those of the events queued meanwhile."""
        return await self._emit(name, data)

    async def _emit(self, name: str, data: Mapping[str, Any] | None) -> tuple[int, list]:
        count = sum(1 for s in self._subscriptions if self._matches(s, name))
        if not count:
            return 0, []
        event = Event(name, dict(data or {}), time.time(), next(self._event_ids))
        if self._delivering:
            if self._cascade >= MAX_CASCADE:
                from llmspell.errors import SpellError

                raise SpellError("limit_exceeded", f"events: more than {MAX_CASCADE} events emitted while "
                                 f"one was being delivered ({name!r} was refused)",
                                 hint="a listener that emits the event it listens to never ends: stop it")
            self._queue.append(event)
            self._cascade += 1
            return count, []
        self._delivering, self._cascade = True, 0
        failed: list[tuple[str, BaseException]] = []
        try:
            called = await self._to_listeners(event, failed)
            while self._queue:
                await self._to_listeners(self._queue.popleft(), failed)
        finally:
            self._delivering = False
            self._queue.clear()
        self.failures.extend(failed)
        return called, failed

    async def _to_listeners(self, event: Event, failed: list) -> int:
        targets = [s for s in self._subscriptions if self._matches(s, event.name)]
        called = 0
        for sub in targets:
            if sub.once:
                if not self.off(sub.id):
                    continue  # a listener called for an earlier event already removed it
            elif not any(s is sub for s in self._subscriptions):
                continue  # removed by an earlier listener of this event
            called += 1
            try:
                await sub.listener(event.fields())
            except Exception as exc:  # noqa: BLE001 -- the listener's own failure; limits pass through
                if _ends_run(exc):
                    raise
                failed.append((event.name, exc))
        return called

    @staticmethod
    def _matches(sub: _Subscription, name: str) -> bool:
        return sub.pattern == name if sub.exact else fnmatchcase(name, sub.pattern)


def _described(exc: BaseException) -> str:
    """A listener's error as one line: kind, message and, when known, where in the spell it was raised."""
    from llmspell.errors import SpellError, host_error

    if not isinstance(exc, SpellError):
        exc = host_error(exc)
    where = exc.location()
    return f"{exc.kind}: {exc.message}" + (f" (at {where})" if where else "")


def _ends_run(exc: BaseException) -> bool:
    """A run limit or a cancellation: not a listener's failure but the end of the run."""
    from llmspell.errors import SpellError
    from llmspell.host import is_run_limit

    return isinstance(exc, SpellError) and (exc.kind == "cancelled" or is_run_limit(exc))
