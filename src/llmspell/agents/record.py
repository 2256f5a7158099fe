"""What one agent run did, as ``agent:run_full`` returns it: usage, cost and every tool call.

The run's own numbers are counted from the messages it added (each model
response carries its usage), not read off the spell's account, which every
model call of the run shares.  Cost comes from genai-prices through
pydantic-ai (``ModelResponse.cost``) where every response's model is known to
it, and is ``None`` otherwise: an agent run on the test model or an
embedder's own model has no price, and a partly known price would mislead.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any


@dataclass
class ToolCallRecord:
    """One tool call the model asked for, as the spell sees it."""

    name: str
    input: Any
    output: Any
    success: bool
    duration_ms: float

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "input": self.input, "output": self.output, "success": self.success,
                "duration_ms": self.duration_ms}


@dataclass
class RunRecord:
    """The tool calls of one agent run, in the order the model asked for them (pydantic-ai starts the
    calls of one response in order; they may finish in any order)."""

    tool_calls: list[ToolCallRecord] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def start(self, name: str, params: Any) -> ToolCallRecord:
        """A call begins: its place in the list is taken now, its outcome written by :meth:`finish`."""
        call = ToolCallRecord(name, params, None, False, time.monotonic())
        self.tool_calls.append(call)
        return call

    @staticmethod
    def finish(call: ToolCallRecord, output: Any, success: bool) -> None:
        call.output, call.success = output, success
        call.duration_ms = round((time.monotonic() - call.duration_ms) * 1000, 3)

    def duration_ms(self) -> float:
        return round((time.monotonic() - self.started) * 1000, 3)


def usage_of(messages: list[Any], tool_calls: int) -> dict[str, Any]:
    """``{input_tokens, output_tokens, total_tokens, requests, tool_calls, cost}`` of the responses in
    ``messages`` (the ones one run added)."""
    from pydantic_ai.messages import ModelResponse

    responses = [m for m in messages if isinstance(m, ModelResponse)]
    input_tokens = sum(int(r.usage.input_tokens or 0) for r in responses)
    output_tokens = sum(int(r.usage.output_tokens or 0) for r in responses)
    return {"input_tokens": input_tokens, "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens, "requests": len(responses),
            "tool_calls": tool_calls, "cost": _cost(responses)}


def _cost(responses: list[Any]) -> float | None:
    """USD for ``responses`` from genai-prices, or ``None`` if any one's price is unknown."""
    if not responses:
        return None
    total = 0.0
    for response in responses:
        if not response.model_name or response.provider_name in (None, "test", "function"):
            return None
        try:
            total += float(response.cost().total_price)
        except Exception:  # noqa: BLE001 -- genai-prices does not know this model (LookupError, ValueError...)
            return None
    return total
