"""The run's limits as every engine enforces them: the instruction budget's
error, and waiting for the host (a bridge call, the spell's thread) under the
run's deadline.  The time and memory errors themselves are the host's
(``SpellRun.timeout_error``/``memory_error``), so a limit reads the same in
every language."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
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


async def before_deadline(host: SpellRun, waited: Awaitable[Any], grace: float = 0.0) -> Any:
    """Await ``waited``, or fail with the run's timeout error once its deadline
    (plus ``grace``) has passed.  Awaited in the caller's own task, under a
    timeout that cancels it there: a bridge call whose work is done at once
    (a state get, say) costs no task and no turn of the event loop, where a
    task of its own and ``wait_for`` cost three turns, most of such a call's
    time.  Whatever ends the wait (the deadline, the run's end) ends the call."""
    remaining = host.remaining()
    if remaining is None:
        return await waited
    limit = asyncio.timeout(max(remaining, 0) + grace)
    try:
        async with limit:
            return await waited
    except TimeoutError:
        if limit.expired():
            raise host.timeout_error() from None
        raise
