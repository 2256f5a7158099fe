"""Scripted tool-calling conversations on pydantic-ai's ``FunctionModel``, for agent tests.

A :class:`Script` is a list of steps, one per model request, each a
``ModelResponse`` or a function of the messages so far that returns one; it
records every request it answers (the messages and the tools offered), so a
test can check what the model was really sent.  Give it to a run with
``Runtime(models={"scripted": script.model()})`` and a spell's
``model = "scripted"``; in process isolation it answers in this process, as
every model does.

    script = Script(calls(("get_weather", {"city": "Paris"})), lambda msgs: text(returns(msgs)[0]))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai.messages import (
    ModelMessage,
    ModelRequest,
    ModelResponse,
    RetryPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
)
from pydantic_ai.models.function import AgentInfo, FunctionModel
from pydantic_ai.usage import RequestUsage

Step = ModelResponse | Callable[[list[ModelMessage]], ModelResponse]


def calls(*tool_calls: tuple[str, dict[str, Any]]) -> ModelResponse:
    """One response asking for these tool calls at once."""
    return ModelResponse(parts=[ToolCallPart(name, args, tool_call_id=f"call_{i}")
                                for i, (name, args) in enumerate(tool_calls)],
                         usage=RequestUsage(input_tokens=10, output_tokens=5))


def text(content: str) -> ModelResponse:
    """A final text answer."""
    return ModelResponse(parts=[TextPart(content)], usage=RequestUsage(input_tokens=10, output_tokens=5))


def final(data: Any) -> ModelResponse:
    """A structured answer (the output tool's call)."""
    return calls(("final_result", data))


def returns(messages: list[ModelMessage]) -> list[Any]:
    """What the tools gave back in the last request: each result's content, or ``"FAILED: text"``."""
    last = messages[-1]
    assert isinstance(last, ModelRequest)
    out: list[Any] = []
    for part in last.parts:
        if isinstance(part, ToolReturnPart):
            out.append(part.content if part.outcome == "success" else f"FAILED: {part.model_response_str()}")
        elif isinstance(part, RetryPromptPart):
            out.append(f"RETRY: {part.model_response()}")
    return out


@dataclass
class Script:
    """The answers of a model, one per request, and what it was asked."""

    steps: list[Step]
    #: ``(messages, names of the tools offered)`` of each request answered.
    requests: list[tuple[list[ModelMessage], list[str]]] = field(default_factory=list)
    #: Answer this once the steps run out (``None``: a request past the script fails the test).
    then: Step | None = None
    #: The model settings of each request answered.
    settings: list[dict[str, Any]] = field(default_factory=list)

    def __init__(self, *steps: Step, then: Step | None = None) -> None:
        self.steps, self.requests, self.then, self.settings = list(steps), [], then, []

    def answer(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        self.requests.append((list(messages), [t.name for t in info.function_tools]))
        self.settings.append(dict(info.model_settings or {}))
        index = len(self.requests) - 1
        step = self.steps[index] if index < len(self.steps) else self.then
        if step is None:
            raise AssertionError(f"the model was asked a request number {index + 1} the script has no answer for")
        return step if isinstance(step, ModelResponse) else step(messages)

    def model(self) -> FunctionModel:
        return FunctionModel(self.answer, model_name="scripted")
