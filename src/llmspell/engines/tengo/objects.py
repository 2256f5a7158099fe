"""Tengo runtime values, mapped onto Python values where the semantics allow.

Plain Python values are used wherever Tengo's meaning matches, because the
interpreter's speed depends on not wrapping every int:

=================  ==========================================
Tengo type         Python representation
=================  ==========================================
int                ``int`` (kept in int64 range by ``wrap``)
float              ``float``
bool               ``bool`` (check ``bool`` before ``int``!)
string             ``str``
bytes              ``bytearray`` (see below)
array              ``list``
immutable-array    :class:`ImmutableArray` (a ``list`` subclass)
map                ``dict`` (keys are ``str``)
immutable-map      :class:`ImmutableMap` (a ``dict`` subclass)
char               :class:`Char`
undefined          :data:`UNDEFINED`
error              :class:`Error`
time               :class:`Time`
function           :class:`Function` (compiled) or :class:`Builtin`
=================  ==========================================

Everything that a script can reach is one of these; no other Python object may
ever be stored in a Tengo variable.  Shared by the interpreter core and the
standard library modules.

Bytes are ``bytearray`` because Go's byte slices can be filled in place
(``file.read(buf)``, ``rand.read(buf)`` fill the caller's buffer, and every
variable holding it sees the change); everything that makes a bytes value makes
a ``bytearray``, and ``copy`` makes a new one.  Unlike Go, a slice ``b[i:j]``
is a new buffer, not a view of ``b``.  Code that reads values also accepts a
plain ``bytes`` as Tengo bytes (:data:`BYTES_TYPES`), e.g. from a Python
caller.  Scripts still cannot change bytes themselves (no index assignment).
A ``bytearray`` is unhashable: bytes values must never be used as Python dict
keys or set members (Tengo map keys are strings anyway).
"""

from __future__ import annotations

import codecs
import math
import re
from collections.abc import Callable
from typing import Any

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
#: Go's zero ``time.Time`` (0001-01-01 UTC) in nanoseconds since the Unix epoch.
GO_ZERO_TIME_NS = -62135596800 * 1_000_000_000


#: The Python types of a Tengo bytes value (``bytearray`` is what scripts make).
BYTES_TYPES = (bytearray, bytes)


def wrap(n: int) -> int:
    """Wrap a Python int into int64, as Go's integer arithmetic does."""
    if INT64_MIN <= n <= INT64_MAX:
        return n
    n &= 0xFFFFFFFFFFFFFFFF
    return n - (1 << 64) if n > INT64_MAX else n


class TengoError(Exception):
    """A runtime error raised by the interpreter or by a builtin.

    The interpreter adds ``at FILE:LINE:COL`` frames when it reports it; the
    message is what the reference implementation prints after
    ``Runtime Error: ``.
    """


class WrongNumArguments(TengoError):
    def __init__(self) -> None:
        super().__init__("wrong number of arguments")


class InvalidArgumentType(TengoError):
    def __init__(self, name: str, expected: str, found: str) -> None:
        super().__init__(f"invalid type for argument '{name}': expected {expected}, found {found}")


class AllocationLimit(TengoError):
    def __init__(self) -> None:
        super().__init__("allocation limit exceeded")


class _Undefined:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<undefined>"

    def __bool__(self) -> bool:
        return False


UNDEFINED: Any = _Undefined()


class Char:
    """A Unicode code point (Go rune)."""

    __slots__ = ("v",)

    def __init__(self, v: int) -> None:
        self.v = v

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Char) and other.v == self.v

    def __hash__(self) -> int:
        return hash(("char", self.v))

    def __bool__(self) -> bool:
        return self.v != 0

    def __repr__(self) -> str:
        return f"Char({self.v!r})"


class ImmutableArray(list):
    """An array that scripts cannot change (``immutable([...])``)."""

    __slots__ = ()


class ImmutableMap(dict):
    """A map that scripts cannot change (``immutable({...})``)."""

    __slots__ = ()


