"""Go ``regexp`` semantics on top of RE2 (``google-re2``).

RE2 gives the syntax and the linear-time guarantee; what this module adds is
what Go's package does around the engine: byte offsets in results, Go's rules
for empty matches in "all" searches, replacement templates (``$1``,
``${name}``) and ``Split``.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable, Iterator
from itertools import accumulate

import re2

from ..memory import HEADER, SLOT
from ._args import need

#: Characters of output made between two announcements to the memory budget.
_STEP = 1 << 16

_OPTIONS = re2.Options()
_OPTIONS.max_mem = 64 << 20
_OPTIONS.log_errors = False


class Pattern:
    """A compiled regular expression with Go's search behaviour."""

    def __init__(self, source: str) -> None:
        try:
            self._re = re2.compile(source, options=_OPTIONS)
        except re2.error as exc:
            detail = exc.args[0] if exc.args else "invalid pattern"
            if isinstance(detail, bytes):
                detail = detail.decode("utf-8", "replace")
            raise PatternError(f"error parsing regexp: {detail}") from None
        self.source = source
        names = self._re.groupindex
        self._names = {index: name for name, index in names.items()}
        self.groups = self._re.groups

    def search(self, text: str, pos: int = 0) -> tuple[int, ...] | None:
        """Spans of the leftmost match at or after pos (char offsets; -1 for
        groups that did not take part)."""
        m = self._re.search(text, pos)
        if m is None:
            return None
        spans: list[int] = []
        for g in range(self.groups + 1):
            start, end = m.span(g)
            spans.extend((start, end))
        return tuple(spans)

    def is_match(self, text: str) -> bool:
        return self._re.search(text) is not None

    def find_all(self, text: str, n: int = -1) -> Iterator[tuple[int, ...]]:
        """Go's allMatches: successive matches, an empty match right after a
        previous match skipped, at most n when n >= 0."""
        pos, count, prev_end = 0, 0, -1
        end = len(text)
        while (n < 0 or count < n) and pos <= end:
            spans = self.search(text, pos)
            if spans is None:
                break
            accept = True
            if spans[1] == pos:
                if spans[0] == prev_end:
                    accept = False
                pos += 1
            else:
                pos = spans[1]
            prev_end = spans[1]
            if accept:
                count += 1
                yield spans

    def replace(self, text: str, repl: Callable[[tuple[int, ...]], str]) -> str:
        """Go's replaceAll: each match replaced by repl(spans)."""
        out: list[str] = []
        last_end = 0
        search_pos = 0
        end = len(text)
        made = 0  # characters made since the last announcement
        while search_pos <= end:
            spans = self.search(text, search_pos)
            if spans is None:
                break
            out.append(text[last_end:spans[0]])
            made += spans[0] - last_end + SLOT
            if spans[1] > last_end or spans[0] == 0:
                piece = repl(spans)
                out.append(piece)
                made += len(piece) + SLOT
            if made > _STEP:
                need(4 * made)  # the pieces, and their share of the joined result
                made = 0
            last_end = spans[1]
            if search_pos + 1 > spans[1]:
                search_pos += 1
            else:
                search_pos = spans[1]
        out.append(text[last_end:])
        return "".join(out)

    def expand(self, template: str, text: str, spans: tuple[int, ...]) -> str:
        """Go's Regexp.Expand: ``$1``, ``${1}``, ``$name``, ``${name}``, ``$$``."""
        out: list[str] = []
        i = 0
        n = len(template)
        while i < n:
            j = template.find("$", i)
            if j < 0:
                break
            out.append(template[i:j])
            i = j + 1
            if i < n and template[i] == "$":
                out.append("$")
                i += 1
                continue
            parsed = _extract(template, i)
            if parsed is None:
                out.append("$")
                continue
            name, num, i = parsed
            group = num if num >= 0 else self._group_named(name)
            if group is not None and 0 <= group <= self.groups and spans[2 * group] >= 0:
                out.append(text[spans[2 * group]:spans[2 * group + 1]])
        out.append(template[i:])
        return "".join(out)

    def _group_named(self, name: str) -> int | None:
        for index, group_name in self._names.items():
            if group_name == name:
                return index
        return None

    def split(self, text: str, n: int) -> list[str]:
        """Go's Regexp.Split."""
        if n == 0:
            return []
        if self.source and not text:
            return [""]
        parts: list[str] = []
        beg = end = 0
        for spans in self.find_all(text, n):
            if n > 0 and len(parts) == n - 1:
                break
            end = spans[0]
            if spans[1] != 0:
                parts.append(text[beg:end])
                need(HEADER + SLOT + 4 * (end - beg))
            beg = spans[1]
        if end != len(text):
            parts.append(text[beg:])
        return parts


class PatternError(Exception):
    pass


def _is_name_char(c: str) -> bool:
    return c == "_" or c.isalpha() or c.isdigit()


def _extract(s: str, i: int) -> tuple[str, int, int] | None:
    """Parse a group reference after ``$``: (name, number or -1, next index)."""
    brace = i < len(s) and s[i] == "{"
    if brace:
        i += 1
    start = i
    while i < len(s) and _is_name_char(s[i]):
        i += 1
    if i == start:
        return None
    name = s[start:i]
    if brace:
        if i >= len(s) or s[i] != "}":
            return None
        i += 1
    num = -1
    if name.isascii() and name.isdigit() and len(name) < 9 and not (name[0] == "0" and len(name) > 1):
        num = int(name)
    return name, num, i


class ByteOffsets:
    """Converts char offsets of a str into Go's UTF-8 byte offsets."""

    def __init__(self, text: str) -> None:
        self._ascii = text.isascii()
        if not self._ascii:
            need(HEADER + SLOT * (len(text) + 1))
            widths = (1 if o < 0x80 else 2 if o < 0x800 else 3 if o < 0x10000 else 4 for o in map(ord, text))
            self._table = array("q", accumulate(widths, initial=0))

    def __call__(self, i: int) -> int:
        return i if self._ascii else self._table[i]
