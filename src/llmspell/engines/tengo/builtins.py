"""Tengo's builtin functions (docs/builtins.md), with the reference's
argument checks and error messages.

Each function takes the Tengo arguments positionally.  Compiled code calls
them directly (``_b_len``) when a script calls a builtin by name, and through
the :class:`Builtin` objects (``_B_len``) when it passes one around.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .convert import to_bool, to_bytes, to_float, to_int, to_rune, to_str, to_time
from .memory import ENTRY, HEADER, SLOT, SMALL
from .objects import (
    UNDEFINED,
    Builtin,
    Char,
    Error,
    Function,
    ImmutableArray,
    ImmutableMap,
    InvalidArgumentType,
    TengoError,
    Time,
    WrongNumArguments,
    type_name,
    utf8_len,
)
from .operations import check_bytes, check_string, current_limits, need, took

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def _nargs(args: tuple, lo: int, hi: int | None = None) -> None:
    n = len(args)
    if n < lo or (hi is not None and n > hi):
        raise WrongNumArguments()


# --- conversions (convert.py) adapted to the builtins' results ---------------

def _to_char(v: Any) -> Char | None:
    r = to_rune(v)
    return None if r is None else Char(r)


def _to_bytes(v: Any) -> bytearray | None:
    """A Tengo bytes value: bytes share their buffer, strings get a new one."""
    if type(v) is str and len(v) > SMALL:
        need(HEADER + 2 * len(v) * (1 if v.isascii() else 4))  # the UTF-8 text, then its copy
    b = to_bytes(v)
    if b is None or type(b) is bytearray:
        return b
    return check_bytes(bytearray(b))


# --- the builtins ------------------------------------------------------------

def b_len(*args: Any) -> int:
    _nargs(args, 1, 1)
    v = args[0]
    t = type(v)
    if t is str:
        return utf8_len(v)
    if t is list or t is dict or t is bytearray or t is bytes or t is ImmutableArray or t is ImmutableMap:
        return len(v)
    raise InvalidArgumentType("first", "array/string/bytes/map", type_name(v))


def deep_copy(v: Any) -> Any:
    """``copy``: a deep copy; copies of immutable containers are mutable.
    Each container is announced to the memory budget before it is made: a
    value that holds the same array many times (``a = [a, a]``, again and
    again) is small, but its copy is not."""
    t = type(v)
    if t is list or t is ImmutableArray:
        need(HEADER + SLOT * len(v))
        return [deep_copy(x) for x in v]
    if t is dict or t is ImmutableMap:
        need(HEADER + ENTRY * len(v))
        return {k: deep_copy(x) for k, x in v.items()}
    if t is bytearray or t is bytes:
        need(HEADER + len(v))
        return bytearray(v)  # a copy never shares the buffer
    if t is Error:
        return Error(deep_copy(v.value))
    return v


def b_copy(*args: Any) -> Any:
    _nargs(args, 1, 1)
    return deep_copy(args[0])


def b_append(*args: Any) -> list:
    _nargs(args, 1)
    arr = args[0]
    t = type(arr)
    if t is list or t is ImmutableArray:
        if len(arr) + len(args) > SMALL // SLOT:
            need(HEADER + SLOT * (len(arr) + len(args)))
        out = list(arr)
        out.extend(args[1:])
        return out
    raise InvalidArgumentType("first", "array", type_name(arr))


def b_delete(*args: Any) -> Any:
    _nargs(args, 2, 2)
    m, key = args
    if type(m) is not dict:
        raise InvalidArgumentType("first", "map", type_name(m))
    if type(key) is not str:
        raise InvalidArgumentType("second", "string", type_name(key))
    m.pop(key, None)
    return UNDEFINED


def b_splice(*args: Any) -> list:
    _nargs(args, 1)
    arr = args[0]
    if type(arr) is not list:
        raise InvalidArgumentType("first", "array", type_name(arr))
    size = len(arr)
    start = 0
    if len(args) > 1:
        start = args[1]
        if type(start) is not int:
            raise InvalidArgumentType("second", "int", type_name(start))
        if start < 0 or start > size:
            raise TengoError("index out of bounds")
    count = size - start
    if len(args) > 2:
        count = args[2]
        if type(count) is not int:
            raise InvalidArgumentType("third", "int", type_name(count))
        if count < 0:
            raise TengoError("index out of bounds")
    end = min(start + count, size)
    if end - start + len(args) > SMALL // SLOT:
        need(HEADER + SLOT * (end - start + len(args)))
    deleted = arr[start:end]
    arr[start:end] = args[3:]
    return deleted


def _conversion(convert: Callable[[Any], Any]) -> Callable[..., Any]:
    def fn(*args: Any) -> Any:
        _nargs(args, 1, 2)
        v = convert(args[0])
        if v is None:
            return args[1] if len(args) == 2 else UNDEFINED
        return v

    return fn


def _to_string(v: Any) -> str | None:
    if (type(v) is bytearray or type(v) is bytes) and len(v) > SMALL:
        need(HEADER + len(v))
    s = to_str(v)
    if s is None or type(v) is str:
        return s
    if len(s) > SMALL:
        took(s)
    return check_string(s)


def _to_bytes_or_size(v: Any) -> bytearray | None:
    if type(v) is int:
        if v < 0:
            return None
        if v > current_limits().max_bytes_len:
            raise TengoError("exceeding bytes size limit")
        if v > SMALL:
            need(HEADER + v)
        return bytearray(v)
    return _to_bytes(v)


b_string = _conversion(_to_string)
b_int = _conversion(to_int)
b_float = _conversion(to_float)
b_char = _conversion(_to_char)
b_bytes = _conversion(_to_bytes_or_size)
b_time = _conversion(to_time)


def b_bool(*args: Any) -> bool:
    _nargs(args, 1, 1)
    return to_bool(args[0])


def _is(pred: Callable[[Any], bool]) -> Callable[..., bool]:
    def fn(*args: Any) -> bool:
        _nargs(args, 1, 1)
        return pred(args[0])

    return fn


def b_type_name(*args: Any) -> str:
    _nargs(args, 1, 1)
    return type_name(args[0])


def b_format(*args: Any) -> str:
    _nargs(args, 1)
    fmt = args[0]
    if type(fmt) is not str:
        raise InvalidArgumentType("format", "string", type_name(fmt))
    if len(args) == 1:
        return check_string(fmt)
    from .formatter import format_string  # written alongside the stdlib

    return check_string(took(format_string(fmt, list(args[1:]))))


def b_range(*args: Any) -> list:
    _nargs(args, 2, 3)
    names = ("start", "stop", "step")
    for i, v in enumerate(args):
        if type(v) is not int:
            raise InvalidArgumentType(names[i], "int", type_name(v))
    start, stop = args[0], args[1]
    step = args[2] if len(args) == 3 else 1
    if step <= 0:
        raise TengoError("range step must be greater than 0")
    count = len(range(start, stop, step if start <= stop else -step))
    if count > SMALL // SLOT:
        need(HEADER + count * (SLOT + 32))  # the slots and the ints
    if start <= stop:
        return list(range(start, stop, step))
    return list(range(start, stop, -step))


_ITERABLE = frozenset({list, ImmutableArray, dict, ImmutableMap, str, bytearray, bytes})

#: name -> implementation, in the reference's order.
FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": b_len,
    "copy": b_copy,
    "append": b_append,
    "delete": b_delete,
    "splice": b_splice,
    "string": b_string,
    "int": b_int,
    "bool": b_bool,
    "float": b_float,
    "char": b_char,
    "bytes": b_bytes,
    "time": b_time,
    "is_int": _is(lambda v: type(v) is int),
    "is_float": _is(lambda v: type(v) is float),
    "is_string": _is(lambda v: type(v) is str),
    "is_bool": _is(lambda v: type(v) is bool),
    "is_char": _is(lambda v: type(v) is Char),
    "is_bytes": _is(lambda v: type(v) is bytearray or type(v) is bytes),
    "is_array": _is(lambda v: type(v) is list),
    "is_immutable_array": _is(lambda v: type(v) is ImmutableArray),
    "is_map": _is(lambda v: type(v) is dict),
    "is_immutable_map": _is(lambda v: type(v) is ImmutableMap),
    "is_iterable": _is(lambda v: type(v) in _ITERABLE),
    "is_time": _is(lambda v: type(v) is Time),
    "is_error": _is(lambda v: type(v) is Error),
    "is_undefined": _is(lambda v: v is UNDEFINED),
    "is_function": _is(lambda v: type(v) is Function),
    "is_callable": _is(lambda v: type(v) is Function or type(v) is Builtin),
    "type_name": b_type_name,
    "format": b_format,
    "range": b_range,
}

#: Builtin objects, for scripts that use a builtin as a value.
OBJECTS: dict[str, Builtin] = {name: Builtin(name, fn) for name, fn in FUNCTIONS.items()}


def helper_names() -> dict[str, Any]:
    """The names compiled code uses for builtins: ``_b_NAME`` (call) and ``_B_NAME`` (value)."""
    names: dict[str, Any] = {}
    for name, fn in FUNCTIONS.items():
        names["_b_" + name] = fn
        names["_B_" + name] = OBJECTS[name]
    return names
