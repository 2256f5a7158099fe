"""Tengo's ``text`` module: Go's ``strings`` and ``strconv`` functions and
regular expressions with Go's (RE2) semantics.

Tengo strings are Go strings, so every index a script sees (``index``,
``substr``, ``re_find`` offsets) counts UTF-8 bytes, not characters.
"""

from __future__ import annotations

import functools
import math
import re
import struct
from collections.abc import Callable
from typing import Any

from ..formatter import format_go_float, go_quote
from ..memory import HEADER, SLOT, SMALL, str_width
from ..objects import (
    UNDEFINED,
    Error,
    ImmutableMap,
    InvalidArgumentType,
    TengoError,
    bytes_to_str,
    rejoined,
    type_name,
    utf8_len,
)
from . import _strconv
from ._args import SizeLimits, StringLimit, arg_int, arg_str, module, nargs, need, ordinal, str_array
from ._regexp import ByteOffsets, Pattern, PatternError

_GO_SPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                      "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def _is_space(c: str) -> bool:
    return c in _GO_SPACE


def _utf8(s: str) -> bytes:
    return s.encode("utf-8", "surrogateescape")


def _byte_index(s: str, char_index: int) -> int:
    return char_index if s.isascii() else len(_utf8(s[:char_index]))


# --- regular expressions ------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _cached_pattern(pattern: str) -> Pattern | str:
    try:
        return Pattern(pattern)
    except PatternError as exc:
        return str(exc)


def _compile(pattern: str) -> Pattern | Error:
    """A compiled pattern (cached: scripts often call re_* in loops) or an error value."""
    compiled = _cached_pattern(pattern)
    return Error(compiled) if isinstance(compiled, str) else compiled


#: What one match in ``re_find``'s result takes: a map of three entries, two ints.
_MATCH = 3 * HEADER + 3 * SLOT + 128


