"""Tengo's value conversions, shared by the builtins and the standard library.

These follow the reference's ``ToInt64``, ``ToFloat64``, ``ToString``,
``ToBool``, ``ToRune``, ``ToByteSlice`` and ``ToTime`` (``runtime-types.md``)
and the Go ``strconv`` parsers they call.  Each returns None when the value
does not convert; callers decide whether that means ``undefined``, a default
or an ``invalid type for argument`` error.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .objects import BYTES_TYPES, INT64_MAX, INT64_MIN, UNDEFINED, Char, Time, is_falsy, to_string, utf8_bytes

# --- Go's strconv parsers --------------------------------------------------------

# ParseFloat's syntax (ASCII only): decimal with optional exponent, or hex with a
# mandatory binary exponent.  Underscores are checked separately (underscore_ok).
_GO_FLOAT = re.compile(
    r"[+-]?(?:0[xX](?P<hex>[0-9a-fA-F_]*\.?[0-9a-fA-F_]*)[pP][+-]?[0-9_]+"
    r"|(?P<dec>[0-9_]*\.?[0-9_]*)(?:[eE][+-]?[0-9_]+)?)\Z")
_SPECIAL_FLOATS = {"inf": math.inf, "infinity": math.inf, "nan": math.nan}


def underscore_ok(s: str) -> bool:
    """Go's ``underscoreOK``: underscores only between digits (or after a base prefix)."""
    saw = "^"
    i = 0
    if s[:1] in ("+", "-"):
        s = s[1:]
    hex_ = False
    if len(s) >= 2 and s[0] == "0" and s[1].lower() in "bxo":
        i = 2
        saw = "0"
        hex_ = s[1].lower() == "x"
    for c in s[i:]:
        if "0" <= c <= "9" or (hex_ and "a" <= c.lower() <= "f"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        else:
            if saw == "_":
                return False
            saw = "!"
    return saw != "_"


def parse_int(s: str) -> int | None:
    """``strconv.ParseInt(s, 10, 64)``: optional sign, ASCII decimal digits, no spaces or underscores."""
    body = s[1:] if s[:1] in ("+", "-") else s
    if not body or not body.isascii() or not body.isdigit():
        return None
    n = int(s)
    return n if INT64_MIN <= n <= INT64_MAX else None


def parse_float(s: str) -> float | None:
    """``strconv.ParseFloat(s, 64)``: decimal and hex floats, underscores between
    digits, Inf/Infinity (signed) and NaN (unsigned); out of range is an error."""
    sign, body = (s[0], s[1:]) if s[:1] in ("+", "-") else ("", s)
    special = _SPECIAL_FLOATS.get(body.lower())
    if special is not None:
        if math.isnan(special):
            return None if sign else special
        return -special if sign == "-" else special
    m = _GO_FLOAT.match(s)
    if m is None:
        return None
    mantissa = m.group("hex") if m.group("hex") is not None else m.group("dec")
    if mantissa.strip("._") == "" or ("_" in s and not underscore_ok(s)):
        return None
    text = s.replace("_", "")
    try:
        f = float.fromhex(text) if m.group("hex") is not None else float(text)
    except (ValueError, OverflowError):
        return None
    return None if math.isinf(f) else f


# --- the reference's To* conversions -------------------------------------------

def to_int(v: Any) -> int | None:
    """``ToInt64``: ints, floats (truncated), chars, bools and decimal strings."""
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
    """``ToFloat64``: ints, floats and strings that ``ParseFloat`` accepts."""
    t = type(v)
    if t is float:
        return v
    if t is int:
        return float(v)
    if t is str:
        return parse_float(v)
    return None


def to_str(v: Any) -> str | None:
    """``ToString``: any value but undefined; strings as they are."""
    if type(v) is str:
        return v
    if v is UNDEFINED:
        return None
    return to_string(v)


def to_bool(v: Any) -> bool:
    """``ToBool``: ``!IsFalsy()``, for every value."""
    return not is_falsy(v)


def to_rune(v: Any) -> int | None:
    """``ToRune``: chars, and ints truncated to 32 bits as Go's ``rune(n)`` does."""
    t = type(v)
    if t is Char:
        return v.v
    if t is int:
        return v if -0x80000000 <= v <= 0x7FFFFFFF else ((v + 0x80000000) & 0xFFFFFFFF) - 0x80000000
    return None


def to_bytes(v: Any) -> bytes | bytearray | None:
    """``ToByteSlice``: bytes (the value's own buffer, which ``read`` functions
    fill in place), or a string's UTF-8 bytes (a new buffer)."""
    t = type(v)
    if t in BYTES_TYPES:
        return v
    if t is str:
        return utf8_bytes(v)
    return None


def to_time(v: Any) -> Time | None:
    """``ToTime``: times, and ints as Unix seconds (``time.Unix``, local zone)."""
    t = type(v)
    if t is Time:
        return v
    if t is int:
        return Time(v * 1_000_000_000, 0, "Local")
    return None
