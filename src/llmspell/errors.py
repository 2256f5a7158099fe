"""Errors a spell can cause, as data that every engine and the CLI can show.

A spell never sees a Python exception: whatever goes wrong on the host side is
turned into a :class:`SpellError` with a stable *kind*, a message written for
the spell's author, and the spell's own location and stack.  Engines convert it
into their language's native error (a Lua table, a JS ``Error``, a Tengo
``error`` value) and back.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import sys
from dataclasses import dataclass, field

from .display import one_line
from .wellformed import well_formed


@dataclass
class Frame:
    """One entry of a spell's stack: where the spell was, in its own source."""

    file: str
    line: int | None = None
    name: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} in {self.name}" if self.name else where


#: The most of a message (or source line, or frame) a report shows, in characters,
#: and the most frames: a spell's error text is its own, and may be megabytes.
_SHOWN = 2000
_FRAMES = 50


def clip(text: str) -> str:
    """At most _SHOWN characters of ``text``, saying how many more there were."""
    if len(text) <= _SHOWN:
        return text
    return f"{text[:_SHOWN]}... ({len(text) - _SHOWN} more characters)"


@dataclass
class SpellError(Exception):
    """An error with a kind, a message, and where in the spell it happened."""

    kind: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    source_line: str | None = None
    stack: list[Frame] = field(default_factory=list)
    hint: str | None = None
    #: A limit of the run itself (its deadline, memory, output, ...): the run ends
    #: with it and no pcall or try/catch of the spell may swallow it.
    run_limit: bool = False

    def __post_init__(self) -> None:
        # A spell's own words may hold lone surrogates: valid Unicode by the one rule (wellformed.py).
        if type(self.message) is str:
            self.message = well_formed(self.message)
        if type(self.kind) is str:
            self.kind = well_formed(self.kind)
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"

    def location(self) -> str | None:
        if not self.file:
            return None
        parts = [self.file]
        if self.line:
            parts.append(str(self.line))
            if self.column:
                parts.append(str(self.column))
        return ":".join(parts)

    def render(self) -> str:
        """The full text a user sees: location, message, caret, stack, hint.

        Each part is one line whatever the spell put in it (display.one_line):
        a message with a newline or an ANSI sequence cannot forge a line of
        this report or of the host's log, nor drive the terminal."""
        loc = self.location()
        head = f"{loc}: {self.kind}: {clip(self.message)}" if loc else f"{self.kind}: {clip(self.message)}"
        lines = [one_line(head)]
        if self.source_line is not None:
            lines.append("    " + one_line(clip(self.source_line.rstrip("\n").replace("\t", " "))))
            if self.column:
                lines.append("    " + " " * (min(self.column, _SHOWN) - 1) + "^")
        if self.stack:
            lines.append("spell stack:")
            frames = [f"    {one_line(clip(str(frame)))}" for frame in self.stack[:_FRAMES]]
            if len(self.stack) > _FRAMES:
                frames.append(f"    ... {len(self.stack) - _FRAMES} more")
            lines.extend(frames)
        if self.hint:
            lines.append(f"hint: {one_line(clip(self.hint))}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """The plain-data form that crosses into a VM or out as JSON."""
        data: dict = {"kind": self.kind, "message": self.message}
        loc = self.location()
        if loc:
            data["where"] = loc
        return data


# -- host exceptions, mapped in one place -------------------------------------------
#
# Whatever Python exception escapes a bridge, a conversion or an engine is
# turned into a SpellError here, and only here (host.internal_error, the
# worker, the engines and the CLI all call host_error).  The spell sees one of
# the API's kinds and a message about what it did; it never sees a Python
# class name, a host path or a traceback.  What is a bug of ours stays
# ``internal`` and says so; its details go to the host's stderr with
# LLMSPELL_DEBUG=1.

_log = logging.getLogger("llmspell")

DEBUG_HINT = "this is a bug in llmspell: rerun with LLMSPELL_DEBUG=1 to see its details on stderr, and report it"

#: errno -> (kind, what happened, what to do)
_OS_ERRORS: dict[int, tuple[str, str, str | None]] = {
    errno.ENOENT: ("not_found", "no such file or folder", "check the path"),
    errno.EACCES: ("permission_denied", "the operating system refused access", None),
    errno.EPERM: ("permission_denied", "the operating system does not permit this operation", None),
    errno.EROFS: ("permission_denied", "the file system is read-only", None),
    errno.EISDIR: ("invalid_argument", "the path is a folder, not a file", "give the path of a file"),
    errno.ENOTDIR: ("invalid_argument", "a part of the path is not a folder", "check the path"),
    errno.ENAMETOOLONG: ("invalid_argument", "a path or name is too long", "use a shorter path"),
    errno.ELOOP: ("invalid_argument", "the path has too many levels of symbolic links", "check the path"),
    errno.EEXIST: ("invalid_argument", "it already exists", None),
    errno.ENOTEMPTY: ("invalid_argument", "the folder is not empty", "empty it first"),
    errno.EXDEV: ("invalid_argument", "it cannot be moved to another file system", "copy it instead"),
    errno.EINVAL: ("invalid_argument", "the operating system rejected an argument", None),
    errno.ENOSPC: ("tool_error", "no space is left on the device", None),
    errno.EDQUOT: ("tool_error", "the disk quota is used up", None),
    errno.EFBIG: ("tool_error", "the file would be too large", None),
    errno.EMFILE: ("tool_error", "too many files are open", "close files you no longer need"),
    errno.ENFILE: ("tool_error", "too many files are open on the host", None),
    errno.EBUSY: ("tool_error", "the file or device is busy", "try again later"),
    errno.ETXTBSY: ("tool_error", "the file is busy", "try again later"),
    errno.ENXIO: ("invalid_argument", "the path is not a regular file (a device or socket)",
                  "give the path of a regular file"),
}


def host_error(exc: BaseException, where: str | None = None) -> SpellError:
    """The SpellError that a host exception means for the spell.

    ``where`` names what the spell called (``tools.file_write``), and begins
    the message.  A SpellError is returned unchanged.  Anything not known here
    is a bug of llmspell's: kind ``internal``, with the traceback logged at
    debug level (the CLI shows it with LLMSPELL_DEBUG=1)."""
    if isinstance(exc, SpellError):
        return exc
    err = _mapped(exc)
    if where:
        err.message = f"{where}: {err.message}"
    _log.debug("%s in %s mapped to %s", type(exc).__name__, where or "the run", err.kind, exc_info=exc)
    return err


def _mapped(exc: BaseException) -> SpellError:
    if isinstance(exc, MemoryError):
        return SpellError("memory_limit", "the spell used more memory than its limit allows",
                          hint="raise it with --max-memory SIZE", run_limit=True)
    if isinstance(exc, RecursionError):
        return SpellError("invalid_argument", "a value or call is nested too deeply for the host",
                          hint="flatten the data (fewer levels of nested tables, arrays or maps)")
    if isinstance(exc, UnicodeEncodeError) and "surrogate" in str(exc.reason):
        return SpellError("invalid_argument", "the text contains a lone surrogate (half of a UTF-16 pair, "
                          "e.g. from \\ud800), which has no UTF-8 form",
                          hint="remove it or replace it with a whole character")
    if isinstance(exc, UnicodeError):
        return SpellError("invalid_argument", "the data is not valid UTF-8 text",
                          hint="text must be UTF-8; encode binary data first (e.g. base64)")
    if isinstance(exc, OverflowError):
        return SpellError("invalid_argument", "a number is too large for the host",
                          hint="use a smaller number")
    if isinstance(exc, TimeoutError):
        return SpellError("timeout", "the operation took too long and was given up")
    if isinstance(exc, ConnectionError):
        return SpellError("tool_error", "the connection failed or was closed by the other side")
    if isinstance(exc, OSError):
        known = _OS_ERRORS.get(exc.errno or 0)
        if known is not None:
            kind, what, hint = known
            return SpellError(kind, what, hint=hint)
        reason = os.strerror(exc.errno) if exc.errno else "an operating-system error"
        return SpellError("tool_error", f"the operation failed: {reason}")
    if isinstance(exc, ValueError) and "integer string conversion" in str(exc):
        digits = sys.get_int_max_str_digits()
        return SpellError("invalid_argument", f"a number has too many digits (more than {digits})",
                          hint="pass very long numbers as strings")
    if isinstance(exc, ValueError) and "null" in str(exc) and ("byte" in str(exc) or "character" in str(exc)):
        return SpellError("invalid_argument", "a text contains a NUL character, which no path or name may hold")
    if isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt)):
        return SpellError("cancelled", "the run was cancelled")
    return SpellError("internal", "an internal error in llmspell", hint=DEBUG_HINT)
