"""Tengo's builtin functions (docs/builtins.md), with the reference's
argument checks and error messages.

Each function takes the Tengo arguments positionally.  Compiled code calls
them directly (``_b_len``) when a script calls a builtin by name, and through
the :class:`Builtin` objects (``_B_len``) when it passes one around.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from .objects import (
    INT64_MIN,
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
    is_falsy,
    to_string,
    type_name,
    wrap,
)
from .runtime import check_bytes, check_string, current_limits, utf8_len

_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth")


def _nargs(args: tuple, lo: int, hi: int | None = None) -> None:
    n = len(args)
    if n < lo or (hi is not None and n > hi):
        raise WrongNumArguments()


# --- conversions (shared with nothing else: the stdlib has its own helpers) ---

_GO_INT = re.compile(r"[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO]?[0-7_]*|[1-9][0-9_]*)\Z")
_GO_FLOAT = re.compile(
    r"[+-]?((\d[\d_]*)?\.?\d[\d_]*([eE][+-]?\d+)?|\d[\d_]*\.([eE][+-]?\d+)?|inf(inity)?|nan)\Z",
    re.IGNORECASE)


def parse_int(s: str) -> int | None:
    """Go's ``strconv.ParseInt(s, 0, 64)``: base prefixes, underscores only with a prefix."""
    if not _GO_INT.match(s):
        return None
    body = s.lstrip("+-")
    if "_" in body and not (len(body) > 1 and body[0] == "0" and body[1] in "xXbBoO"):
        return None
    neg = s.startswith("-")
    try:
        if len(body) > 1 and body[0] == "0" and body[1] not in "xXbBoO":
            v = int(body.replace("_", ""), 8)
        else:
            v = int(body.replace("_", ""), 0)
    except ValueError:
        return None
    v = -v if neg else v
    if v > (1 << 63) - 1 or v < INT64_MIN:
        return None
    return v


def parse_float(s: str) -> float | None:
    """Go's ``strconv.ParseFloat(s, 64)`` (decimal forms, Inf and NaN)."""
    if not _GO_FLOAT.match(s) or "_" in s:
        return None
    try:
        return float(s)
    except ValueError:
        return None


def to_int(v: Any) -> int | None:
    t = type(v)
    if t is int:
        return v
    if t is float:
        if not math.isfinite(v) or not (-9.223372036854776e18 <= v < 9.223372036854776e18):
            return INT64_MIN  # what Go's conversion gives on amd64
        return int(v)
    if t is str:
        return parse_int(v)
    if t is bool:
        return 1 if v else 0
    if t is Char:
        return v.v
    return None


def to_float(v: Any) -> float | None:
    t = type(v)
    if t is float:
        return v
    if t is int:
        return float(v)
    if t is str:
        return parse_float(v)
    return None


def to_char(v: Any) -> Char | None:
    t = type(v)
    if t is Char:
        return v
    if t is int:
        return Char(wrap(v) & 0xFFFFFFFF if v > 0x7FFFFFFF or v < -0x80000000 else v)
    if t is str and len(v) == 1:
        return Char(ord(v))
    return None


def to_bytes(v: Any) -> bytearray | None:
    t = type(v)
    if t is bytearray:
        return v  # the same buffer, as the reference's bytes(b) shares b's
    if t is bytes:
        return bytearray(v)
    if t is str:
        return check_bytes(bytearray(v.encode("utf-8", errors="surrogatepass")))
    return None


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
    """``copy``: a deep copy; copies of immutable containers are mutable."""
    t = type(v)
    if t is list or t is ImmutableArray:
        return [deep_copy(x) for x in v]
    if t is dict or t is ImmutableMap:
        return {k: deep_copy(x) for k, x in v.items()}
    if t is bytearray or t is bytes:
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
    if type(v) is str:
        return v
    if v is UNDEFINED:
        return None
    return check_string(to_string(v))


def _to_bytes_or_size(v: Any) -> bytearray | None:
    if type(v) is int:
        if v < 0:
            return None
        if v > current_limits().max_bytes_len:
            raise TengoError("exceeding bytes size limit")
        return bytearray(v)
    return to_bytes(v)


def _to_time(v: Any) -> Time | None:
    t = type(v)
    if t is Time:
        return v
    if t is int:
        return Time(v * 1_000_000_000)
    return None


b_string = _conversion(_to_string)
b_int = _conversion(to_int)
b_float = _conversion(to_float)
b_char = _conversion(to_char)
b_bytes = _conversion(_to_bytes_or_size)
b_time = _conversion(_to_time)


def b_bool(*args: Any) -> bool:
    _nargs(args, 1, 2)
    return not is_falsy(args[0])


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

    return check_string(format_string(fmt, list(args[1:])))


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
