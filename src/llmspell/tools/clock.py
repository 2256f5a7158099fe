"""The current date and time, as a tool a model can call.

A spell has no clock of its own (that keeps spells replayable); it asks the
host through this tool, which gives the same instant in three forms.
"""

from __future__ import annotations

import datetime as _dt
import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from llmspell.errors import SpellError


def datetime(timezone: str | None = None) -> dict:
    """``{iso, unix, timezone, utc_offset}`` for now, in ``timezone`` (an IANA
    name such as ``"Europe/Paris"``) or the host's local zone."""
    now = time.time()
    if timezone is None:
        moment = _dt.datetime.fromtimestamp(now).astimezone()
        name = moment.tzname() or "local"
    else:
        if not isinstance(timezone, str):
            raise SpellError("invalid_argument", "datetime: timezone must be a string")
        try:
            zone = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SpellError("invalid_argument", f"datetime: unknown time zone {timezone!r}") from None
        moment = _dt.datetime.fromtimestamp(now, zone)
        name = timezone
    return {
        "iso": moment.isoformat(timespec="seconds"),
        "unix": int(now),
        "timezone": name,
        "utc_offset": moment.strftime("%z")[:3] + ":" + moment.strftime("%z")[3:],
    }