class Error:
    """Tengo's ``error(value)``: a value that is an error, not an exception."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __bool__(self) -> bool:
        return False  # an error is always falsy in Tengo

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Error) and other.value == self.value

    def __hash__(self) -> int:
        return id(self)


class Time:
    """A Go ``time.Time``: nanoseconds since the Unix epoch plus a zone.

    ``offset`` is seconds east of UTC and ``zone`` the zone's name (``"UTC"``,
    ``"Local"`` or an IANA name); the ``times`` module owns everything else
    about times.
    """

    __slots__ = ("ns", "offset", "zone")

    def __init__(self, ns: int, offset: int = 0, zone: str = "UTC") -> None:
        self.ns = ns
        self.offset = offset
        self.zone = zone

    def __bool__(self) -> bool:
        return self.ns != GO_ZERO_TIME_NS  # Go's zero time (year 1) is falsy

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Time) and other.ns == self.ns

    def __hash__(self) -> int:
        return hash(("time", self.ns))


class Builtin:
    """A function implemented in Python: builtins and stdlib module functions.

    ``fn`` takes the Tengo arguments positionally and returns a Tengo value;
    it raises :class:`TengoError` subclasses for misuse.  Standard library
    functions that wrap a failing host operation return an :class:`Error`
    value instead of raising, as the reference does.
    """

    __slots__ = ("fn", "name")

    def __init__(self, name: str, fn: Callable[..., Any]) -> None:
        self.name = name
        self.fn = fn

    def __call__(self, *args: Any) -> Any:
        return self.fn(*args)

    def __repr__(self) -> str:
        return f"<builtin-function:{self.name}>"


class Function:
    """A compiled Tengo function (closure).

    ``arity`` counts declared parameters, ``varargs`` says the last one
    collects the rest.  ``call`` is the compiled Python function (it trusts
    its caller to have checked the argument count); ``nfix`` is the exact
    argument count compiled code may call ``call`` with unchecked (-1 for
    variadic functions).  Host code should call the object itself, which
    checks the count as the reference does.
    """

    __slots__ = ("arity", "call", "name", "nfix", "varargs")

    def __init__(self, name: str, arity: int, varargs: bool, call: Callable[..., Any]) -> None:
        self.name = name
        self.arity = arity
        self.varargs = varargs
        self.call = call
        self.nfix = -1 if varargs else arity

    def __call__(self, *args: Any) -> Any:
        n = len(args)
        if self.varargs:
            if n < self.arity - 1:
                raise TengoError(f"wrong number of arguments: want>={self.arity - 1}, got={n}")
        elif n != self.arity:
            raise TengoError(f"wrong number of arguments: want={self.arity}, got={n}")
        return self.call(*args)

    def __repr__(self) -> str:
        return "<compiled-function>"


def type_name(v: Any) -> str:
    """The name ``type_name(v)`` returns in Tengo."""
    t = type(v)
    if t is bool:
        return "bool"
    if t is int:
        return "int"
    if t is float:
        return "float"
    if t is str:
        return "string"
    if t is list:
        return "array"
    if t is dict:
        return "map"
    if t is bytearray or t is bytes:
        return "bytes"
    if t is Char:
        return "char"
    if t is ImmutableArray:
        return "immutable-array"
    if t is ImmutableMap:
        return "immutable-map"
    if v is UNDEFINED:
        return "undefined"
    if t is Error:
        return "error"
    if t is Time:
        return "time"
    if t is Function:
        return "compiled-function"
    if t is Builtin:
        return "builtin-function"
    return "user-function" if callable(v) else "unknown"


# --- String forms, equality, truthiness -------------------------------------
#
# Shared by the interpreter (``string(v)``, ``+`` with a string, ``==``,
# conditions) and the standard library (``fmt``, ``json``...), so that every
# place that shows or compares a value agrees with the reference.


def format_float(f: float) -> str:
    """Go's ``strconv.FormatFloat(f, 'f', -1, 64)``: the shortest digits that
    round-trip, never in exponent form (Tengo prints floats this way)."""
    if math.isnan(f):
        return "NaN"
    if f in (float("inf"), float("-inf")):
        return "+Inf" if f > 0 else "-Inf"
    text = repr(f)
    if "e" not in text and "E" not in text:
        return text.removesuffix(".0")
    mantissa, _, exp_text = text.partition("e")
    exp = int(exp_text)
    sign = ""
    if mantissa.startswith("-"):
        sign, mantissa = "-", mantissa[1:]
    int_part, _, frac_part = mantissa.partition(".")
    digits = (int_part + frac_part).lstrip("0") or "0"
    point = len(int_part) + exp  # position of the decimal point within digits
    if point <= 0:
        out = "0." + "0" * (-point) + digits
    elif point >= len(digits):
        out = digits + "0" * (point - len(digits))
    else:
        out = digits[:point] + "." + digits[point:]
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    return sign + out


_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v",
            "\\": "\\\\", '"': '\\"'}


_CHUNK = 4096


def quote(s: str) -> str:
    """Go's ``strconv.Quote``: how a string shows inside an array or map.
    A long string is escaped a piece at a time, so the pieces in flight stay
    small next to the result."""
    if s.isascii() and s.isprintable() and '"' not in s and "\\" not in s:
        return '"' + s + '"'
    if len(s) > _CHUNK:
        return '"' + "".join([_quote_body(s[i:i + _CHUNK]) for i in range(0, len(s), _CHUNK)]) + '"'
    return '"' + _quote_body(s) + '"'


def _quote_body(s: str) -> str:
    if s.isprintable() and '"' not in s and "\\" not in s:
        return s
    out = []
    for c in s:
        esc = _ESCAPES.get(c)
        if esc is not None:
            out.append(esc)
        elif c.isprintable():
            out.append(c)
        else:
            n = ord(c)
            if n < 0x80:
                out.append(f"\\x{n:02x}")
            elif n < 0x10000:
                out.append(f"\\u{n:04x}")
            else:
                out.append(f"\\U{n:08x}")
    return "".join(out)


def utf8_bytes(s: str) -> bytes:
    """A string's bytes as Go holds them: UTF-8, with the raw bytes that
    strconv and json keep as U+DC80..U+DCFF back as single bytes (any other
    lone surrogate, which Go's ``string(rune)`` never makes, is U+FFFD's
    three bytes, as Go makes it: wellformed.py's rule)."""
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return s.encode("utf-8", "tengo-bytes")


def _go_bytes(exc: UnicodeError) -> tuple[bytes, int]:
    """utf8_bytes' error handler: an escaped byte is that byte, any other surrogate U+FFFD."""
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = bytearray()
    for c in exc.object[exc.start:exc.end]:
        n = ord(c)
        out += bytes([n - 0xDC00]) if 0xDC80 <= n <= 0xDCFF else b"\xef\xbf\xbd"
    return bytes(out), exc.end


codecs.register_error("tengo-bytes", _go_bytes)


def utf8_len(s: str) -> int:
    """Go's ``len(string)``: a string's length in bytes (see utf8_bytes),
    counted a piece at a time for a long string (no copy of it all)."""
    if s.isascii():
        return len(s)
    if len(s) <= _PIECE:
        return len(utf8_bytes(s))
    pieces = range(0, len(s), _PIECE)
    try:
        return sum(len(s[i:i + _PIECE].encode("utf-8", "surrogateescape")) for i in pieces)
    except UnicodeEncodeError:
        return sum(len(s[i:i + _PIECE].encode("utf-8", "surrogatepass")) for i in pieces)


_PIECE = 1 << 16

#: The code points that stand for single bytes of invalid UTF-8 in a Tengo
#: string (Python's ``surrogateescape``): Go strings are byte sequences, so
#: ``"é"[0:1]`` is one byte, held here as U+DCC3.
RAW_FIRST, RAW_LAST = "\udc80", "\udcff"


def str_from_bytes(b: bytes | bytearray) -> str:
    """Go bytes as a Tengo string: UTF-8, each byte that is not part of
    valid UTF-8 kept as one U+DC80..U+DCFF (see :func:`utf8_bytes`)."""
    return b.decode("utf-8", "surrogateescape")


def concat(a: str, b: str) -> str:
    """``a + b`` as Go joins bytes: where ``a`` ends and ``b`` starts with
    raw bytes, they are read again together, so the two halves of a
    character cut by a slice make the character again."""
    if b and RAW_FIRST <= b[0] <= RAW_LAST and a and RAW_FIRST <= a[-1] <= RAW_LAST:
        i = 1
        while i < 3 and i < len(a) and RAW_FIRST <= a[-1 - i] <= RAW_LAST:
            i += 1
        j = 1
        while j < 3 and j < len(b) and RAW_FIRST <= b[j] <= RAW_LAST:
            j += 1
        middle = str_from_bytes((a[-i:] + b[:j]).encode("utf-8", "surrogateescape"))
        return a[:-i] + middle + b[j:]
    return a + b


_RAW_RUN = re.compile("[\udc80-\udcff]{2,}")


def rejoined(s: str) -> str:
    """``s`` made of pieces joined at once (``text.join``): each run of raw
    bytes read again together, as :func:`concat` does at one boundary."""
    if s.isascii() or _RAW_RUN.search(s) is None:
        return s
    return _RAW_RUN.sub(lambda m: str_from_bytes(m.group().encode("utf-8", "surrogateescape")), s)


def rune(c: str) -> int:
    """The rune Go reads at one character of a string: a raw byte (or any
    lone surrogate) is U+FFFD, as ``[]rune(s)`` makes it."""
    n = ord(c)
    return 0xFFFD if 0xD800 <= n <= 0xDFFF else n


def bytes_to_str(b: bytes | bytearray) -> str:
    """Bytes as text (Go's ``string(b)``): the same bytes, an invalid one kept
    as a raw byte (see :func:`str_from_bytes`); shown, it is U+FFFD."""
    return b.decode("utf-8", "surrogateescape")


def format_time(t: Time) -> str:
    """Go's ``time.Time.String()``: ``2006-01-02 15:04:05.999999999 -0700 MST``."""
    import datetime

    secs, frac = divmod(t.ns, 1_000_000_000)
    local = datetime.datetime(1970, 1, 1) + datetime.timedelta(seconds=secs + t.offset)
    text = local.strftime("%Y-%m-%d %H:%M:%S")
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    off = t.offset
    sign = "+" if off >= 0 else "-"
    off = abs(off)
    zone = t.zone
    if zone in ("", "Local"):
        zone = "UTC" if t.offset == 0 else ""
    text += f" {sign}{off // 3600:02d}{(off % 3600) // 60:02d}"
    return text + (f" {zone}" if zone else "")


def to_repr(v: Any) -> str:
    """The reference's ``Object.String()``: strings quoted, containers
    recursively, e.g. ``[1, "a", {b: 'c'}]``."""
    t = type(v)
    if t is str:
        return quote(v)
    if t is list or t is ImmutableArray:
        return "[" + _joined([to_repr(x) for x in v]) + "]"
    if t is dict or t is ImmutableMap:
        return "{" + _joined([f"{k}: {to_repr(x)}" for k, x in v.items()]) + "}"
    return to_string(v)


def _joined(parts: list[str]) -> str:
    """``", ".join(parts)``, announced to the run's memory budget first when
    long: a value holding the same array many times shows as a text far
    larger than the value."""
    if len(parts) > 1:
        total = sum(map(len, parts)) + 2 * len(parts)
        if total > 4096:
            from .operations import need

            need(total * max(map(_width, parts)))
    return ", ".join(parts)


def _width(s: str) -> int:
    from .memory import str_width

    return str_width(s)


def to_string(v: Any) -> str:
    """What ``string(v)``, string concatenation and ``fmt.println`` show: a
    string as it is, anything else in its ``String()`` form."""
    t = type(v)
    if t is str:
        return v
    if t is bool:
        return "true" if v else "false"
    if t is int:
        return str(v)
    if t is float:
        return format_float(v)
    if t is Char:
        try:
            return chr(v.v)
        except (ValueError, OverflowError):
            return "\ufffd"
    if t is bytearray or t is bytes:
        return bytes_to_str(v)
    if t is list or t is ImmutableArray or t is dict or t is ImmutableMap:
        return to_repr(v)
    if v is UNDEFINED:
        return "<undefined>"
    if t is Error:
        return "error: " + to_repr(v.value)
    if t is Time:
        return format_time(v)
    if t is Function:
        return "<compiled-function>"
    if t is Builtin:
        return "<builtin-function>"
    return "<" + type_name(v) + ">"


_LEN_FALSY = frozenset({int, str, bytearray, bytes, list, dict, ImmutableArray, ImmutableMap})


def is_falsy(v: Any) -> bool:
    """Tengo's ``IsFalsy``: what ``!``, ``&&``, ``||`` and conditions use."""
    t = type(v)
    if t is bool:
        return not v
    if t in _LEN_FALSY:
        return not v
    if t is float:
        return math.isnan(v)
    if t is Char:
        return v.v == 0
    if v is UNDEFINED or t is Error:
        return True
    if t is Time:
        return v.ns == GO_ZERO_TIME_NS
    return False


def equals(a: Any, b: Any) -> bool:
    """Tengo's ``==``: numbers compare across int/float, arrays and maps by
    contents (mutable or not), errors and functions by identity."""
    ta = type(a)
    tb = type(b)
    if ta is int or ta is float:
        if tb is int or tb is float:
            return a == b
        return False
    if ta is bool:
        return tb is bool and a == b
    if ta is str:
        return tb is str and a == b
    if ta is bytearray or ta is bytes:
        return (tb is bytearray or tb is bytes) and a == b
    if ta is Char:
        return tb is Char and a.v == b.v
    if ta is list or ta is ImmutableArray:
        if tb is not list and tb is not ImmutableArray or len(a) != len(b):
            return False
        for x, y in zip(a, b, strict=True):
            if not equals(x, y):
                return False
        return True
    if ta is dict or ta is ImmutableMap:
        if tb is not dict and tb is not ImmutableMap or len(a) != len(b):
            return False
        for k, x in a.items():
            if k not in b or not equals(x, b[k]):
                return False
        return True
    if ta is Time:
        return tb is Time and a.ns == b.ns
    return a is b
