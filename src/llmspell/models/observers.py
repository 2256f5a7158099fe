"""What watches a run's model requests, asked before anything is built: light to import (no
pydantic-ai), so a run that calls no model does not pay for it; the wrapper that does the watching is
:mod:`.observed`, imported only when something watches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmspell.events import EventBus
    from llmspell.guardrails import Guardrails
    from llmspell.hooks import HookRegistry


@dataclass
class Observers:
    """What watches a run's model requests: its hooks, guardrails and event listeners."""

    hooks: HookRegistry
    guardrails: Guardrails
    events: EventBus

    def watching(self) -> bool:
        """Whether a model request would run a hook or a guardrail, or reach a listener."""
        return (self.hooks.generate_active or bool(self.guardrails) or self.events.listening("llm.request")
                or self.events.listening("llm.response"))

    def holds_answers(self) -> bool:
        """Whether an answer must be complete before the spell sees any of it (see the module)."""
        return self.hooks.has("afterGenerate") or self.guardrails.has("output")
