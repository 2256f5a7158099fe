"""Text a spell controls, made safe to show to the person running it.

A spell is untrusted, and so is every string it hands the host: log
messages, error messages, printed output.  Two things can go wrong when such a
string reaches a terminal or a log file:

* **forged lines**: a newline (or CR, or a Unicode line separator) inside a
  log message starts what looks like a separate record, e.g. a fake
  ``ERROR`` line from the host;
* **terminal control**: ESC/CSI/OSC sequences and other C0/C1 controls move the
  cursor, hide or recolour text, set the window title, or write the clipboard
  (OSC 52) of the terminal that shows them; bidi overrides reorder what is
  shown.

The host's own channels (log records, the error report) therefore show
spell text through :func:`one_line`: every such character becomes a visible
escape (``\\n``, ``\\x1b``, ``\\u202e``) so that each record is exactly one line
and means what it shows.  Printed output is different: it is the spell's own
data, so it goes out unchanged to a pipe or a file; only when it goes to a
terminal does :func:`for_terminal` escape the controls (keeping newline, tab
and carriage return, which print uses).  Lone surrogates, which have no UTF-8
form, become U+FFFD everywhere (:func:`utf8_safe`), as a terminal shows bytes
that are not UTF-8.
"""

from __future__ import annotations

import re

from .wellformed import well_formed

_BIDI_AND_SEPARATORS = "\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069"
_SURROGATES = "\ud800-\udfff"
#: C0 controls, DEL, C1 controls, Unicode line/paragraph separators, bidi
#: marks, embeddings, overrides and isolates.
_LINE_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI_AND_SEPARATORS}{_SURROGATES}]")
#: The same without tab, newline and carriage return.
_TERMINAL_UNSAFE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_BIDI_AND_SEPARATORS}{_SURROGATES}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    c = match.group()
    if c in _NAMED:
        return _NAMED[c]
    if "\ud800" <= c <= "\udfff":
        return "\ufffd"
    code = ord(c)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: str) -> str:
    """``text`` as one line that only shows itself: controls, line
    separators and bidi marks escaped, lone surrogates as U+FFFD."""
    return _LINE_UNSAFE.sub(_escape, text) if _LINE_UNSAFE.search(text) else text


def for_terminal(text: str) -> str:
    """Printed text for a terminal: as :func:`one_line`, but newline, tab and
    carriage return stay (they are what print output is made of)."""
    return _TERMINAL_UNSAFE.sub(_escape, text) if _TERMINAL_UNSAFE.search(text) else text


def utf8_safe(text: str) -> str:
    """``text`` with every lone surrogate (no UTF-8 form) replaced by U+FFFD
    (and a pair joined): the one rule of :mod:`llmspell.wellformed`."""
    return well_formed(text)
