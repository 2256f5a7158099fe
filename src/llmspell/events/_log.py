"""Where a run reports what went wrong in a listener of a built-in event: its log, as ``log.warn`` writes.

A built-in event's listener that fails must not fail the tool call or the
model request that emitted the event, yet must not fail silently either: its
error is one warning record on the run's log (stderr), escaped to one line
and charged to the run's output budget like every record a spell causes, so a
listener failing on every event cannot flood the host.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from llmspell.display import one_line

_log = logging.getLogger("llmspell.spell")


def run_warning(host: Any) -> Callable[[str], None]:
    """A function writing one warning record for the run of ``host``."""

    def warn(text: str) -> None:
        if not _log.isEnabledFor(logging.WARNING):
            return
        line = f"{one_line(host.filename)}: {one_line(text)}"
        host.charge_output(line, extra=len("WARNING") + 2)
        _log.warning("%s", line)

    return warn
