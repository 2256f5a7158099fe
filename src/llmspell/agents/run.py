"""One run of an agent: a pydantic-ai ``Agent`` built for it, run on the spell's model and account.

The agent is built afresh for each run from its definition (a tool
registered again since is the one called), on the model the run's model
service gives (``model_for``: in a worker, a stand-in served by the parent,
which applies the run's policy again).  Its requests and tokens go into the
spell's one usage account (``usage=``) under the run's limits, narrowed by
the agent's ``max_steps`` (``UsageLimits.request_limit``), so ``max_llm_calls``
counts an agent's requests with every ``llm.complete``.  What pydantic-ai
raises becomes the API's errors: a limit, ``validation_error`` naming the
failing path when a structured answer's retries are spent, a provider's
failure as ``llm.complete`` reports it.

Agents nest (an agent used as a tool runs inside its caller's tool call);
a context variable counts the depth so that an agent reaching itself through
its tools ends with ``limit_exceeded`` instead of recursing until memory runs out.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmspell.errors import SpellError
from llmspell.models.limits import check_prompt_size, message_texts

from . import _direct
from . import history as history_
from .build import RunState, agent_for, agent_settings
from .definition import AgentDefinition
from .record import RunRecord, usage_of

if TYPE_CHECKING:
    from llmspell.services import RunServices

    from .output import StructuredOutput

#: How deep agents may run inside each other's tool calls.
MAX_DEPTH = 8
_depth: contextvars.ContextVar[int] = contextvars.ContextVar("llmspell_agent_depth", default=0)


@dataclass
class AgentResult:
    """What one run gave: the answer, the whole conversation (pydantic-ai's messages), usage, tool calls."""

    output: Any
    messages: list[Any]
    usage: dict[str, Any]
    tool_calls: list[dict[str, Any]]
    #: The model that answered last (after any fallback).
    model: str

    def full(self) -> dict[str, Any]:
        """``agent:run_full``'s result: ``{output, messages, usage, tool_calls}``."""
        return {"output": self.output, "messages": history_.to_script(self.messages), "usage": self.usage,
                "tool_calls": self.tool_calls}


async def run_agent(services: RunServices, definition: AgentDefinition, prompt: str | None, *, where: str,
                    history: list[Any] | None = None, filename: str | None = None) -> AgentResult:
    """Run ``definition`` on ``prompt`` after ``history`` (pydantic-ai messages; the conversation so far).
    ``where`` starts error messages (``agent:run``); ``filename`` is the spell's, for a catchable
    ``limit_exceeded`` when ``max_steps`` is reached."""
    depth = _depth.get()
    if depth >= MAX_DEPTH:
        raise SpellError("limit_exceeded", f"{where}: agents run inside each other more than {MAX_DEPTH} deep "
                         "(does an agent reach itself through its tools?)")
    token = _depth.set(depth + 1)
    try:
        return await _run(services, definition, prompt, where, history or [], filename)
    finally:
        _depth.reset(token)


async def _run(services: RunServices, definition: AgentDefinition, prompt: str | None, where: str,
               history: list[Any], filename: str | None) -> AgentResult:
    models = services.models
    max_prompt = getattr(models.policy, "max_prompt", None)
    check_prompt_size(where, max_prompt, definition.system, prompt, *message_texts(history))
    chain, model = await models.model_for(where, definition.model)

    def built() -> tuple[Any, StructuredOutput | None]:
        return agent_for(definition, services.tools, max_prompt, models.settings.timeout)

    structured = built()[1] if definition.output_schema is not None else None
    state = RunState(RunRecord())
    record = state.record
    name, first = definition.shown_name, chain[0].name
    events = services.events
    if events.listening("agent.started"):
        await events.emit("agent.started", {"name": name, "model": first})
    limits, steps_at = _limits(services, definition)
    try:
        output, messages, new = await _answer(services, definition, built, model, prompt, history, state, limits,
                                              where)
    except BaseException as exc:
        error = _mapped(exc, where, definition, structured, state, services, steps_at, chain, filename)
        if events.listening("agent.completed"):
            await events.emit("agent.completed", {
                "name": name, "model": first, "duration": record.duration_ms(), "success": False,
                "usage": usage_of([], len(record.tool_calls)), "error": error.message if error else "cancelled"})
        if error is None:
            raise
        raise error from None
    usage = usage_of(new, len(record.tool_calls))
    answered = _answered(new, chain)
    if events.listening("agent.completed"):
        await events.emit("agent.completed", {"name": name, "model": answered, "duration": record.duration_ms(),
                                              "success": True, "usage": usage})
    if isinstance(output, str):
        from llmspell.wellformed import well_formed

        output = well_formed(output)
    return AgentResult(output, messages, usage, [c.as_dict() for c in record.tool_calls], answered)


async def _answer(services: RunServices, definition: AgentDefinition, built: Callable[[], tuple[Any, Any]],
                  model: Any, prompt: str | None, history: list[Any], state: RunState, limits: Any,
                  where: str) -> tuple[Any, list[Any], list[Any]]:
    """The run's answer, all its messages and the ones it added: pydantic-ai's agent loop (``built()`` gives
    the agent), or one direct request where the agent has no loop to run (:mod:`._direct`; the agent goes on
    from any answer but text)."""
    if _direct.applies(definition, prompt, history):
        assert prompt is not None
        settings = agent_settings(definition, services.models.settings.timeout)
        request, response = await _direct.first_request(model, definition, prompt, settings, services.usage, where)
        text = _direct.text_answer(response)
        if text is not None:
            return text, [request, response], [request, response]
        result = await built()[0].run(None, model=model, deps=state, message_history=[request, response],
                                      usage=services.usage.usage, usage_limits=limits)
        return result.output, result.all_messages(), result.all_messages()
    result = await built()[0].run(prompt, model=model, deps=state, message_history=history or None,
                                  usage=services.usage.usage, usage_limits=limits)
    return result.output, result.all_messages(), result.new_messages()


def _limits(services: RunServices, definition: AgentDefinition) -> tuple[Any, int | None]:
    """The run's limits narrowed by ``max_steps``, and the request count at which the steps run out."""
    from pydantic_ai.usage import UsageLimits

    run_limits = services.usage.limits
    steps_at = None if definition.max_steps is None else services.usage.requests + definition.max_steps
    limit = run_limits.request_limit
    if steps_at is not None and (limit is None or steps_at < limit):
        limit = steps_at
    return UsageLimits(request_limit=limit, total_tokens_limit=run_limits.total_tokens_limit), steps_at


def _mapped(exc: BaseException, where: str, definition: AgentDefinition, structured: StructuredOutput | None,
            state: RunState, services: RunServices, steps_at: int | None, chain: list[Any],
            filename: str | None) -> SpellError | None:
    """The API's error for what ended an agent run (``None``: a cancellation, raised as it is)."""
    from pydantic_ai.exceptions import (
        OutputTokenLimitExceeded,
        UnexpectedModelBehavior,
        UsageLimitExceeded,
        UserError,
    )

    if isinstance(exc, SpellError):
        return exc
    if not isinstance(exc, Exception):
        return None
    if isinstance(exc, UsageLimitExceeded):
        usage = services.usage
        if steps_at is not None and usage.requests >= steps_at and (
                usage.limits.request_limit is None or steps_at < usage.limits.request_limit):
            return SpellError("limit_exceeded", f"{where}: the agent {definition.shown_name} made "
                              f"{definition.max_steps} model requests (max_steps) without a final answer",
                              hint="raise max_steps, or give the agent fewer tools to call", file=filename)
        limit = usage.limits.request_limit
        if limit is not None and usage.requests >= limit:
            return SpellError("limit_exceeded", f"{where}: more than {limit} LLM calls in one run",
                              hint="raise it with --max-llm-calls N")
        return usage.tokens_error()
    if isinstance(exc, UnexpectedModelBehavior) and structured is not None and (
            state.last_failure or "output" in str(exc.message)):
        return structured.spent(state.last_failure)
    if isinstance(exc, OutputTokenLimitExceeded):
        return SpellError("provider_error", f"{where}: the model's answer was cut off at its token limit before "
                          "it was complete", hint="raise max_tokens, or ask for less")
    if isinstance(exc, UnexpectedModelBehavior):
        return SpellError("provider_error", f"{where}: the model did not answer as an agent must: "
                          f"{str(exc.message)[:200]}")
    if isinstance(exc, UserError):
        return SpellError("invalid_argument", f"{where}: {str(exc)[:300]}")
    from llmspell.models.errors import map_model_error

    return map_model_error(exc, chain, services.models.policy)


def _answered(messages: list[Any], chain: list[Any]) -> str:
    """The name of the link of ``chain`` that gave the last response."""
    from pydantic_ai.messages import ModelResponse

    if len(chain) == 1:
        return chain[0].name
    last = next((m for m in reversed(messages) if isinstance(m, ModelResponse)), None)
    failed = len(getattr(last, "failed_attempts", None) or ()) if last is not None else 0
    return chain[min(failed, len(chain) - 1)].name
