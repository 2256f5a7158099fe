"""Tengo's ``json`` module: its own encoder (no HTML escaping, bytes as
base64, chars as numbers) and a decoder giving ints for integer literals."""

from __future__ import annotations

import base64
import json as _json
import math
import re
from typing import Any

from ..convert import to_bytes
from ..memory import ENTRY, HEADER, SLOT, SMALL, str_width
from ..objects import (
    UNDEFINED,
    Char,
    Error,
    ImmutableArray,
    ImmutableMap,
    InvalidArgumentType,
    Time,
    type_name,
    wrap,
)
from ._args import SizeLimits, module, nargs, need


class _Unsupported(Exception):
    pass


_ESCAPED = re.compile('["\\\\\x00-\x1f]')
_SHORT = {"\n": "\\n", "\r": "\\r", "\t": "\\t", '"': '\\"', "\\": "\\\\"}


def _escape(m: re.Match) -> str:
    c = m.group()
    return _SHORT.get(c) or f"\\u00{ord(c):02x}"


def _encode_str(s: str) -> str:
    if len(s) > SMALL:
        need(HEADER + 2 * len(s) * str_width(s))
    return '"' + _ESCAPED.sub(_escape, s) + '"'


def _join(open_: str, parts: list[str], close: str) -> str:
    """``open_ + ",".join(parts) + close``, announced first when long (a value
    holding the same array many times encodes far larger than it is)."""
    if len(parts) > 1:
        total = sum(map(len, parts)) + len(parts)
        if total > SMALL:
            need(HEADER + total * max(map(str_width, parts)))
    return open_ + ",".join(parts) + close


def _encode_float(f: float) -> str:
    if math.isnan(f) or math.isinf(f):
        raise _Unsupported("unsupported float value")
    from ..formatter import format_go_float

    a = abs(f)
    if a != 0 and (a < 1e-6 or a >= 1e21):
        text = format_go_float(f, "e", -1)
        mant, _, exp = text.partition("e")
        if exp.startswith("-0") and len(exp) == 3:
            exp = "-" + exp[2:]
        return mant + "e" + exp
    return format_go_float(f, "f", -1)


def _rfc3339_json(t: Time) -> str:
    from .times import format_layout

    return '"' + format_layout(t, "2006-01-02T15:04:05.999999999Z07:00") + '"'


def encode_value(v: Any) -> str:
    """The JSON text of a Tengo value; unsupported values encode as nothing."""
    t = type(v)
    if t is list or t is ImmutableArray:
        return _join("[", [encode_value(x) for x in v], "]")
    if t is dict or t is ImmutableMap:
        return _join("{", [_encode_str(k) + ":" + encode_value(x) for k, x in sorted(v.items())], "}")
    if t is bool:
        return "true" if v else "false"
    if t is bytearray or t is bytes:
        return '"' + base64.b64encode(v).decode("ascii") + '"'
    if t is Char:
        return str(v.v)
    if t is float:
        return _encode_float(v)
    if t is int:
        return str(v)
    if t is str:
        return _encode_str(v)
    if t is Time:
        return _rfc3339_json(v)
    if v is UNDEFINED:
        return "null"
    return ""


def _int_literal(text: str) -> int | float:
    """An int within int64, else the nearest float (as the json global and
    JavaScript read it; never a clamped int, never Python's digit limit)."""
    if len(text) > 20:
        return float(text)
    n = int(text)
    return wrap(n) if -(1 << 63) <= n < (1 << 63) else float(text)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid character '{name[0]}' looking for beginning of value")


def _to_tengo(v: Any) -> Any:
    """JSON null becomes undefined, in place (a copy would double the memory)."""
    if v is None:
        return UNDEFINED
    if type(v) is list:
        for i, x in enumerate(v):
            if x is None:
                v[i] = UNDEFINED
            elif type(x) is list or type(x) is dict:
                _to_tengo(x)
    elif type(v) is dict:
        for k, x in v.items():
            if x is None:
                v[k] = UNDEFINED
            elif type(x) is list or type(x) is dict:
                _to_tengo(x)
    return v


