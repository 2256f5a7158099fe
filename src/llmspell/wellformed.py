"""Text that is not valid Unicode, made valid the one way every path agrees on.

A spell can make text that has no UTF-8 form: JavaScript strings are UTF-16
and may hold half of a surrogate pair (``"🎉".slice(0, 1)``, ``"\\ud800"``);
a Tengo string is bytes, and ``char(0xD800)`` or a byte that starts no UTF-8
sequence lands in our interpreter's str as a surrogate code point; a
provider's stream may cut a pair between two chunks.  Python can hold such a
str but cannot encode it, so it used to fail wherever it was written out (a
print, a file, an HTTP request) with an exception that was not the spell's.

The rule, the one WHATWG's ``TextEncoder`` and JavaScript's
``String.prototype.toWellFormed`` follow: a high surrogate followed by a low
one is the character the pair stands for, and every other surrogate code
point becomes U+FFFD.  Every string leaving a VM goes through
:func:`well_formed` (the engines' readers), as does text from a model
(:class:`ChunkJoiner` for a stream, which also holds back a high surrogate
that ends a chunk until the next one says what it is), so everything past
the engines — bridges, tools, files, providers, output, the run's result —
only ever sees valid Unicode.  Text without surrogates is returned as it is
(for ASCII, without looking at it).
"""

from __future__ import annotations

import codecs
import re
from typing import Any

_SURROGATE = re.compile("[\ud800-\udfff]")
_PAIR_OR_LONE = re.compile("([\ud800-\udbff][\udc00-\udfff])|[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def _fix(match: re.Match[str]) -> str:
    pair = match.group(1)
    if pair is None:
        return REPLACEMENT
    return chr(0x10000 + ((ord(pair[0]) - 0xD800) << 10) + (ord(pair[1]) - 0xDC00))


def well_formed(text: str) -> str:
    """``text`` with each surrogate pair joined into its character and every
    lone surrogate replaced by U+FFFD (``text`` itself when it has none)."""
    if text.isascii() or _SURROGATE.search(text) is None:
        return text
    return _PAIR_OR_LONE.sub(_fix, text)


def _lenient(exc: UnicodeError) -> tuple[str, int]:
    """The decoding error handler of :func:`from_utf8`: the 3-byte form of a
    surrogate (what Lua's ``"\\u{D83C}"`` and WTF-8 write) is that surrogate,
    for :func:`well_formed` to join or replace; any other ill-formed sequence
    is one U+FFFD (per maximal subpart, as WHATWG's decoder does)."""
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    data, at = exc.object, exc.start
    if data[at] == 0xED and len(data) >= at + 3 and 0xA0 <= data[at + 1] <= 0xBF and 0x80 <= data[at + 2] <= 0xBF:
        return chr(0xD000 | ((data[at + 1] & 0x3F) << 6) | (data[at + 2] & 0x3F)), at + 3
    return REPLACEMENT, exc.end


codecs.register_error("llmspell-lenient", _lenient)


def from_utf8(data: bytes) -> str:
    """Bytes that should be UTF-8 (a Lua string, say) as valid text by the
    same rule: surrogates written as UTF-8 pair up or become U+FFFD, as does
    every byte sequence that is not UTF-8."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return well_formed(data.decode("utf-8", "llmspell-lenient"))


def well_formed_data(value: Any) -> Any:
    """JSON-like data with every string in it (keys too) :func:`well_formed`."""
    if type(value) is str:
        return well_formed(value)
    if type(value) is list:
        return [well_formed_data(v) for v in value]
    if type(value) is dict:
        return {well_formed(k) if type(k) is str else k: well_formed_data(v) for k, v in value.items()}
    return value


class ChunkJoiner:
    """Pieces of one text as they arrive, handed on as whole characters: a
    piece that ends with a high surrogate keeps it back until the next piece
    (whose first code point may complete the pair), so the pieces handed on
    join to exactly :func:`well_formed` of the whole text."""

    __slots__ = ("_held",)

    def __init__(self) -> None:
        self._held = ""

    def feed(self, piece: str) -> str:
        """What of ``piece`` (after anything held back) may be handed on now."""
        if self._held:
            piece, self._held = self._held + piece, ""
        if piece and "\ud800" <= piece[-1] <= "\udbff":
            piece, self._held = piece[:-1], piece[-1]
        return well_formed(piece)

    def end(self) -> str:
        """What is still held back when the text ends (U+FFFD, or nothing)."""
        held, self._held = self._held, ""
        return well_formed(held)

