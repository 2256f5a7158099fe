"""The run's limits as every engine enforces them: the instruction budget's
error, and waiting for the host (a bridge call, the spell's thread) under the
run's deadline.  The time and memory errors themselves are the host's
(``SpellRun.timeout_error``/``memory_error``), so a limit reads the same in
every language."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Coroutine
from typing import TYPE_CHECKING, Any

from ..errors import SpellError

if TYPE_CHECKING:
    from ..host import SpellRun


def instructions_error(host: SpellRun, counted: str = "") -> SpellError:
    """The run went over ``--max-instructions``; ``counted`` says what the
    language counts as one, when that is not obvious."""
    limit = host.limits.max_instructions
    return SpellError("limit_exceeded", f"the spell ran more than its limit of {limit} instructions{counted}",
                      hint="raise it with --max-instructions N", file=host.filename, run_limit=True)


async def before_deadline(host: SpellRun, waited: Awaitable[Any], grace: float = 0.0, spawn: bool = True) -> Any:
    """Await ``waited``, or fail with the run's timeout error once its deadline
    (plus ``grace``) has passed.  A coroutine (a bridge call) becomes a task
    of the run (``SpellRun.spawn``, unless ``spawn`` is false), so the end of
    the run cancels it whatever happens to the wait."""
    remaining = host.remaining()
    if remaining is None:
        return await waited
    if spawn and isinstance(waited, Coroutine):
        waited = host.spawn(waited)
    try:
        return await asyncio.wait_for(waited, max(remaining, 0) + grace)
    except TimeoutError:
        raise host.timeout_error() from None
