"""Syntax errors in one shape for every engine: the spell's file, line and
column, and the source line, so that the CLI shows each language's mistakes
the same way (``file:line:col``, the line, a caret)."""

from __future__ import annotations

from ..errors import SpellError


def syntax_error(message: str, filename: str, source: str, line: int | None, column: int | None = None,
                 near: str | None = None, at_end: bool = False) -> SpellError:
    """A ``syntax_error`` at ``line`` of ``source``.  Without a ``column``, it
    is where ``near`` (the token the parser names) is on that line, else past
    the line's end if the parser met the end of the file (``at_end``), else 1."""
    if line is None:
        return SpellError("syntax_error", message, file=filename)
    lines = source.splitlines()
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    if column is None:
        if near and near in text:
            column = text.index(near) + 1
        elif at_end:
            column = len(text) + 1
        else:
            column = 1
    return SpellError("syntax_error", message, file=filename, line=line, column=column, source_line=text)
