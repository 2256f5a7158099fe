"""``log`` (and its alias ``logger``): structured messages to the host's log.

Log lines go to stderr (through Python's logging), never into the spell's
printed output, so a spell's result and its diagnostics stay apart.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from .base import Bridge, method

_log = logging.getLogger("llmspell.spell")


class LogBridge(Bridge):
    name = "log"
    description = "Structured log messages from the spell."

    def _emit(self, level: int, message: str, fields: dict | None) -> None:
        extra = " " + " ".join(f"{k}={v!r}" for k, v in sorted(fields.items())) if fields else ""
        _log.log(level, "%s: %s%s", self.host.filename, message, extra)

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
