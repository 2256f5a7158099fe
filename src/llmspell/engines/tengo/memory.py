"""The memory budget of one Tengo run (``--max-memory``).

Lua and QuickJS count every byte their VM allocates.  A Tengo spell's values
are ordinary Python objects in the host's heap, and counting each one would
cost the interpreter its speed, so the budget is held with two cheap measures:

* the process's resident memory (``/proc/self/statm``, one ``pread`` of a
  file kept open: well under a microsecond), relative to what it was when the
  spell started, read at every interpreter tick (the 1024 loop iterations or
  calls between two instruction-budget checks).  That is the live heap, gone
  garbage included once it is freed, whatever made it grow;
* a size check *before* every allocation whose size the spell's data decides
  (string concatenation, ``text.repeat``, ``bytes(n)``, ``append``,
  ``json.decode``, ...): it is announced with :meth:`Memory.need` and refused
  when it does not fit in what is left.  Announcements add up between two
  readings, so many allocations within one tick cannot overshoot either.

What the data does not decide (a literal, a closure, a small string) is
small; the readings at the ticks cover it, and the compiler weighs a tick by
the size of the loop body or function it counts, so a tick stays small.

The reading is the whole process's: in a worker (the default isolation) that
is the spell alone.  Inline, whatever else the host does meanwhile counts
too (see docs/ARCHITECTURE.md).  Before it fails a spell the budget collects
garbage and gives freed heap back to the system (``malloc_trim``) and reads
again, so memory the allocator merely kept is not held against the spell.
"""

from __future__ import annotations

import ctypes
import gc
import os
import resource
import sys
from typing import Any

from ...errors import SpellError

#: Allocations smaller than this are not announced (the tick readings cover
#: them: a tick is at most 1024 passes of 64 syntax nodes, so at most 16 MB).
SMALL = 256
#: The bytes a list slot, a dict entry and a small object header take (CPython, 64-bit).
SLOT = 8
ENTRY = 48
HEADER = 64

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def _open_statm() -> int | None:
    try:
        return os.open("/proc/self/statm", os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:
        return None


def _find_malloc_trim() -> Any:
    """glibc's ``malloc_trim``, looked up once at import (the process's own
    symbols: no library search, which a confined worker could not do)."""
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


_MALLOC_TRIM = _find_malloc_trim()


def _malloc_trim() -> None:
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


class Memory:
    """One run's memory budget of ``limit`` bytes above the process's
    resident memory when the run started."""

    __slots__ = ("_fd", "base", "limit", "pending", "room", "used")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._fd = _open_statm()
        self.base = self.resident()
        self.used = 0
        #: bytes announced since the last reading
        self.pending = 0
        #: what may still be announced before a fresh reading is needed
        self.room = limit

    def resident(self) -> int:
        """The process's resident memory now, in bytes."""
        fd = self._fd
        if fd is not None:
            try:
                return int(os.pread(fd, 128, 0).split()[1]) * _PAGE
            except (OSError, ValueError, IndexError):
                pass
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # the peak: an upper bound
        return peak if sys.platform == "darwin" else peak * 1024

    # -- the checks ---------------------------------------------------------------
    def sample(self) -> None:
        """A reading (at a tick): fails the run when the live heap is over the limit."""
        used = self.resident() - self.base
        if used > self.limit:
            used = self._rescue()
            if used > self.limit:
                raise self.error()
        self.used = used
        self.pending = 0
        self.room = self.limit - used

    def need(self, nbytes: int) -> None:
        """Before allocating ``nbytes``: refuse it when it does not fit."""
        total = self.pending + nbytes
        if total <= self.room:
            self.pending = total
            return
        self.sample()
        if nbytes > self.room:
            self.used = self._rescue()
            self.room = self.limit - self.used
            if nbytes > self.room:
                raise self.error()
        self.pending = nbytes

    def took(self, nbytes: int) -> None:
        """After allocating ``nbytes`` (a result whose size was only known
        once made): a fresh reading when the announcements fill the room."""
        total = self.pending + nbytes
        if total <= self.room:
            self.pending = total
            return
        self.sample()

    def rebase(self, grown: int) -> None:
        """Forgive ``grown`` bytes the host itself took (a bridge call's own
        buffers and imports), as Lua and QuickJS never count them."""
        if grown > 0:
            self.base += grown

    def _rescue(self) -> int:
        """Collect garbage and return freed heap to the system; the fresh use."""
        gc.collect()
        _malloc_trim()
        return self.resident() - self.base

    def error(self) -> SpellError:
        return SpellError("memory_limit", f"the spell used more than its memory limit of {self.limit} bytes",
                          hint="raise it with --max-memory SIZE (e.g. 256MB)", run_limit=True)

    def close(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


# --- sizes of values about to be made ---------------------------------------------

def str_width(s: str) -> int:
    """Bytes per character of ``s`` as CPython stores it (1, 2 or 4)."""
    if s.isascii():
        return 1
    per = (sys.getsizeof(s) - 72) // (len(s) + 1)
    return 1 if per <= 1 else 2 if per <= 3 else 4


def str_bytes(length: int, *parts: str) -> int:
    """The size of a new string of ``length`` characters made from ``parts``."""
    width = max((str_width(p) for p in parts), default=1)
    return HEADER + length * width


def value_size(v: object) -> int:
    """A shallow size estimate of a value just made (for :meth:`Memory.took`):
    strings and bytes by their length, arrays and maps by their slots plus
    the strings directly inside them."""
    t = type(v)
    if t is str:
        return HEADER + len(v) * str_width(v)  # type: ignore[arg-type]
    if t is bytearray or t is bytes:
        return HEADER + len(v)  # type: ignore[arg-type]
    if isinstance(v, list):
        n = len(v)
        if n < 64:
            return HEADER + n * SLOT
        return HEADER + n * SLOT + sum(len(x) + HEADER for x in v if type(x) is str)
    if isinstance(v, dict):
        return HEADER + len(v) * ENTRY + sum(len(x) + HEADER for x in v.values() if type(x) is str)
    return 0
