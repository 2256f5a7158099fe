"""Errors of Tengo scripts, worded as the reference implementation words them.

They are :class:`~llmspell.errors.SpellError` subclasses so the engine layer
can show them like any other spell error, while ``str(e)`` gives the
reference's text (``Parse Error: ...``, ``Compile Error: ...``,
``Runtime Error: ...`` followed by ``\\tat FILE:LINE:COL`` lines), which is what
the conformance cases check.
"""

from __future__ import annotations

import bisect

from llmspell.errors import Frame, SpellError


class SourceFile:
    """A script's text and name; turns character offsets into line:column.

    Columns count UTF-8 bytes from 1, as the reference (written in Go) does.
    """

    __slots__ = ("_starts", "name", "text")

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.text = text
        starts = [0]
        find = text.find
        i = find("\n")
        while i >= 0:
            starts.append(i + 1)
            i = find("\n", i + 1)
        self._starts = starts

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self._starts, offset) - 1
        start = self._starts[line]
        prefix = self.text[start:offset]
        col = (len(prefix) if prefix.isascii() else len(prefix.encode("utf-8"))) + 1
        return line + 1, col

    def line_text(self, line: int) -> str:
        if line < 1 or line > len(self._starts):
            return ""
        start = self._starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start:] if end < 0 else self.text[start:end]

    def where(self, offset: int) -> tuple[str, int, int]:
        line, col = self.position(offset)
        return self.name, line, col


class TengoScriptError(SpellError):
    """Base of the errors a script causes; ``trace`` is innermost first."""

    label = "Error"

    def __init__(self, kind: str, message: str, trace: list[tuple[str, int, int]] | None = None,
                 source_line: str | None = None) -> None:
        trace = list(trace or [])
        first = trace[0] if trace else (None, None, None)
        super().__init__(kind, message, file=first[0], line=first[1], column=first[2],
                         source_line=source_line,
                         stack=[Frame(f, ln) for f, ln, _ in trace])
        self.trace = trace

    def __str__(self) -> str:
        parts = [f"{self.label}: {self.message}"]
        parts.extend(f"\tat {f}:{ln}:{col}" for f, ln, col in self.trace)
        return "\n".join(parts)

    def __reduce__(self):  # keep pickling/copying working despite the custom __init__
        return (self.__class__, (self.kind, self.message, self.trace, self.source_line))


class TengoParseError(TengoScriptError):
    label = "Parse Error"

    def __init__(self, message: str, trace: list[tuple[str, int, int]] | None = None,
                 source_line: str | None = None) -> None:
        super().__init__("syntax_error", message, trace, source_line)

    def __reduce__(self):
        return (self.__class__, (self.message, self.trace, self.source_line))


class TengoCompileError(TengoScriptError):
    label = "Compile Error"

    def __init__(self, message: str, trace: list[tuple[str, int, int]] | None = None,
                 source_line: str | None = None) -> None:
        super().__init__("syntax_error", message, trace, source_line)

    def __reduce__(self):
        return (self.__class__, (self.message, self.trace, self.source_line))


class TengoRuntimeError(TengoScriptError):
    label = "Runtime Error"

    def __init__(self, message: str, trace: list[tuple[str, int, int]] | None = None,
                 source_line: str | None = None, kind: str = "runtime_error") -> None:
        super().__init__(kind, message, trace, source_line)

    def __reduce__(self):
        return (self.__class__, (self.message, self.trace, self.source_line, self.kind))
