"""The error value a script sees, made and read in one place for every engine.

A failed bridge call, a host error or a run limit reaches a spell as plain
data — ``{kind, message}``, plus ``where`` (``file:line``), ``hint``, and
``fatal`` for a limit of the run that no catch may keep — which each engine
materializes in its own shape (a Lua table with its ``__tostring``, the
prelude's JavaScript ``SpellError``, a Tengo ``error``).  An error value a
spell raises or exports comes back through :func:`from_error_value`.  Written
once, so the fields mean the same in every language.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ..errors import Frame, SpellError
from ..host import is_run_limit

#: The fields of an error value, in the order engines write them.
FIELDS = ("kind", "message", "where", "hint", "fatal")
_WHERE = re.compile(r"^(.*):(\d+)$")
_TIMEOUT_HINT = "raise it with --timeout SECONDS if the spell needs longer"


def error_value(exc: SpellError) -> dict[str, Any]:
    """``exc`` as the error value a script gets: kind and message always;
    where, hint and fatal only when there is something to say."""
    value: dict[str, Any] = {"kind": exc.kind, "message": exc.message}
    where = exc.location()
    if where:
        value["where"] = where
    if exc.hint:
        value["hint"] = exc.hint
    if is_run_limit(exc):
        value["fatal"] = True
    return value


def from_error_value(kind: str, message: Any, where: Any = None, hint: Any = None, fatal: Any = False,
                     stack: Sequence[Frame] = ()) -> SpellError:
    """The SpellError of an error value that ended a spell (raised, thrown or
    exported): ``where`` gives file and line; an error that says it is
    ``fatal`` is a limit of the run again (the run's own deadline, not a
    provider's timeout), which ends the run wherever it arrives."""
    exc = SpellError(kind, str(message), stack=list(stack))
    if isinstance(where, str) and where:
        m = _WHERE.match(where)
        if m:
            exc.file, exc.line = m.group(1), int(m.group(2))
        else:  # a limit of the whole run names the spell, not a line
            exc.file = where
    if isinstance(hint, str):
        exc.hint = hint
    elif kind == "timeout":
        exc.hint = _TIMEOUT_HINT
    if fatal is True:
        exc.run_limit = True
    return exc
