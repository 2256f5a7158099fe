"""Go's ``strconv`` parsing and quoting, as the ``text`` module exposes it.

Failures raise :class:`ConvError` carrying Go's message (``strconv.ParseInt:
parsing "x": invalid syntax``) so the caller can hand it to the script as an
``error`` value.
"""

from __future__ import annotations

import struct

from ..convert import parse_float as parse_go_float
from ..convert import underscore_ok
from ..formatter import go_quote

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


class ConvError(Exception):
    pass


def _fail(fn: str, s: str, why: str = "invalid syntax") -> ConvError:
    return ConvError(f"strconv.{fn}: parsing {go_quote(s)}: {why}")


def parse_bool(s: str) -> bool:
    if s in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if s in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise _fail("ParseBool", s)


def parse_int(s: str, base: int, bits: int, fn: str = "ParseInt") -> int:
    """strconv.ParseInt, including base 0 prefixes and underscores."""
    if not s:
        raise _fail(fn, s)
    if base != 0 and not 2 <= base <= 36:
        raise ConvError(f"strconv.{fn}: parsing {go_quote(s)}: invalid base {base}")
    if bits == 0:
        bits = 64
    if not 0 < bits <= 64:
        raise ConvError(f"strconv.{fn}: parsing {go_quote(s)}: invalid bit size {bits}")
    body = s
    neg = False
    if body[0] in "+-":
        neg = body[0] == "-"
        body = body[1:]
    underscores = False
    if base == 0:
        base = 10
        low = body.lower()
        if low.startswith("0x"):
            base, body = 16, body[2:]
        elif low.startswith("0b"):
            base, body = 2, body[2:]
        elif low.startswith("0o"):
            base, body = 8, body[2:]
        elif body.startswith("0") and len(body) > 1:
            base, body = 8, body[1:]
        underscores = True
        if "_" in body:
            if not underscore_ok(s):
                raise _fail(fn, s)
            body = body.replace("_", "")
    if not body:
        raise _fail(fn, s)
    value = 0
    for c in body.lower():
        d = _DIGITS.find(c) if c.isascii() else -1
        if d < 0 or d >= base or (c == "_" and not underscores):
            raise _fail(fn, s)
        value = value * base + d
    if neg:
        value = -value
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    if value < lo or value > hi:
        raise _fail(fn, s, "value out of range")
    return value


def parse_float(s: str, bits: int) -> float:
    f = parse_go_float(s)
    if f is None:
        raise _fail("ParseFloat", s)
    if bits == 32:
        try:
            f = struct.unpack("f", struct.pack("f", f))[0]
        except OverflowError:
            raise _fail("ParseFloat", s, "value out of range") from None
    return f


def format_int(i: int, base: int) -> str:
    if not 2 <= base <= 36:
        raise ValueError("strconv: illegal AppendInt/FormatInt base")
    if i == 0:
        return "0"
    neg = i < 0
    i = abs(i)
    out = []
    while i:
        i, d = divmod(i, base)
        out.append(_DIGITS[d])
    return ("-" if neg else "") + "".join(reversed(out))


_SIMPLE = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def unquote(s: str) -> str:
    """strconv.Unquote: a Go string, rune or raw string literal."""
    err = ConvError("invalid syntax")
    if len(s) < 2 or s[0] != s[-1] or s[0] not in "\"'`":
        raise err
    q = s[0]
    body = s[1:-1]
    if q == "`":
        if "`" in body:
            raise err
        return body.replace("\r", "")
    if "\n" in body:
        raise err
    out: list[str] = []
    i = 0
    n = len(body)
    while i < n:
        c = body[i]
        if c == q and q == '"':
            raise err
        if c != "\\":
            out.append(c)
            i += 1
            continue
        i += 1
        if i >= n:
            raise err
        e = body[i]
        i += 1
        if e in _SIMPLE:
            out.append(_SIMPLE[e])
        elif e == q:
            out.append(e)
        elif e in "xuU":
            size = {"x": 2, "u": 4, "U": 8}[e]
            digits = body[i:i + size]
            if len(digits) != size or any(d not in "0123456789abcdefABCDEF" for d in digits):
                raise err
            v = int(digits, 16)
            i += size
            if e == "x":
                if q == "'":
                    out.append(chr(v))
                else:
                    out.append(bytes([v]).decode("utf-8", "surrogateescape"))
            else:
                if v > 0x10FFFF or 0xD800 <= v <= 0xDFFF:
                    raise err
                out.append(chr(v))
        elif e in "01234567":
            digits = body[i - 1:i + 2]
            if len(digits) != 3 or any(d not in "01234567" for d in digits):
                raise err
            v = int(digits, 8)
            if v > 255:
                raise err
            i += 2
            out.append(bytes([v]).decode("utf-8", "surrogateescape") if q == '"' else chr(v))
        else:
            raise err
    text = "".join(out)
    if q == "'" and len(text) != 1:
        raise err
    if "\udc80" <= max(text, default=" ") and any("\udc80" <= ch <= "\udcff" for ch in text):
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text
