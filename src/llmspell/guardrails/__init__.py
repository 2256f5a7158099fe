"""A run's guardrails: the spell's checks on the text going to a model and the answer coming back
(see :mod:`.checks`)."""

from .checks import SIDES, Guardrail, Guardrails

__all__ = ["SIDES", "Guardrail", "Guardrails"]
