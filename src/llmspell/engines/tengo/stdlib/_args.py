"""Argument conversion shared by the standard library modules.

The reference converts module arguments leniently (``text.repeat("a", "3")``
works because ``"3"`` converts to an int) and reports misuse with the same two
errors everywhere.  Keeping the conversions in one place keeps every module
consistent with ``runtime-types.md``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..convert import to_bytes, to_float, to_int, to_str, to_time
from ..memory import HEADER, SMALL
from ..objects import (
    Builtin,
    ImmutableArray,
    ImmutableMap,
    InvalidArgumentType,
    TengoError,
    WrongNumArguments,
    type_name,
    utf8_len,
)
from ..operations import current_limits, need, took

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")


def ordinal(i: int) -> str:
    """The argument name the reference puts in ``invalid type for argument``."""
    return _ORDINALS[i] if i < len(_ORDINALS) else f"#{i + 1}"


class StringLimit(TengoError):
    def __init__(self) -> None:
        super().__init__("exceeding string size limit")


class BytesLimit(TengoError):
    def __init__(self) -> None:
        super().__init__("exceeding bytes size limit")


def nargs(args: tuple, *counts: int) -> None:
    """Raise ``wrong number of arguments`` unless len(args) is one of counts."""
    if len(args) not in counts:
        raise WrongNumArguments()


# --- "argument i must be X" helpers, raising the reference's error ----------

def _need(conv: Callable[[Any], Any], expected: str) -> Callable[[tuple, int], Any]:
    def get(args: tuple, i: int) -> Any:
        v = conv(args[i])
        if v is None:
            raise InvalidArgumentType(ordinal(i), expected, type_name(args[i]))
        return v

    return get


def _copying(conv: Callable[[Any], Any], other: type) -> Callable[[Any], Any]:
    """A conversion that copies a long string or bytes of type ``other``:
    announced to the run's memory budget first (UTF-8 takes up to 4 bytes a
    character)."""

    def get(v: Any) -> Any:
        if type(v) is other and len(v) > SMALL:
            need(HEADER + len(v) * (1 if other is not str or v.isascii() else 4))
        return conv(v)

    return get


arg_int = _need(to_int, "int(compatible)")
arg_float = _need(to_float, "float(compatible)")
arg_str = _need(_copying(to_str, bytearray), "string(compatible)")
arg_bytes = _need(_copying(to_bytes, str), "bytes(compatible)")
arg_time = _need(to_time, "time(compatible)")


def arg_array(args: tuple, i: int) -> list:
    v = args[i]
    if type(v) is list or type(v) is ImmutableArray:
        return v
    raise InvalidArgumentType(ordinal(i), "array", type_name(v))


def str_array(args: tuple, i: int) -> list[str]:
    """An array of strings (e.g. ``text.join``'s first argument)."""
    out = []
    for n, item in enumerate(arg_array(args, i)):
        s = to_str(item)
        if s is None:
            raise InvalidArgumentType(f"{ordinal(i)}[{n}]", "string(compatible)", type_name(item))
        out.append(s)
    return out


# --- module construction ------------------------------------------------------

def module(attrs: dict[str, Any], limits: SizeLimits | None = None) -> ImmutableMap:
    """An ImmutableMap whose Python callables become named Builtins.

    With ``limits``, a string or bytes result longer than the script's size
    limit raises the reference's limit error instead of being returned.
    """
    out = ImmutableMap()
    for name, value in attrs.items():
        if callable(value):
            value = Builtin(name, limits.guard(value) if limits is not None else value)
        dict.__setitem__(out, name, value)
    return out


class SizeLimits:
    """The string and bytes size limits a standard library module checks its
    results against.

    Explicit values (from the host's ``max_string_len``/``max_bytes_len``)
    win; otherwise the interpreter's limits of the run in progress are read at
    call time, so one module object serves runs with different limits.
    """

    def __init__(self, max_string_len: int | None = None, max_bytes_len: int | None = None) -> None:
        self._string = max_string_len
        self._bytes = max_bytes_len

    @classmethod
    def of(cls, host: Any) -> SizeLimits:
        return cls(getattr(host, "max_string_len", None), getattr(host, "max_bytes_len", None))

    @staticmethod
    def need(nbytes: int) -> None:
        """Announce an allocation to the run's memory budget (see ``operations.need``)."""
        need(nbytes)

    @property
    def max_string_len(self) -> int:
        if self._string is not None:
            return self._string
        return current_limits().max_string_len

    @property
    def max_bytes_len(self) -> int:
        if self._bytes is not None:
            return self._bytes
        return current_limits().max_bytes_len

    def string(self, s: str) -> str:
        """Return s, or raise when its UTF-8 length exceeds the limit."""
        limit = self.max_string_len
        if len(s) > limit or utf8_len(s) > limit:
            raise StringLimit()
        return s

    def bytes(self, b: bytes | bytearray) -> bytearray:
        """Return b as a Tengo bytes value (a ``bytearray``), or raise when
        it is longer than the limit."""
        if len(b) > self.max_bytes_len:
            raise BytesLimit()
        return b if type(b) is bytearray else bytearray(b)

    def guard(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap fn so that its string/bytes results respect the limits."""

        def guarded(*args: Any) -> Any:
            result = fn(*args)
            t = type(result)
            if t is str:
                if len(result) > SMALL:
                    took(result)
                return self.string(result)
            if t is bytes or t is bytearray:
                if len(result) > SMALL:
                    took(result)
                return self.bytes(result)
            if (t is list or t is dict) and len(result) > 64:
                took(result)
            return result

        return guarded


