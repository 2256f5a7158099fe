"""Pick a value out of nested data by a path such as ``a.b[0].c``.

Models and spells often get a big JSON document and need one field of it;
this is that one operation, the same in every spell language.  Indexes are
0-based (the data's own order, whatever the spell language counts from),
negative indexes count from the end, and ``["key.with.dots"]`` reaches keys a
dotted path cannot.  A missing key or index gives ``None`` (``nil`` /
``null`` / ``undefined``), as jq gives ``null``.
"""

from __future__ import annotations

import json
from typing import Any

from llmspell.errors import SpellError


def _bad(path: str, message: str) -> SpellError:
    return SpellError("invalid_argument", f"json_query: bad path {path!r}: {message}")


def parse_path(path: str) -> list[str | int]:
    """``'a.b[0]["x.y"]'`` -> ``['a', 'b', 0, 'x.y']``."""
    steps: list[str | int] = []
    i, n = 0, len(path)
    expect_key = True
    while i < n:
        char = path[i]
        if char == ".":
            if expect_key:
                raise _bad(path, f"empty key at {i}")
            expect_key = True
            i += 1
        elif char == "[":
            start = i + 1
            while start < n and path[start] == " ":
                start += 1
            if start < n and path[start] in "'\"":
                key, after = _quoted(path, start)
                close = path.find("]", after)
                if close < 0 or path[after:close].strip():
                    raise _bad(path, "expected ']' after a quoted key")
                steps.append(key)
            else:
                close = path.find("]", i)
                if close < 0:
                    raise _bad(path, "unclosed '['")
                inside = path[i + 1:close].strip()
                try:
                    steps.append(int(inside))
                except ValueError:
                    raise _bad(path, f"expected an index or a quoted key in [...], got {inside!r}") from None
            expect_key = False
            i = close + 1
        else:
            end = i
            while end < n and path[end] not in ".[":
                end += 1
            steps.append(path[i:end])
            expect_key = False
            i = end
    if expect_key and steps:
        raise _bad(path, "ends with '.'")
    return steps


def _quoted(path: str, start: int) -> tuple[str, int]:
    """The key quoted at ``start`` (backslash escapes the next character) and the index after it."""
    quote, chars = path[start], []
    i = start + 1
    while i < len(path):
        char = path[i]
        if char == "\\" and i + 1 < len(path):
            chars.append(path[i + 1])
            i += 2
            continue
        if char == quote:
            return "".join(chars), i + 1
        chars.append(char)
        i += 1
    raise _bad(path, "unclosed quote")


def json_query(data: Any, path: str) -> Any:
    """The value at ``path`` in ``data``; a string ``data`` is parsed as JSON first."""
    if not isinstance(path, str):
        raise SpellError("invalid_argument", "json_query: the path must be a string")
    text = path.strip()
    steps = parse_path(text[1:] if text.startswith(".") else text)  # jq's leading "." is optional
    if isinstance(data, str) and steps:
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise SpellError("invalid_argument",
                             f"json_query: data is a string but not JSON: {exc}") from None
    current = data
    for step in steps:
        if isinstance(step, int):
            if isinstance(current, dict) and str(step) in current:  # a Lua-style table with numeric keys
                current = current[str(step)]
            elif isinstance(current, (list, tuple)) and -len(current) <= step < len(current):
                current = current[step]
            else:
                return None
        elif isinstance(current, dict):
            if step not in current:
                return None
            current = current[step]
        elif isinstance(current, (list, tuple)) and step.lstrip("-").isdigit():
            index = int(step)
            if not -len(current) <= index < len(current):
                return None
            current = current[index]
        else:
            return None
    return current
