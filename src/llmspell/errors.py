"""Errors a spell can cause, as data that every engine and the CLI can show.

A spell never sees a Python exception: whatever goes wrong on the host side is
turned into a :class:`SpellError` with a stable *kind*, a message written for
the spell's author, and the spell's own location and stack.  Engines convert it
into their language's native error (a Lua table, a JS ``Error``, a Tengo
``error`` value) and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: The stable error kinds of API.md.  Spells may compare against these strings.
KINDS = (
    "invalid_argument",
    "not_found",
    "permission_denied",
    "timeout",
    "memory_limit",
    "provider_error",
    "rate_limited",
    "validation_error",
    "tool_error",
    "cancelled",
    "internal",
    # Not bridge errors, but raised by engines for the spell's own code.
    "syntax_error",
    "runtime_error",
    "limit_exceeded",
)


@dataclass
class Frame:
    """One entry of a spell's stack: where the spell was, in its own source."""

    file: str
    line: int | None = None
    name: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where} in {self.name}" if self.name else where


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

    def __post_init__(self) -> None:
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
        """The full text a user sees: location, message, caret, stack, hint."""
        loc = self.location()
        head = f"{loc}: {self.kind}: {self.message}" if loc else str(self)
        lines = [head]
        if self.source_line is not None:
            lines.append("    " + self.source_line.rstrip("\n"))
            if self.column:
                lines.append("    " + " " * (self.column - 1) + "^")
        if self.stack:
            lines.append("spell stack:")
            lines.extend(f"    {frame}" for frame in self.stack)
        if self.hint:
            lines.append(f"hint: {self.hint}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """The plain-data form that crosses into a VM or out as JSON."""
        data: dict = {"kind": self.kind, "message": self.message}
        loc = self.location()
        if loc:
            data["where"] = loc
        return data


def error(kind: str, message: str, *, hint: str | None = None) -> SpellError:
    """Shorthand used by bridges: ``raise error("not_found", "...")``."""
    return SpellError(kind, message, hint=hint)
