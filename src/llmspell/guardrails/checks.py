"""One run's guardrails: named checks of the prompt a model is sent and of the answer it gives.

``guardrails.add{name, on = "input" | "output", check, reason}`` adds a check;
the model wrapper (models/observed.py) runs the ``input`` checks on the user's
text of each request and the ``output`` checks on each answer's text, for
``llm.complete``, ``llm.stream`` and agent runs alike.  A check answers a
boolean, or ``{ok, reason}`` (Lua's two results ``ok, reason`` arrive as that
table, see bridges/guardrails.lua).  The first check that fails blocks the
call with ``validation_error`` and the reason: the check's own, else the
guardrail's ``reason``.

Guardrails fail closed: a check that raises blocks the call with its error,
and one that answers something that is not a verdict (nil, a number) blocks it
with ``invalid_argument`` saying what to return.  Checks run in the order
they were added; a run without guardrails pays one truth test per request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from llmspell.errors import SpellError

#: Where a guardrail looks: the prompt going to the model, or the answer coming back.
SIDES = ("input", "output")

#: A check: awaited with the text; answers a boolean or ``{ok, reason}``.
Check = Callable[[str], Awaitable[Any]]


@dataclass(frozen=True)
class Guardrail:
    """One named check of one side."""

    name: str
    on: str
    check: Check
    #: The reason given when the check fails without one of its own.
    reason: str | None = None


class Guardrails:
    """The guardrails of one run, by side, in the order they were added."""

    def __init__(self) -> None:
        self._sides: dict[str, list[Guardrail]] = {side: [] for side in SIDES}

    def __bool__(self) -> bool:
        sides = self._sides
        return bool(sides["input"] or sides["output"])

    def has(self, on: str) -> bool:
        """Whether any guardrail checks ``on`` (``input`` or ``output``)."""
        return bool(self._sides[on])

    def names(self) -> list[str]:
        """Every guardrail's name, input ones first."""
        return [g.name for side in SIDES for g in self._sides[side]]

    def add(self, guardrail: Guardrail) -> None:
        """Add a guardrail; ``invalid_argument`` if one of that name exists (a guard is never
        replaced, nor removed, by adding another)."""
        if guardrail.on not in self._sides:
            raise SpellError("invalid_argument", f"guardrails.add: on must be one of {', '.join(SIDES)}")
        if not guardrail.name:
            raise SpellError("invalid_argument", "guardrails.add: name must not be empty")
        if guardrail.name in self.names():
            raise SpellError("invalid_argument", f"guardrails.add: there is already a guardrail named "
                             f"{guardrail.name!r}", hint="give each guardrail its own name")
        self._sides[guardrail.on].append(guardrail)

    async def check(self, on: str, text: str) -> None:
        """Run the ``on`` checks over ``text``; the first that fails raises ``validation_error``."""
        for guard in list(self._sides[on]):
            try:
                verdict = await guard.check(text)
            except SpellError as exc:
                raise _check_failed(guard, exc) from None
            ok, reason = _verdict(guard, verdict)
            if not ok:
                what = "the prompt" if on == "input" else "the answer"
                raise SpellError("validation_error", f"guardrail {guard.name!r} blocked {what}: "
                                 f"{reason or guard.reason or 'its check failed'}")


def _verdict(guard: Guardrail, value: Any) -> tuple[bool, str | None]:
    """``(ok, reason)`` of what a check answered, or ``invalid_argument`` saying what to answer."""
    from llmspell.bridges.base import describe_value

    if isinstance(value, bool):
        return value, None
    if value is None:
        problem = "it answered nothing"
    elif isinstance(value, dict):
        ok, reason = value.get("ok"), value.get("reason")
        if isinstance(ok, bool) and (reason is None or isinstance(reason, str)):
            return ok, reason
        problem = (f"ok must be a boolean, not {describe_value(ok)}" if not isinstance(ok, bool)
                   else f"reason must be a string, not {describe_value(reason)}")
    else:
        problem = f"got {describe_value(value)}"
    raise SpellError("invalid_argument", f"guardrail {guard.name!r}: check must answer true or false, "
                     f"or {{ok, reason}}: {problem}", hint="return whether the text may pass (and why not)")


def _check_failed(guard: Guardrail, exc: SpellError) -> SpellError:
    """A check that raised: the call is blocked with the check's error, named after the guardrail."""
    from llmspell.host import is_run_limit

    if is_run_limit(exc) or exc.kind == "cancelled":
        return exc
    return dataclasses.replace(exc, message=f"guardrail {guard.name!r}: {exc.message}")