def decoded_size(text: str) -> int:
    """An upper estimate of the memory the values parsed from ``text`` take
    (a list, a map, a number, a string per token), counted in C before the
    parse: the parse is one native call, so the budget must be asked first."""
    if len(text) <= SMALL:
        return 0
    lists, maps, commas, colons, quotes = (text.count(c) for c in '[{,:"')
    return (96 * lists + 72 * maps + 40 * (commas + 1) + ENTRY * colons + HEADER * (quotes // 2)
            + len(text) * str_width(text))


def decode_text(text: str) -> Any:
    """Parse JSON into Tengo values (raises ValueError with a message)."""
    size = decoded_size(text)
    if size:
        need(size)
    return _to_tengo(
        _json.loads(text, parse_int=_int_literal, parse_float=float, parse_constant=_reject_constant)
    )


def _input(args: tuple) -> bytes:
    b = to_bytes(args[0])
    if b is None:
        raise InvalidArgumentType("first", "bytes/string", type_name(args[0]))
    return b


def _indent(data: bytes, prefix: str, indent: str) -> str:
    """json.Indent: re-lay out valid JSON text without touching its tokens."""
    text = data.decode("utf-8", "replace")
    out: list[str] = []
    depth = 0
    i, n = 0, len(text)
    need_newline = False
    if n > SMALL:
        need(HEADER + (SLOT + 2) * n)  # a slot per character, then the text
    made = [0]  # indentation made since the last announcement

    def newline() -> None:
        line = "\n" + prefix + indent * depth
        made[0] += len(line)
        if made[0] > SMALL:
            need(HEADER + 2 * made[0] * str_width(line))
            made[0] = 0
        out.append(line)

    while i < n:
        c = text[i]
        if c in " \t\r\n":
            i += 1
            continue
        if need_newline and c not in "]}":
            need_newline = False
            depth += 1
            newline()
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append(text[i:j + 1])
            i = j + 1
            continue
        if c in "[{":
            out.append(c)
            need_newline = True
        elif c in "]}":
            if need_newline:
                need_newline = False
            else:
                depth -= 1
                newline()
            out.append(c)
        elif c == ",":
            out.append(c)
            newline()
        elif c == ":":
            out.append(": ")
        else:
            out.append(c)
        i += 1
    return "".join(out)


_HTML = re.compile("[<>&\u2028\u2029]")


def _html_escape(data: bytes) -> bytes:
    if len(data) > SMALL:
        need(HEADER + 12 * len(data))  # the text, escaped (up to 6x), then its bytes
    text = data.decode("utf-8", "surrogateescape")
    escaped = _HTML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return escaped.encode("utf-8", "surrogateescape")


def _error_text(exc: Exception) -> str:
    return str(exc.args[0] if exc.args else exc).split(": line ")[0]


def build(host: Any) -> ImmutableMap:
    limits = SizeLimits.of(host)

    def encode(*args: Any) -> Any:
        nargs(args, 1)
        try:
            return limits.bytes(encode_value(args[0]).encode("utf-8", "surrogateescape"))
        except _Unsupported as exc:
            return Error(str(exc))
        except RecursionError:
            return Error("json: unsupported value: encountered a cycle")

    def decode(*args: Any) -> Any:
        nargs(args, 1)
        data = _input(args)
        if len(data) > SMALL:
            need(HEADER + 4 * len(data))  # the text, before it is parsed
        try:
            return decode_text(data.decode("utf-8", "replace"))
        except ValueError as exc:
            return Error(_error_text(exc))

    def indent(*args: Any) -> Any:
        nargs(args, 3)
        data = _input(args)
        prefix, ind = args[1], args[2]
        for i, v in ((1, prefix), (2, ind)):
            if type(v) is not str:
                raise InvalidArgumentType(("second", "third")[i - 1], "string", type_name(v))
        try:
            _json.loads(data.decode("utf-8", "replace"), parse_constant=_reject_constant)
        except ValueError as exc:
            return Error(_error_text(exc))
        return limits.bytes(_indent(data, prefix, ind).encode("utf-8", "surrogateescape"))

    def html_escape(*args: Any) -> Any:
        nargs(args, 1)
        return limits.bytes(_html_escape(_input(args)))

    return module({"encode": encode, "decode": decode, "indent": indent, "html_escape": html_escape}, limits)
