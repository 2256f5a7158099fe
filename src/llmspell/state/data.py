"""What a state may hold: JSON-like data, checked once where it comes in.

A state outlives the spell (a file, a database) and is read back by other
spells in other languages, so it holds only what every language and JSON
share: nil/null, booleans, numbers (finite), strings, lists and tables with
string keys.  A function or a handle has no meaning outside the run that made
it; saying so at ``set`` -- naming the key and the place inside the value --
beats a state that cannot be read back.  The same rule holds for ``memory``
states, so a spell that works on one works on all three.

:func:`checked` returns a fresh copy, so the stored data never shares a
container with the caller (merges and transforms never change their inputs).
"""

from __future__ import annotations

import json
import math
from typing import Any

from llmspell.errors import SpellError
from llmspell.values import NULL, HostHandle, ScriptFunction
from llmspell.wellformed import well_formed


def _where(key: str, inner: str) -> str:
    # Positions in lists are left out of the name: Lua counts them from 1, the others from 0.
    path, listed, _ = inner.partition("[]")
    return f'"{key}{path}"' + (" (inside a list)" if listed else "")


def checked(value: Any, key: str, where: str = "state.set") -> Any:
    """``value`` as plain JSON-like Python data (a deep copy), or ``invalid_argument`` naming
    ``key`` and the place inside the value that a state cannot hold."""

    def walk(v: Any, inner: str) -> Any:
        t = type(v)
        if t is str:
            return v if v.isascii() else well_formed(v)
        if v is None or v is NULL:
            return None
        if t is bool or t is int:
            return v
        if t is float:
            if not math.isfinite(v):
                raise SpellError("invalid_argument", f"{where}: the value at {_where(key, inner)} is "
                                 f"{'NaN' if v != v else 'infinite'}; a state holds JSON numbers only")
            return v
        if t is list or t is tuple:
            return [walk(x, inner if "[]" in inner else inner + "[]") for x in v]
        if t is dict:
            out = {}
            for k, x in v.items():
                if type(k) is not str:
                    k = str(k) if type(k) is int else _key_text(k, key, inner, where)
                out[k if k.isascii() else well_formed(k)] = walk(x, f"{inner}.{k}")
            return out
        what = ("a function" if isinstance(v, ScriptFunction) else "a handle" if isinstance(v, HostHandle)
                else "an error value" if isinstance(v, SpellError) else "a value with no JSON form")
        raise SpellError("invalid_argument", f"{where}: the value at {_where(key, inner)} is {what}; a state "
                         "holds data only (nil, booleans, numbers, strings, lists and tables)",
                         hint="store the data the function or handle works on, not the function itself")

    return walk(value, "")


def _key_text(k: Any, key: str, inner: str, where: str) -> str:
    if type(k) is float and math.isfinite(k):
        return str(int(k)) if k.is_integer() else repr(k)
    raise SpellError("invalid_argument", f"{where}: a key inside {_where(key, inner)} is not a string")


def copy(value: Any) -> Any:
    """A deep copy of data that is already checked (cheaper than ``copy.deepcopy``)."""
    t = type(value)
    if t is dict:
        return {k: copy(v) for k, v in value.items()}
    if t is list:
        return [copy(v) for v in value]
    return value


def encode(value: Any) -> str:
    """Checked data as JSON text: floats keep their point (``4.0``), so a float reads back a float."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"), sort_keys=True)


def decode(text: str | bytes) -> Any:
    """JSON text a store wrote; raises ``ValueError`` for text that is not (a corrupt store)."""
    return json.loads(text, parse_constant=_no_constant)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")
