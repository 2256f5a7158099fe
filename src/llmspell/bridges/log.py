"""``log`` (and its alias ``logger``): structured messages to the host's log.

Log lines go to stderr (through Python's logging), never into the spell's
printed output, so a spell's result and its diagnostics stay apart.

The spell is untrusted and a log record is the host's: each record is
exactly one line (newlines, ANSI sequences and other controls in the message
and the fields are shown escaped, see :mod:`llmspell.display`, so a spell
cannot forge a host log line or drive the terminal), and every record written
is charged to the run's output budget (``--max-output``) before it is written,
as print is: a spell cannot flood the host's stderr.  Records below the log
level are not written and cost nothing.
"""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from ..display import one_line
from .base import Bridge, method

_log = logging.getLogger("llmspell.spell")


class LogBridge(Bridge):
    name = "log"
    description = "Structured log messages from the spell."

    def _emit(self, level: int, message: str, fields: dict | None) -> None:
        if not _log.isEnabledFor(level):
            return
        host = self.host
        room = host.output_room()
        if room is not None and len(message) > room:  # refused before any copy of it is made
            raise host.output_error()
        line = f"{one_line(host.filename)}: {one_line(message)}"
        if fields:
            line += " " + " ".join(f"{one_line(str(k))}={_field(v)}" for k, v in sorted(fields.items()))
        # What the handler adds: "LEVEL " before, a newline after.
        host.charge_output(line, extra=len(logging.getLevelName(level)) + 2)
        _log.log(level, "%s", line)

    @method
    def debug(self, message: Annotated[str, "what happened"],
              fields: Annotated[dict[str, Any] | None, "extra data"] = None) -> None:
        """Log at debug level."""
        self._emit(logging.DEBUG, message, fields)

    @method
    def info(self, message: Annotated[str, "what happened"],
             fields: Annotated[dict[str, Any] | None, "extra data"] = None) -> None:
        """Log at info level."""
        self._emit(logging.INFO, message, fields)

    @method
    def warn(self, message: Annotated[str, "what happened"],
             fields: Annotated[dict[str, Any] | None, "extra data"] = None) -> None:
        """Log a warning."""
        self._emit(logging.WARNING, message, fields)

    @method
    def error(self, message: Annotated[str, "what happened"],
              fields: Annotated[dict[str, Any] | None, "extra data"] = None) -> None:
        """Log an error (the spell goes on; raise to stop it)."""
        self._emit(logging.ERROR, message, fields)


def _field(value: Any) -> str:
    """A field's value as JSON (the same in every language), on one line."""
    return one_line(json.dumps(value, ensure_ascii=False, sort_keys=True, default=str))
