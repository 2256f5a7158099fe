"""The first request of an agent with no tools and no answer schema, made without the agent loop.

Such an agent's run is one model request whose text is the answer: there is
no loop to run.  pydantic-ai's ``Agent.run`` still costs about 2.3 ms of CPU
per run on this kind of machine (its graph, capabilities and run contexts),
forty times the request itself through ``pydantic_ai.direct``; a workflow of
100 parallel agent steps spends that before the last step's request is sent,
so the steps no longer overlap (``bench/workflow_parallel.py`` measures it).

The request is the one the agent would make -- its system prompt and the
prompt as one ``ModelRequest``, its model settings, no tools -- on the same
model (hooks, guardrails and the worker's stand-in included), counted in the
run's usage account under the same limits.  When the answer is plain text,
that text is the run's answer, as the agent would take it.  Anything else
(an empty answer, only thinking, a tool call the model made up, a suspended
turn) is handed to the agent itself, which goes on from that response as its
loop would have: a retry prompt, an error.  So the behaviour is pydantic-ai's
in every case; only the common one is faster.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmspell.models.usage import UsageAccount

    from .definition import AgentDefinition


def applies(definition: AgentDefinition, prompt: str | None, history: list[Any]) -> bool:
    """Whether a run of ``definition`` is one request: no tools, a text answer, a fresh conversation."""
    return not definition.tools and definition.output_schema is None and not history and isinstance(prompt, str)


async def first_request(model: Any, definition: AgentDefinition, prompt: str, settings: dict[str, Any],
                        account: UsageAccount, where: str) -> tuple[Any, Any]:
    """The agent's first request and the model's response, counted in ``account``."""
    from datetime import UTC, datetime

    from pydantic_ai.direct import model_request
    from pydantic_ai.messages import ModelRequest, SystemPromptPart, UserPromptPart

    parts: list[Any] = [SystemPromptPart(definition.system)] if definition.system else []
    parts.append(UserPromptPart(prompt))
    request = ModelRequest(parts=parts, timestamp=datetime.now(UTC))
    account.start_request(where)
    response = await model_request(model, [request], model_settings=settings or None)
    account.add(response.usage)
    return request, response


def text_answer(response: Any) -> str | None:
    """The answer the agent would take from ``response``: its text, when it holds nothing but text
    (and thinking); ``None`` when the agent has more to do with it."""
    from pydantic_ai.messages import TextPart, ThinkingPart

    if getattr(response, "state", None) == "suspended":
        return None
    text = ""
    for part in response.parts:
        if isinstance(part, TextPart):
            text += part.content
        elif not isinstance(part, ThinkingPart):
            return None
    return text or None
