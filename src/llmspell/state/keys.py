"""Dotted keys: ``"context.topic"`` names ``topic`` inside the table ``context``.

A state is stored by its top-level keys (a row, or a member of the file's
object), so a key splits into the top-level name and the path inside its
value.  A name that itself holds dots (a flattened state's ``"a.b"``) is
found as written first: at each level the longest name the table holds that
the rest of the key starts with is taken (the whole rest first), else the
next part, so ``flatten`` gives a state whose keys still read back with
``get``.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from llmspell.errors import SpellError

#: The value of a key that is not there (``None`` is a stored null).
MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING", "__slots__": ()})()


def check_key(key: str, where: str) -> None:
    """Refuse a key with an empty part (``""``, ``"a..b"``, ``".a"``)."""
    if not key or any(not part for part in key.split(".")):
        raise SpellError("invalid_argument", f'{where}: "{key}" is not a key: a key is names joined by dots, '
                         "none of them empty", hint='for example "topic" or "context.topic"')


def candidates(key: str) -> list[str]:
    """The names ``key`` may start with, longest first (the whole key first)."""
    parts = key.split(".")
    return [".".join(parts[:n]) for n in range(len(parts), 0, -1)]


def step(present: Container[str], key: str) -> tuple[str, str]:
    """``(name, rest)``: the longest name in ``present`` that ``key`` starts with, else its first part."""
    if key in present or "." not in key:
        return key, ""
    parts = key.split(".")
    for n in range(len(parts) - 1, 0, -1):
        head = ".".join(parts[:n])
        if head in present:
            return head, ".".join(parts[n:])
    return parts[0], ".".join(parts[1:])


def get_in(value: Any, rest: str) -> Any:
    """What ``rest`` names inside ``value`` (MISSING when not there)."""
    while rest:
        if type(value) is not dict:
            return MISSING
        name, rest = step(value, rest)
        if name not in value:
            return MISSING
        value = value[name]
    return value


def set_in(value: Any, rest: str, new: Any, key: str, where: str) -> Any:
    """``value`` with ``rest`` inside it set to ``new`` (MISSING: removed), as a new value: the
    tables on the way are copied, never changed.  A missing table on the way is made; a value on
    the way that is not a table is ``invalid_argument`` naming it."""
    if not rest:
        return new
    if value is MISSING or value is None:
        if new is MISSING:
            return value
        value = {}
    if type(value) is not dict:
        done = key[: len(key) - len(rest) - 1]
        raise SpellError("invalid_argument", f'{where}: cannot reach "{key}": "{done}" holds '
                         f"{_what(value)}, not a table", hint=f'set "{done}" to a table first, or use another key')
    name, tail = step(value, rest)
    inner = set_in(value.get(name, MISSING), tail, new, key, where)
    out = dict(value)
    if inner is MISSING:
        out.pop(name, None)
    else:
        out[name] = inner
    return out


def _what(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "nil"
