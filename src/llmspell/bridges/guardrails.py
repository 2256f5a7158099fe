"""``guardrails``: the spell's checks of every prompt sent to a model and every answer it gives.

The run's :class:`~llmspell.guardrails.Guardrails` (``host.services.guardrails``)
keeps them and the model wrapper (models/observed.py) runs them, for
``llm.complete``, ``llm.stream`` and agent runs.  In Lua a check returns two
values, ``ok, reason``: the VM code beside this bridge (guardrails.lua) hands
them over as one ``{ok, reason}`` table, which JavaScript and Tengo checks
may return themselves.
"""

from __future__ import annotations

from typing import Annotated, Literal

from ..guardrails import Guardrail
from ..values import ScriptFunction
from .base import Bridge, Options, method


class GuardrailSpec(Options):
    name: Annotated[str, "the guardrail's name, in the error when it blocks"]
    on: Annotated[Literal["input", "output"], "input: the user's prompt; output: the model's answer"]
    check: Annotated[ScriptFunction, "fn(text) -> ok [, reason] (Lua), or a boolean or {ok, reason}"]
    reason: Annotated[str | None, "why the text is blocked, when check gives no reason"] = None


class GuardrailsBridge(Bridge):
    name = "guardrails"
    description = ("Checks of every prompt sent to a model and every answer (llm.complete, llm.stream, agents); "
                   "a failed check is a validation_error with the reason. input: the user's text of a request "
                   "(as the hooks left it); output: the answer's text, or an agent's structured answer as JSON "
                   "(a step that only calls tools is not an answer). With an output guardrail, llm.stream's "
                   "chunks come once the whole answer passed. A check that raises or answers neither a boolean "
                   "nor {ok, reason} blocks the call too.")
    vm_code = {"lua": "guardrails.lua"}

    @method
    def add(self, spec: Annotated[GuardrailSpec, "the guardrail"]) -> None:
        """Add a guardrail for the rest of the run (names are unique)."""
        self.host.services.guardrails.add(Guardrail(spec.name, spec.on, spec.check, spec.reason))
