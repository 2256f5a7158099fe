"""The host side of one spell run: what engines and bridges share.

An engine knows its VM; a bridge knows its library.  Everything that is about
*this run* — its parameters, policy, limits, output, the bridge instances and
the bridge calls in flight — lives here, so that every engine enforces the
same limits with the same meaning.  What happens to one bridge call is not
here but in :mod:`llmspell.dispatch`, which reads and charges this state.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import logging
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .display import utf8_safe
from .errors import SpellError
from .sandbox.processes import Children

if TYPE_CHECKING:
    from .bridges.base import Bridge
    from .config import Settings
    from .dispatch import Interceptor
    from .services import RunServices

log = logging.getLogger("llmspell")


@dataclass
class RunLimits:
    """The resource limits of one run, with the same meaning in every engine."""

    timeout: float | None = None
    max_memory: int | None = None
    max_instructions: int | None = None
    max_bridge_calls: int | None = None
    max_concurrent: int | None = None
    max_llm_calls: int | None = None
    max_tokens: int | None = None
    max_output: int | None = None
    max_write: int | None = None

    @classmethod
    def from_policy(cls, policy: Any) -> RunLimits:
        names = cls.__dataclass_fields__
        return cls(**{n: getattr(policy, n, None) for n in names})


@dataclass
class SpellRun:
    """State of one spell run, created by the runtime for each run."""

    filename: str
    params: dict[str, Any]
    settings: Settings
    policy: Any
    limits: RunLimits
    write: Callable[[str], None] = lambda text: sys.stdout.write(text)
    model_override: str | list[str] | None = None
    base_dir: Path = field(default_factory=Path.cwd)
    bridges: dict[str, Bridge] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)
    output_bytes: int = 0
    output_over: bool = False
    #: Bytes written to files so far (see count_write).
    written_bytes: int = 0
    #: The programs the spell started: ended with the run (see close).
    children: Children = field(default_factory=Children)
    _write_lock: threading.Lock = field(default_factory=threading.Lock)
    _tasks: set[asyncio.Task] = field(default_factory=set)
    #: What attaches at the one call path (dispatch.Interceptor), in order; empty: none, at no cost.
    interceptors: tuple[Interceptor, ...] = ()
    #: The run's max_concurrent slots, taken by async bridge calls while they work (see dispatch._Slot).
    _semaphore: asyncio.Semaphore | None = None
    #: Spell functions the host waits on now (a tool's handler, a hook...: see dispatch.in_spell).
    _in_spell: int = 0
    #: MethodSpec -> True, or the policy's error for a disabled method (see dispatch.allowed).
    _allowed: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        limit = self.limits.max_bridge_calls
        self._max_calls = 1 << 62 if limit is None else limit
        #: The bridge-call budget (dispatch takes from it): ``next(host.budget, False)`` takes one call,
        #: true while the run has calls left.  One C-level call that makes
        #: no object, on the hot path, where a counter and a comparison cost 3x.
        self.budget = itertools.repeat(True, self._max_calls)

    @property
    def bridge_calls(self) -> int:
        return self._max_calls - self.budget.__length_hint__()

    @property
    def deadline(self) -> float | None:
        t = self.limits.timeout
        return None if t is None else self.started + t

    def remaining(self) -> float | None:
        d = self.deadline
        return None if d is None else d - time.monotonic()

    def timeout_error(self) -> SpellError:
        return SpellError(  # the run's own deadline: not a provider timeout the spell may catch
            "timeout", f"the spell ran longer than its time limit of {self.limits.timeout:g}s",
            hint="raise it with --timeout SECONDS if the spell needs longer", file=self.filename, run_limit=True,
        )

    def memory_error(self) -> SpellError:
        limit = self.limits.max_memory
        what = f"its memory limit of {limit} bytes" if limit else "the memory available"
        return SpellError("memory_limit", f"the spell used more than {what}", file=self.filename,
                          hint="raise it with --max-memory SIZE (e.g. 256MB)", run_limit=True)

    # -- output ---------------------------------------------------------
    # Every byte a spell makes the host write where a person reads it (print,
    # console.log, fmt.println, log.*, console.error) is charged to ONE budget,
    # max_output, *before* it is written: a message too big for what is left
    # is refused whole, never written first and counted after.
    def print(self, text: str) -> None:
        """Spell output, counted against ``max_output``."""
        self.charge_output(text)
        self.write(utf8_safe(text))

    def charge_output(self, text: str, extra: int = 0) -> None:
        """Take ``text`` (plus ``extra`` bytes of framing) from the output
        budget, or end the run with ``limit_exceeded`` if it does not fit."""
        limit = self.limits.max_output
        if limit is None:
            return
        left = -1 if self.output_over else limit - self.output_bytes - extra
        # A character is at least one byte: a text longer than what is left is
        # refused without encoding it (a spell may hand over hundreds of MB).
        size = len(text) if len(text) > left else len(text.encode("utf-8", "replace"))
        if size > left:
            raise self.output_error()
        self.output_bytes += size + extra

    def output_room(self) -> int | None:
        """Bytes of output the run may still cause (None: no limit)."""
        limit = self.limits.max_output
        return None if limit is None else -1 if self.output_over else limit - self.output_bytes

    def output_error(self) -> SpellError:
        """The error that refuses output; from now on all output is refused
        (a smaller message after a refused one too), and the run ends with it."""
        self.output_over = True
        return SpellError("limit_exceeded", "the spell printed or logged more than its output limit of "
                          f"{self.limits.max_output} bytes", hint="raise it with --max-output SIZE", run_limit=True)

    def spawn(self, coro: Any) -> asyncio.Task:
        """Start a task that belongs to this run, cancelled when it ends."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def close(self) -> None:
        """Cancel whatever the run left in flight (no orphaned requests) and end
        every program the spell started."""
        if "services" in self.__dict__:  # MCP servers first: a stdio one is asked to stop before it is killed
            await self.services.mcp.close()
        self.children.end()
        tasks = [t for t in self._tasks if not t.done()]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        services = self.__dict__.get("services")  # made only if a bridge asked for it
        if services is not None:
            services.close()

    def count_write(self, size: int) -> None:
        """Take ``size`` bytes, about to be written to a file, from the run's write
        quota (``max_write``), or refuse them with ``limit_exceeded`` (which ends
        the run).  Every write path calls this before writing; thread-safe."""
        limit = self.limits.max_write
        with self._write_lock:
            if limit is not None and self.written_bytes + size > limit:
                raise SpellError("limit_exceeded", f"the spell wrote more than its limit of {limit} bytes to "
                                 "files", hint="raise it with --max-write SIZE", file=self.filename, run_limit=True)
            self.written_bytes += size

    @functools.cached_property
    def services(self) -> RunServices:
        """The run's services (models, tools, usage: :class:`~llmspell.services.RunServices`),
        made when a bridge first asks; bridges delegate to these."""
        from .services import RunServices

        return RunServices.for_host(self)


def is_run_limit(exc: SpellError) -> bool:
    """Does this error end the run (a limit of the run itself), rather than fail one bridge call that the
    spell may catch?  A provider's ``timeout`` is catchable; the run's own deadline is not."""
    if exc.run_limit:
        return True
    return exc.kind in ("memory_limit", "limit_exceeded") and exc.file is None
