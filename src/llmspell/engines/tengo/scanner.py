"""Tengo's scanner: source text to tokens, with Go's automatic semicolons.

A token is a tuple ``(kind, value, offset)``; ``offset`` is a character index
into the source (turned into line:column only when an error is reported).
An automatic semicolon has the value ``"\\n"`` so the parser can tell it from
a written one.
"""

from __future__ import annotations

from .errors import SourceFile, TengoParseError
from .tokens import CHAR, EOF, FLOAT, IDENT, INT, KEYWORDS, OPERATORS, SEMI, SEMI_AFTER, STRING

Token = tuple[str, object, int]

_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_OP_CHARS = frozenset("+-*/%&|^<>=!:.,;()[]{}?")
_DIGITS = frozenset("0123456789")
_HEX = frozenset("0123456789abcdefABCDEF")


def _is_letter(c: str) -> bool:
    return c == "_" or c.isalpha()


def _is_ident_char(c: str) -> bool:
    return c == "_" or c.isalnum()


class Scanner:
    def __init__(self, src: SourceFile) -> None:
        self.src = src
        self.text = src.text
        self.n = len(self.text)

    def error(self, offset: int, message: str) -> TengoParseError:
        where = self.src.where(offset)
        return TengoParseError(message, [where], self.src.line_text(where[1]))

    def tokens(self) -> list[Token]:
        """Scan the whole source (Tengo scripts are small; a list is simplest)."""
        text = self.text
        n = self.n
        out: list[Token] = []
        append = out.append
        i = 0
        last = None  # kind of the last real token, for semicolon insertion
        while True:
            # skip whitespace and comments; a newline may end a statement
            while i < n:
                c = text[i]
                if c == "\n":
                    if last in SEMI_AFTER:
                        append((SEMI, "\n", i))
                        last = SEMI
                    i += 1
                elif c in " \t\r":
                    i += 1
                elif c == "/" and i + 1 < n and text[i + 1] == "/":
                    j = text.find("\n", i)
                    i = n if j < 0 else j
                elif c == "/" and i + 1 < n and text[i + 1] == "*":
                    j = text.find("*/", i + 2)
                    if j < 0:
                        raise self.error(i, "comment not terminated")
                    if last in SEMI_AFTER and "\n" in text[i:j]:
                        append((SEMI, "\n", i))
                        last = SEMI
                    i = j + 2
                else:
                    break
            if i >= n:
                if last in SEMI_AFTER:
                    append((SEMI, "\n", n))
                append((EOF, None, n))
                return out
            c = text[i]
            start = i
            if _is_letter(c):
                i += 1
                while i < n and _is_ident_char(text[i]):
                    i += 1
                word = text[start:i]
                kind = word if word in KEYWORDS else IDENT
                append((kind, word, start))
                last = kind
            elif c in _DIGITS or (c == "." and i + 1 < n and text[i + 1] in _DIGITS):
                kind, value, i = self._number(i)
                append((kind, value, start))
                last = kind
            elif c == '"':
                value, i = self._string(i)
                append((STRING, value, start))
                last = STRING
            elif c == "`":
                j = text.find("`", i + 1)
                if j < 0:
                    raise self.error(start, "raw string literal not terminated")
                append((STRING, text[i + 1:j].replace("\r", ""), start))
                i = j + 1
                last = STRING
            elif c == "'":
                value, i = self._char(i)
                append((CHAR, value, start))
                last = CHAR
            elif c in _OP_CHARS:
                op = text[i:i + 3]
                if op not in OPERATORS:
                    op = op[:2]
                    if op not in OPERATORS:
                        op = c
                i += len(op)
                append((op, op, start))
                last = op
            else:
                raise self.error(start, f"illegal character {c!r}")

    def _number(self, i: int) -> tuple[str, object, int]:
        text, n, start = self.text, self.n, i
        if text[i] == "0" and i + 1 < n and text[i + 1] in "xXbBoO":
            i += 2
            while i < n and (text[i] in _HEX or text[i] == "_"):
                i += 1
            lit = text[start:i]
            try:
                value = int(lit, 0)
            except ValueError:
                raise self.error(start, f"invalid integer literal {lit!r}") from None
            return INT, self._check_int(start, value), i
        while i < n and (text[i] in _DIGITS or text[i] == "_"):
            i += 1
        is_float = False
        if i < n and text[i] == ".":
            is_float = True
            i += 1
            while i < n and (text[i] in _DIGITS or text[i] == "_"):
                i += 1
        if i < n and text[i] in "eE":
            j = i + 1
            if j < n and text[j] in "+-":
                j += 1
            if j < n and text[j] in _DIGITS:
                is_float = True
                i = j
                while i < n and text[i] in _DIGITS:
                    i += 1
        lit = text[start:i]
        if i < n and _is_letter(text[i]):
            raise self.error(start, f"invalid number literal {text[start:i + 1]!r}")
        if is_float:
            try:
                return FLOAT, float(lit.replace("_", "")), i
            except ValueError:
                raise self.error(start, f"invalid float literal {lit!r}") from None
        digits = lit.replace("_", "")
        try:
            if len(digits) > 1 and digits[0] == "0":
                value = int(digits[1:], 8)  # Go: a leading zero means octal
            else:
                value = int(digits, 10)
        except ValueError:
            raise self.error(start, f"invalid integer literal {lit!r}") from None
        return INT, self._check_int(start, value), i

    def _check_int(self, start: int, value: int) -> int:
        if value > (1 << 63) - 1:
            raise self.error(start, "integer literal out of range")
        return value

    def _escape(self, i: int, quote: str) -> tuple[str, int]:
        """Decode the escape sequence starting after the backslash at ``i``."""
        text, n = self.text, self.n
        if i >= n:
            raise self.error(i, "escape sequence not terminated")
        c = text[i]
        if c in _SIMPLE_ESCAPES:
            return _SIMPLE_ESCAPES[c], i + 1
        if c == quote:
            return c, i + 1
        if c in "01234567":
            digits = text[i:i + 3]
            if len(digits) < 3 or any(d not in "01234567" for d in digits):
                raise self.error(i, "invalid octal escape")
            code = int(digits, 8)
            if code > 0xFF:
                raise self.error(i - 1, "escape sequence is invalid Unicode code point")
            return "\x00" + chr(code), i + 3  # a raw byte, as \xNN
        size = {"x": 2, "u": 4, "U": 8}.get(c)
        if size is None:
            raise self.error(i - 1, "unknown escape sequence")
        digits = text[i + 1:i + 1 + size]
        if len(digits) < size or any(d not in _HEX for d in digits):
            raise self.error(i - 1, "invalid escape sequence")
        code = int(digits, 16)
        if c == "x":
            return "\x00" + chr(code), i + 1 + size  # a raw byte, fixed up by the caller
        if code > 0x10FFFF or 0xD800 <= code < 0xE000:
            raise self.error(i - 1, "escape sequence is invalid Unicode code point")
        return chr(code), i + 1 + size

    def _string(self, i: int) -> tuple[str, int]:
        text, n = self.text, self.n
        start = i
        i += 1
        j = i
        while j < n and text[j] not in '"\\\n':
            j += 1
        if j < n and text[j] == '"':
            return text[i:j], j + 1
        parts: list[str] = []
        raw_bytes = False
        while True:
            if i >= n or text[i] == "\n":
                raise self.error(start, "string literal not terminated")
            c = text[i]
            if c == '"':
                i += 1
                break
            if c == "\\":
                s, i = self._escape(i + 1, '"')
                if s.startswith("\x00") and len(s) == 2:
                    raw_bytes = True
                parts.append(s)
            else:
                parts.append(c)
                i += 1
        if not raw_bytes:
            return "".join(parts), i
        # \xNN escapes are bytes: assemble UTF-8 and decode (an invalid byte stays one byte, see objects.concat)
        buf = bytearray()
        for s in parts:
            if len(s) == 2 and s[0] == "\x00":
                buf.append(ord(s[1]))
            else:
                buf += s.encode("utf-8")
        return buf.decode("utf-8", "surrogateescape"), i

    def _char(self, i: int) -> tuple[int, int]:
        text, n = self.text, self.n
        start = i
        i += 1
        if i >= n or text[i] in "\n'":
            raise self.error(start, "illegal rune literal")
        if text[i] == "\\":
            s, i = self._escape(i + 1, "'")
            value = ord(s[1]) if len(s) == 2 and s[0] == "\x00" else ord(s)
        else:
            value = ord(text[i])
            i += 1
        if i >= n or text[i] != "'":
            raise self.error(start, "illegal rune literal")
        return value, i + 1
