"""The JSON text of the spell API: one writer and one reader, so that the same
data gives the same text in Lua, Tengo and JavaScript (whose VM runs a twin of
this module, bridges/json.js, written to the same rules).

The rules, chosen so that a user of any of the three languages reads what
JavaScript's ``JSON.stringify`` would write:

* keys sorted by code point (Lua and Tengo tables have no order; JavaScript
  would put integer-like keys first);
* an integer is written exactly; a float as JavaScript writes a number: the
  shortest digits that read back to the same float, in plain notation from
  1e-6 up to 1e21 and as ``1e-7``/``1e+21`` outside (``4.0`` is ``4``,
  ``-0.0`` is ``0``).  JavaScript has only floats, so an integer beyond 2^53
  is already rounded there: the text follows the value each language holds;
* NaN and infinities have no JSON form: writing one is ``invalid_argument``,
  and ``NaN``/``Infinity`` in the text are refused when reading, as JSON says;
* an integer literal beyond int64 reads as a float (as in JavaScript), and a
  lone surrogate escape as U+FFFD, the rule for text that is not Unicode;
* the last of duplicate keys wins; data may nest :data:`MAX_DEPTH` levels (the
  walker that gives it to a language says so, values.make, with the path).
"""

from __future__ import annotations

import json
import math
import re
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any

from .errors import SpellError
from .values import MAX_DEPTH, NULL
from .wellformed import well_formed

#: ``indent`` is a count of spaces, as JavaScript's ``JSON.stringify`` takes it (which stops at 10).
MAX_INDENT = 10
_first = itemgetter(0)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
#: A JSON string, or one of the constants Python's reader would take that JSON does not.
_CONSTANT = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)', re.S)


def js_number(value: float) -> str:
    """A finite float as JavaScript's ``String(number)`` writes it."""
    if value == 0:
        return "0"
    text = repr(value)
    if "e" not in text:  # Python's plain notation is within JavaScript's: the same digits
        return text[:-2] if text.endswith(".0") else text
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    significant = digits.lstrip("0")
    # value = 0.<significant> * 10**n
    n = len(whole) + int(exponent or 0) - (len(digits) - len(significant))
    significant = significant.rstrip("0")
    k = len(significant)
    if k <= n <= 21:
        return sign + significant + "0" * (n - k)
    if 0 < n <= 21:
        return sign + significant[:n] + "." + significant[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + significant
    e = n - 1
    return sign + significant[0] + ("." + significant[1:] if k > 1 else "") + ("e+" if e >= 0 else "e-") + str(abs(e))


def _what(value: Any) -> str:
    from .values import HostHandle, ScriptFunction

    if isinstance(value, ScriptFunction):
        return "function"
    if isinstance(value, HostHandle):
        return value.type_name
    if isinstance(value, SpellError):
        return "error value"
    return type(value).__name__


def _too_deep(verb: str) -> SpellError:
    return SpellError("invalid_argument", f"json.{verb}: the value nests more than {MAX_DEPTH} levels deep",
                      hint="JSON data nests at most 64 arrays/objects")


def encode(value: Any, indent: int | None = None) -> str:
    """``value`` (a ScriptValue) as JSON text; ``indent``: spaces per level
    (0 or None: one line)."""
    if indent is not None and not (type(indent) is int and 0 <= indent <= MAX_INDENT):
        raise SpellError("invalid_argument", f"json.encode: indent must be a whole number from 0 to {MAX_INDENT}")
    out: list[str] = []
    write = out.append
    step = " " * indent if indent else ""

    def walk(v: Any, depth: int) -> None:
        t = type(v)
        if t is str:
            write(encode_basestring(v if v.isascii() else well_formed(v)))
        elif v is None or v is NULL:
            write("null")
        elif t is bool:
            write("true" if v else "false")
        elif t is int:
            write(str(v))
        elif t is float:
            if not math.isfinite(v):
                raise SpellError("invalid_argument", "json.encode: NaN and infinity have no JSON form")
            write(js_number(v))
        elif t is list or t is tuple or t is dict:
            if depth >= MAX_DEPTH:
                raise _too_deep("encode")
            if not v:
                write("{}" if t is dict else "[]")
                return
            inner = "\n" + step * (depth + 1) if step else ""
            write("{" if t is dict else "[")
            if t is dict:
                items = sorted([(k if k.isascii() else well_formed(k), x) for k, x in v.items()],
                               key=_first)
                for i, (k, x) in enumerate(items):
                    write(("," + inner) if i else inner)
                    write(encode_basestring(k))
                    write(": " if step else ":")
                    walk(x, depth + 1)
            else:
                for i, x in enumerate(v):
                    write(("," + inner) if i else inner)
                    walk(x, depth + 1)
            if step:
                write("\n" + step * depth)
            write("}" if t is dict else "]")
        else:
            raise SpellError("invalid_argument", f"json.encode: a {_what(v)} has no JSON form")

    walk(value, 0)
    return "".join(out)


def _int(text: str) -> int | float:
    """An integer literal: an int within int64, else the nearest float (as JavaScript reads it)."""
    if len(text) <= 18:
        return int(text)
    n = int(text) if len(text) <= 40 else None
    return n if n is not None and -(1 << 63) <= n < (1 << 63) else float(text)


class _Constant(Exception):  # noqa: N818 - a signal, caught below
    pass


def _constant(name: str) -> Any:
    raise _Constant(name)


def _where(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    return f"line {line} column {offset - (text.rfind(chr(10), 0, offset) + 1) + 1}"


def _settle(value: Any, surrogates: bool, null: Any = NULL) -> Any:
    """Decoded data as ScriptValues: null inside a container is ``null`` (NULL:
    it keeps its place, see values.NULL), a lone surrogate U+FFFD (wellformed.py's
    rule; after ``json.loads`` only lone ones are left, a pair is its character)."""
    if type(value) is list:
        for i, x in enumerate(value):
            if x is None:
                value[i] = null
            elif type(x) is list or type(x) is dict or (surrogates and type(x) is str):
                value[i] = _settle(x, surrogates, null)
        return value
    if type(value) is dict:
        if surrogates:
            value = {well_formed(k): x for k, x in value.items()}
        for k, x in value.items():
            if x is None:
                value[k] = null
            elif type(x) is list or type(x) is dict or (surrogates and type(x) is str):
                value[k] = _settle(x, surrogates, null)
        return value
    if type(value) is str:
        return well_formed(value)
    return value


def decode(text: str, null: Any = NULL) -> Any:
    """JSON text as ScriptValues (see the module's rules); bad text is
    ``invalid_argument`` naming where.  ``null``: what a null inside a
    container becomes (None for host code that reads the data itself)."""
    try:
        value = json.loads(text, parse_int=_int, parse_constant=_constant)
    except json.JSONDecodeError as exc:
        raise SpellError("invalid_argument",
                         f"json.decode: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except _Constant as exc:
        name = exc.args[0]
        at = next((m.start(1) for m in _CONSTANT.finditer(text) if m.group(1) == name), 0)
        raise SpellError("invalid_argument", f"json.decode: {name} is not JSON at {_where(text, at)}",
                         hint="JSON has no NaN or infinity: write null or a string") from None
    except RecursionError:
        raise _too_deep("decode") from None
    if type(value) is list or type(value) is dict:
        surrogates = _SURROGATE_ESCAPE.search(text) is not None
        if surrogates or (null is not None and "null" in text):
            return _settle(value, surrogates, null)
    elif type(value) is str and _SURROGATE_ESCAPE.search(text):
        return well_formed(value)
    return value
