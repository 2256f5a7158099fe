"""What a run of a workflow gives back: ``{output, steps = {NAME = {output, status, duration_ms, error}}}``.

The record is plain data, the same in every spell language, so a spell can
show it, store it or hand it to the next workflow; a failed step's ``error``
is ``{kind, message}`` as a caught error reads, never a host exception.
Steps that did not run are ``skipped`` (a condition said no); a step that
failed under ``on_error = "continue"`` is ``failed`` with its error, and the
run goes on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llmspell.errors import SpellError

COMPLETED = "completed"
FAILED = "failed"
SKIPPED = "skipped"


@dataclass
class StepRecord:
    """One step's outcome."""

    status: str
    output: Any = None
    duration_ms: float = 0.0
    error: SpellError | None = None
    #: How many times the step's action ran (more than 1 after retries).
    attempts: int = 0

    def table(self) -> dict[str, Any]:
        """As the spell sees it (and as templates read it: ``{{search.output}}``)."""
        return {"output": self.output, "status": self.status, "duration_ms": round(self.duration_ms, 3),
                "error": None if self.error is None else {"kind": self.error.kind, "message": self.error.message},
                "attempts": self.attempts}


@dataclass
class WorkflowResult:
    """A whole run: its output (by type: the last step's, or every step's for ``parallel``) and each step."""

    output: Any = None
    steps: dict[str, StepRecord] = field(default_factory=dict)
    #: ``loop``: how many iterations ran.
    iterations: int | None = None

    def table(self) -> dict[str, Any]:
        out: dict[str, Any] = {"output": self.output, "steps": {n: r.table() for n, r in self.steps.items()}}
        if self.iterations is not None:
            out["iterations"] = self.iterations
        return out
