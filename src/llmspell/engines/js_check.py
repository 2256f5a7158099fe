"""Compiling a JavaScript spell without running any of it.

A spell runs as the body of an async function (so that top-level ``await``
and ``return`` work), and QuickJS takes that function only as source text:
``(async function () {`` + spell + ``})``.  A spell that starts with ``});``
would close that function and have the rest of its text run as top-level
code while the host merely evaluates the wrapper -- which ``check`` did with
no limits at all.  QuickJS's Function constructor builds its source the same
way, and the Python binding has no compile-only call, so the text is made
safe by construction instead:

1. The spell is first compiled inside a block labelled with a fresh random
   name, closed by ``break LABEL`` after the spell.  Text that closes the
   block or the function leaves that ``break`` outside its label, an early
   error, and QuickJS compiles the whole text before it runs any of it:
   nothing of such a spell ever runs.  Only the nonce would let a spell
   reopen the label, and no spell code has run to learn it.
2. Text that compiles there is a well-formed statement list, so the real
   wrapper (the function body itself, where ``"use strict"`` is a directive
   and a top-level ``function`` is function-scoped) evaluates to one function
   object and nothing else; its own early errors (strict mode) are found here.

Both steps run in a context whose memory and time limits are already armed.
QuickJS gives the syntax errors, so ``check`` and ``run`` accept exactly the
same spells; tree-sitter only helps to place an error that QuickJS reports at
the wrapper's closing text (a ``}`` too many, or a block left open).
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import SpellError
from ._syntax import syntax_error as _located

#: Text put before the spell on its first line, so line numbers stay the spell's own.
HEAD = "(async function () {"
#: QuickJS's text of a SyntaxError: the message, then the first frame (in the run's
#: context the prelude's Error.prepareStackTrace writes it as "at <anonymous> (<input>:L:C)").
_SYNTAX = re.compile(r"^(?P<msg>SyntaxError: [^\n]*)\n.*?^\s*at (?:[^\n(]*\()?<input>:(?P<line>\d+)(?::(?P<col>\d+))?",
                     re.S | re.M)
_LINE_BREAK = re.compile(r"\r\n|[\n\r\u2028\u2029]")
#: A fresh context for ``check`` gets these limits (no spell code runs there; they are the second line).
CHECK_MEMORY = 512 << 20
CHECK_SECONDS = 10.0


def compile_spell(ctx: Any, quickjs: Any, source: str, filename: str, label: str) -> Any:
    """The spell's async function, compiled in ``ctx`` (limits armed by the caller).

    Raises a ``syntax_error`` SpellError for text that does not parse as a
    function body; any other exception of QuickJS (out of memory, a time
    limit) is raised as it is, for the caller to map.
    """
    guarded = f"{HEAD}{label}: {{{source}\nbreak {label}; }}}})"
    for text, head in ((guarded, f"{HEAD}{label}: {{"), (f"{HEAD}{source}\n}})", HEAD)):
        try:
            value = ctx.eval(text)
        except quickjs.JSException as exc:
            message = str(exc)
            if message.startswith("SyntaxError"):
                err = syntax_error(message, source, filename, head, label)
                if text is guarded and "redefinition" in err.message:
                    err.hint = "at a spell's top level a function is declared like a let: no var may share its name"
                raise err from None
            raise
    return value


def syntax_error(text: str, source: str, filename: str, head: str = HEAD, label: str | None = None) -> SpellError:
    """QuickJS's SyntaxError as the spell's own: its file, line, column and source line."""
    m = _SYNTAX.match(text)
    if not m:
        return SpellError("syntax_error", text.split("\n", 1)[0].removeprefix("SyntaxError: "), file=filename)
    line, col = int(m.group("line")), int(m.group("col") or 1)
    msg = m.group("msg").removeprefix("SyntaxError: ")
    last = len(_LINE_BREAK.split(source))
    if line > last or (label is not None and label in msg):
        # QuickJS stopped at the wrapper's closing text: say what the spell left wrong, where it is.
        line, col, msg = _place_at_end(source, msg)
    elif line == 1:
        col = max(1, col - len(head))
    return _located(msg, filename, source, line, col)


def _place_at_end(source: str, msg: str) -> tuple[int, int, str]:
    closes = "label not found" in msg
    what = ("'}' without a matching '{': the spell closes a block or function that it did not open" if closes
            else "the spell ends inside something it did not finish (a block, call, string, comment or template)")
    found = _first_error(source)
    if found is not None:
        line, col, missing = found
        if missing and not closes:
            what = f"missing '{missing}' at the end of the spell"
        return line, col, what
    lines = source.splitlines() or [""]
    line = next((i for i in range(len(lines), 0, -1) if lines[i - 1].strip()), 1)
    return line, 1, what


def _first_error(source: str) -> tuple[int, int, str | None] | None:
    """Where tree-sitter finds the first error: (line, column, the missing token or None)."""
    from .js_instrument import parser

    stack = [parser().parse(source.encode("utf-8")).root_node]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            row, byte_col = node.start_point
            line_bytes = source.encode("utf-8").split(b"\n")[row] if row < source.count("\n") + 1 else b""
            col = len(line_bytes[:byte_col].decode("utf-8", "replace")) + 1
            return row + 1, col, node.type if node.is_missing else None
        if node.has_error:
            stack.extend(reversed(node.children))
    return None