def _find_result(pattern: Pattern, text: str, count: int | None) -> Any:
    if count is None:
        first = pattern.search(text)
        found = [first] if first is not None else []
    else:
        found = list(pattern.find_all(text, count))
    if not found:
        return UNDEFINED
    offsets = ByteOffsets(text)
    result = []
    for spans in found:
        groups = []
        for g in range(len(spans) // 2):
            start, end = spans[2 * g], spans[2 * g + 1]
            if start < 0:
                continue
            need(_MATCH + 4 * (end - start))
            entry = ImmutableMap(text=text[start:end], begin=offsets(start), end=offsets(end))
            groups.append(entry)
        result.append(groups)
    return result


def _regexp_methods(pattern: Pattern, limits: SizeLimits) -> ImmutableMap:
    """The object ``re_compile`` returns: match/find/replace/split bound to one pattern."""

    def match(*args: Any) -> bool:
        nargs(args, 1)
        return pattern.is_match(arg_str(args, 0))

    def find(*args: Any) -> Any:
        nargs(args, 1, 2)
        text = arg_str(args, 0)
        return _find_result(pattern, text, arg_int(args, 1) if len(args) == 2 else None)

    def replace(*args: Any) -> Any:
        nargs(args, 2)
        text, repl = arg_str(args, 0), arg_str(args, 1)
        return limits.string(pattern.replace(text, lambda spans: pattern.expand(repl, text, spans)))

    def split(*args: Any) -> Any:
        nargs(args, 1, 2)
        text = arg_str(args, 0)
        n = arg_int(args, 1) if len(args) == 2 else -1
        return pattern.split(text, n)

    return module({"match": match, "find": find, "replace": replace, "split": split}, limits)


# --- strings ---------------------------------------------------------------------


def _split_n(s: str, sep: str, n: int, after: bool) -> list[str]:
    if n == 0:
        return []
    if len(s) > SMALL:
        parts = len(s) if sep == "" else s.count(sep) + 1
        if n > 0:
            parts = min(parts, n)
        per = SLOT if sep == "" and str_width(s) == 1 else HEADER + SLOT  # 1-byte characters are shared
        need(per * parts + len(s) * str_width(s) * (2 if after else 1))
    if sep == "":
        chars = list(s)
        if n > 0 and len(chars) > n:
            chars = chars[: n - 1] + ["".join(chars[n - 1:])]
        return chars
    parts = s.split(sep, n - 1) if n > 0 else s.split(sep)
    if after:
        parts = [p + sep for p in parts[:-1]] + parts[-1:]
    return parts


_CHUNK = 4096


def _pieces(s: str) -> list[str]:
    """A long string in pieces of ``_CHUNK`` characters: per-character work
    is done a piece at a time, so what is in flight stays small."""
    return [s[i:i + _CHUNK] for i in range(0, len(s), _CHUNK)]


def _title(s: str) -> str:
    if len(s) > SMALL:
        need(HEADER + len(s) * max(2, str_width(s)))
    done = []
    prev = " "
    for piece in _pieces(s):
        out = []
        for c in piece:
            if _is_separator(prev):
                t = c.title()
                out.append(t if len(t) == 1 else c)
            else:
                out.append(c)
            prev = c
        done.append("".join(out))
    return "".join(done)


def _is_separator(c: str) -> bool:
    if c.isascii():
        return not (c.isalnum() or c == "_")
    if c.isalpha() or c.isdigit():
        return False
    return _is_space(c)


def _map_runes(fn: Callable[[str], str], ascii_fn: Callable[[str], str]) -> Callable[[str], str]:
    """Go's strings.Map of a case mapping: rune by rune, a rune whose mapping
    is not one rune kept (``ascii_fn`` does the same for ASCII text at once)."""

    def one(piece: str) -> str:
        if piece.isascii():
            return ascii_fn(piece)
        out = []
        for c in piece:
            m = fn(c)
            out.append(m if len(m) == 1 else c)
        return "".join(out)

    def apply(s: str) -> str:
        if len(s) <= _CHUNK:
            return one(s)
        need(HEADER + len(s) * max(2, str_width(s)))
        return "".join([one(piece) for piece in _pieces(s)])

    return apply


def _equal_fold(a: str, b: str) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if x != y and x.lower() != y.lower() and x.upper() != y.upper():
            return False
    return True


def _index_any(s: str, chars: str, last: bool) -> int:
    rng = range(len(s) - 1, -1, -1) if last else range(len(s))
    cs = set(chars)
    for i in rng:
        if s[i] in cs:
            return _byte_index(s, i)
    return -1


_FIELD = re.compile("[^" + re.escape("".join(sorted(_GO_SPACE))) + "]+")


def _fields(s: str) -> list[str]:
    if len(s) > SMALL:
        fields = min(len(s) // 2, sum(s.count(c) for c in _GO_SPACE)) + 1
        need((HEADER + SLOT) * fields + len(s) * str_width(s))
    return _FIELD.findall(s)


def _trim_space(s: str) -> str:
    i, j = 0, len(s)
    while i < j and _is_space(s[i]):
        i += 1
    while j > i and _is_space(s[j - 1]):
        j -= 1
    return s[i:j]


def _substr(s: str, lo: int, hi: int | None) -> str:
    if len(s) > SMALL and not s.isascii():
        need(HEADER + 4 * len(s))  # the UTF-8 copy
    raw = _utf8(s)
    n = len(raw)
    if hi is None:
        hi = n
    if lo > hi:
        raise TengoError("invalid index type")
    lo = min(max(lo, 0), n)
    hi = min(max(hi, 0), n)
    return bytes_to_str(raw[lo:hi]) if not s.isascii() else s[lo:hi]


def _pad(s: str, pad_len: int, pad_with: str, left: bool, limits: SizeLimits) -> str:
    if pad_len > limits.max_string_len:
        raise StringLimit()
    size = utf8_len(s)
    if size >= pad_len or not pad_with:
        return s
    missing = pad_len - size
    width = utf8_len(pad_with)
    if pad_len > SMALL:
        need(HEADER + 3 * (pad_len + width) * max(str_width(s), str_width(pad_with)))
    padding = _utf8(pad_with * math.ceil(missing / width))
    if left:
        return bytes_to_str(padding[len(padding) - missing:]) + s
    return s + bytes_to_str(padding[:missing])


def _need_replace(s: str, old: str, new: str, n: int) -> None:
    count = len(s) + 1 if old == "" else s.count(old)
    if n >= 0:
        count = min(count, n)
    size = len(s) + count * max(len(new) - len(old), 0)
    need(HEADER + size * max(str_width(s), str_width(new)))


def _format_float32_shortest(f: float, fmt: str) -> str:
    f32 = struct.unpack("f", struct.pack("f", f))[0]
    for n in range(1, 10):
        candidate = float(f"{f32:.{n - 1}e}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == f32:
            return format_go_float(candidate, fmt, -1)
    return format_go_float(f32, fmt, -1)


def build(host: Any) -> ImmutableMap:
    limits = SizeLimits.of(host)

    def s_args(n: int) -> Callable[[tuple], list[str]]:
        def get(args: tuple) -> list[str]:
            nargs(args, n)
            return [arg_str(args, i) for i in range(n)]

        return get

    one, two = s_args(1), s_args(2)

    def ss(fn: Callable[[str], Any]) -> Callable[..., Any]:
        return lambda *args: fn(*one(args))

    def ss2(fn: Callable[[str, str], Any]) -> Callable[..., Any]:
        return lambda *args: fn(*two(args))

    def re_match(*args: Any) -> Any:
        nargs(args, 2)
        pattern = _compile(arg_str(args, 0))
        if isinstance(pattern, Error):
            return pattern
        return pattern.is_match(arg_str(args, 1))

    def re_find(*args: Any) -> Any:
        nargs(args, 2, 3)
        pattern = _compile(arg_str(args, 0))
        if isinstance(pattern, Error):
            return pattern
        text = arg_str(args, 1)
        return _find_result(pattern, text, arg_int(args, 2) if len(args) == 3 else None)

    def re_replace(*args: Any) -> Any:
        nargs(args, 3)
        pattern = _compile(arg_str(args, 0))
        if isinstance(pattern, Error):
            return pattern
        text, repl = arg_str(args, 1), arg_str(args, 2)
        return pattern.replace(text, lambda spans: pattern.expand(repl, text, spans))

    def re_split(*args: Any) -> Any:
        nargs(args, 2, 3)
        pattern = _compile(arg_str(args, 0))
        if isinstance(pattern, Error):
            return pattern
        n = arg_int(args, 2) if len(args) == 3 else -1
        return pattern.split(arg_str(args, 1), n)

    def re_compile(*args: Any) -> Any:
        nargs(args, 1)
        pattern = _compile(arg_str(args, 0))
        if isinstance(pattern, Error):
            return pattern
        return _regexp_methods(pattern, limits)

    def compare(a: str, b: str) -> int:
        return (a > b) - (a < b)

    def count(s: str, sub: str) -> int:
        return s.count(sub)

    def index(s: str, sub: str) -> int:
        i = s.find(sub)
        return i if i < 0 else _byte_index(s, i)

    def last_index(s: str, sub: str) -> int:
        i = s.rfind(sub)
        return i if i < 0 else _byte_index(s, i)

    def join(*args: Any) -> str:
        nargs(args, 2)
        parts = str_array(args, 0)
        sep = arg_str(args, 1)
        total = sum(utf8_len(p) for p in parts) + utf8_len(sep) * max(len(parts) - 1, 0)
        if total > limits.max_string_len:
            raise StringLimit()
        if total > SMALL:
            need(HEADER + total * max(str_width(sep), *map(str_width, parts)))
        return rejoined(sep.join(parts))  # halves of a character given apart join back

    def repeat(*args: Any) -> str:
        nargs(args, 2)
        s, n = arg_str(args, 0), arg_int(args, 1)
        if n < 0:
            raise TengoError("strings: negative Repeat count")
        if utf8_len(s) * n > limits.max_string_len:
            raise StringLimit()
        if len(s) * n > SMALL:
            need(HEADER + len(s) * n * str_width(s))
        return s * n

    def replace(*args: Any) -> str:
        nargs(args, 4)
        s, old, new = arg_str(args, 0), arg_str(args, 1), arg_str(args, 2)
        n = arg_int(args, 3)
        if len(s) > SMALL or len(new) > SMALL:
            _need_replace(s, old, new, n)
        return limits.string(s.replace(old, new, n if n >= 0 else -1))

    def substr(*args: Any) -> str:
        nargs(args, 2, 3)
        s = arg_str(args, 0)
        lo = arg_int(args, 1)
        hi = arg_int(args, 2) if len(args) == 3 else None
        return _substr(s, lo, hi)

    def split_fn(after: bool, with_n: bool) -> Callable[..., list[str]]:
        def split(*args: Any) -> list[str]:
            nargs(args, 3 if with_n else 2)
            s, sep = arg_str(args, 0), arg_str(args, 1)
            n = arg_int(args, 2) if with_n else -1
            return _split_n(s, sep, n, after)

        return split

    def pad_fn(left: bool) -> Callable[..., str]:
        def pad(*args: Any) -> str:
            nargs(args, 2, 3)
            s = arg_str(args, 0)
            pad_len = arg_int(args, 1)
            pad_with = arg_str(args, 2) if len(args) == 3 else " "
            return _pad(s, pad_len, pad_with, left, limits)

        return pad

    def atoi(*args: Any) -> Any:
        nargs(args, 1)
        s = arg_str(args, 0)
        try:
            return _strconv.parse_int(s, 10, 64, "Atoi")
        except _strconv.ConvError as exc:
            return Error(str(exc))

    def format_bool(*args: Any) -> str:
        nargs(args, 1)
        if type(args[0]) is not bool:
            raise InvalidArgumentType("first", "bool", type_name(args[0]))
        return "true" if args[0] else "false"

    def format_float(*args: Any) -> str:
        nargs(args, 4)
        if type(args[0]) is not float:
            raise InvalidArgumentType("first", "float", type_name(args[0]))
        fmt = arg_str(args, 1)
        prec, bits = arg_int(args, 2), arg_int(args, 3)
        if len(fmt) != 1 or fmt not in "beEfFgGxX":
            return "%" + fmt[:1]
        if bits == 32:
            if prec < 0:
                return _format_float32_shortest(args[0], fmt)
            return format_go_float(struct.unpack("f", struct.pack("f", args[0]))[0], fmt, prec)
        return format_go_float(args[0], fmt, prec)

    def format_int(*args: Any) -> str:
        nargs(args, 2)
        if type(args[0]) is not int:
            raise InvalidArgumentType("first", "int", type_name(args[0]))
        base = arg_int(args, 1)
        try:
            return _strconv.format_int(args[0], base)
        except ValueError as exc:
            raise TengoError(str(exc)) from None

    def itoa(*args: Any) -> str:
        nargs(args, 1)
        if type(args[0]) is not int:
            raise InvalidArgumentType("first", "int", type_name(args[0]))
        return str(args[0])

    def conv(fn: Callable[..., Any], *getters: Callable[[tuple, int], Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            nargs(args, len(getters))
            try:
                return fn(*[g(args, i) for i, g in enumerate(getters)])
            except _strconv.ConvError as exc:
                return Error(str(exc))

        return call

    def unquote(s: str) -> Any:
        try:
            return _strconv.unquote(s)
        except _strconv.ConvError as exc:
            return Error(str(exc))

    return module(
        {
            "re_match": re_match,
            "re_find": re_find,
            "re_compile": re_compile,
            "re_replace": re_replace,
            "re_split": re_split,
            "compare": ss2(compare),
            "contains": ss2(lambda s, sub: sub in s),
            "contains_any": ss2(lambda s, chars: any(c in s for c in chars)),
            "count": ss2(count),
            "equal_fold": ss2(_equal_fold),
            "fields": ss(_fields),
            "has_prefix": ss2(lambda s, p: s.startswith(p)),
            "has_suffix": ss2(lambda s, p: s.endswith(p)),
            "index": ss2(index),
            "index_any": ss2(lambda s, chars: _index_any(s, chars, False)),
            "join": join,
            "last_index": ss2(last_index),
            "last_index_any": ss2(lambda s, chars: _index_any(s, chars, True)),
            "repeat": repeat,
            "replace": replace,
            "substr": substr,
            "split": split_fn(False, False),
            "split_after": split_fn(True, False),
            "split_after_n": split_fn(True, True),
            "split_n": split_fn(False, True),
            "title": ss(_title),
            "to_lower": ss(_map_runes(str.lower, str.lower)),
            "to_title": ss(_map_runes(str.title, str.upper)),
            "to_upper": ss(_map_runes(str.upper, str.upper)),
            "pad_left": pad_fn(True),
            "pad_right": pad_fn(False),
            "trim": ss2(lambda s, cut: s.strip(cut) if cut else s),
            "trim_left": ss2(lambda s, cut: s.lstrip(cut) if cut else s),
            "trim_prefix": ss2(lambda s, p: s.removeprefix(p)),
            "trim_right": ss2(lambda s, cut: s.rstrip(cut) if cut else s),
            "trim_space": ss(_trim_space),
            "trim_suffix": ss2(lambda s, p: s.removesuffix(p)),
            "atoi": atoi,
            "format_bool": format_bool,
            "format_float": format_float,
            "format_int": format_int,
            "itoa": itoa,
            "parse_bool": conv(_strconv.parse_bool, arg_str),
            "parse_float": conv(_strconv.parse_float, arg_str, arg_int),
            "parse_int": conv(_strconv.parse_int, arg_str, arg_int, arg_int),
            "quote": ss(go_quote),
            "unquote": ss(unquote),
        },
        limits,
    )


__all__ = ["build", "ordinal"]
