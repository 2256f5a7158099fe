"""The one place a spell observes and steers its model requests: hooks, guardrails, ``llm.*`` events.

:class:`ObservedModel` is a pydantic-ai ``WrapperModel`` that the run's model
service puts around the model of ``llm.complete``, ``llm.stream`` and an
agent's run (``model_for``) when the spell has registered a generate hook, a
guardrail or a listener of ``llm.request``/``llm.response`` -- and only then,
so a run without any pays nothing (an agent's model is wrapped when its run
starts: hooks registered during a run apply from the next).  Every request pydantic-ai makes passes
through it (an agent's several steps too), in the worker, before the
request leaves for the parent (which applies the run's policy again to what
the hooks made of it):

1. ``beforeGenerate`` hooks may change the temperature, ``max_tokens``,
   ``stop`` and the messages: what they return is what is sent;
2. ``input`` guardrails check the user's text of the newest request (an
   agent's later steps carry tool results, not user text, and are not checked
   again);
3. ``llm.request`` is emitted; the wrapped model answers;
4. ``afterGenerate`` hooks see the answer with its token usage and may rewrite
   its text;
5. ``output`` guardrails check the answer's text -- for an agent with an
   ``output_schema``, the structured answer as JSON; a response that only
   calls tools is not an answer and is not checked;
6. ``llm.response`` is emitted with the answer, its usage and its duration.

A stream is passed through as it arrives, unless an ``afterGenerate`` hook or an
``output`` guardrail is active: then the whole answer is read first and the
spell's chunks are what the hooks and checks passed (replayed piece by piece
when unchanged), so no chunk of a blocked answer reaches the spell.  The
tokens of an answer that a hook or guardrail refuses are counted all the same
(``on_blocked``), so a refusal is no way around ``max_tokens``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from pydantic_ai.models import CompletedStreamedResponse, StreamedResponse
from pydantic_ai.models.wrapper import WrapperModel

from llmspell.errors import SpellError

from . import _hook_view as view

if TYPE_CHECKING:
    from .observers import Observers


class ObservedModel(WrapperModel):
    """``wrapped`` (the model of ``chain``), its requests for ``caller`` observed (see the module)."""

    def __init__(self, wrapped: Any, observers: Observers, chain: list[Any], caller: str,
                 on_blocked: Callable[[Any], None] | None = None) -> None:
        super().__init__(wrapped)
        self.observers = observers
        self.chain = chain
        self.caller = caller
        self.on_blocked = on_blocked

    def _requested(self) -> Any:
        names = [link.name for link in self.chain]
        return names[0] if len(names) == 1 else names

    def _answered(self, response: Any) -> str:
        failed = len(getattr(response, "failed_attempts", None) or ())
        return self.chain[min(failed, len(self.chain) - 1)].name

    async def request(self, messages: list[Any], model_settings: Any, model_request_parameters: Any) -> Any:
        if not self.observers.watching():
            return await self.wrapped.request(messages, model_settings, model_request_parameters)
        messages, model_settings, sent = await self._before(messages, model_settings)
        started = time.perf_counter()
        response = await self.wrapped.request(messages, model_settings, model_request_parameters)
        return await self._after(sent, response, model_request_parameters, started)

    @asynccontextmanager
    async def request_stream(self, messages: list[Any], model_settings: Any, model_request_parameters: Any,
                             run_context: Any = None) -> AsyncIterator[StreamedResponse]:
        observers = self.observers
        if not observers.watching():
            async with self.wrapped.request_stream(messages, model_settings, model_request_parameters,
                                                   run_context) as streamed:
                yield streamed
            return
        messages, model_settings, sent = await self._before(messages, model_settings)
        started = time.perf_counter()
        if observers.holds_answers():
            async with self.wrapped.request_stream(messages, model_settings, model_request_parameters,
                                                   run_context) as streamed:
                pieces = [event async for event in streamed]
                response = streamed.get()
            final = await self._after(sent, response, model_request_parameters, started)
            yield CompletedStreamedResponse(final, model_request_parameters=model_request_parameters,
                                            replay_events=pieces if final is response else True)
            return
        async with self.wrapped.request_stream(messages, model_settings, model_request_parameters,
                                               run_context) as streamed:
            yield streamed
        if observers.events.listening("llm.response"):
            await self._emit_response(streamed.get(), started)

    async def _before(self, messages: list[Any], settings: Any) -> tuple[list[Any], Any, dict[str, Any] | None]:
        """Hooks, input guardrails and ``llm.request`` for one request; the messages and settings to
        send, and the request as the hooks left it (``None`` when no one needs to see it)."""
        hooks, guardrails, events = self.observers.hooks, self.observers.guardrails, self.observers.events
        sent = None
        if hooks.has("beforeGenerate"):
            shown = view.request_view(messages, settings, self._requested())

            def accept(changed: Any, current: dict[str, Any]) -> dict[str, Any]:
                nonlocal messages, settings
                messages, settings = view.apply_request("beforeGenerate", changed, current, messages, settings)
                return view.request_view(messages, settings, self._requested())

            sent = await hooks.apply("beforeGenerate", self._ctx(), shown, accept=accept)
        if guardrails.has("input"):
            text = view.user_text(messages)
            if text is not None:
                await guardrails.check("input", text)
        if hooks.has("afterGenerate") or events.listening("llm.request"):
            sent = sent or view.request_view(messages, settings, self._requested())
        if events.listening("llm.request"):
            await events.emit("llm.request", {**sent, "caller": self.caller})
        return messages, settings, sent

    async def _after(self, sent: dict[str, Any] | None, response: Any, parameters: Any, started: float) -> Any:
        """``afterGenerate`` hooks, output guardrails and ``llm.response`` for one answer; the answer
        the caller gets.  A refused answer's tokens are counted before the refusal is raised."""
        hooks, guardrails, events = self.observers.hooks, self.observers.guardrails, self.observers.events
        try:
            if hooks.has("afterGenerate"):
                shown = view.response_view(response, self._answered(response))

                def accept(changed: Any, current: dict[str, Any]) -> dict[str, Any]:
                    nonlocal response
                    response = view.apply_response("afterGenerate", changed, current, response)
                    return view.response_view(response, self._answered(response))

                await hooks.apply("afterGenerate", self._ctx(), sent, shown, accept=accept)
            if guardrails.has("output"):
                text = view.answer_text(response, {t.name for t in parameters.output_tools})
                if text is not None:
                    await guardrails.check("output", text)
        except SpellError:
            if self.on_blocked is not None:
                self.on_blocked(response.usage)
            raise
        if events.listening("llm.response"):
            await self._emit_response(response, started)
        return response

    async def _emit_response(self, response: Any, started: float) -> None:
        fields = view.response_view(response, self._answered(response))
        fields.update(caller=self.caller, duration=round((time.perf_counter() - started) * 1000, 3))
        await self.observers.events.emit("llm.response", fields)

    def _ctx(self) -> dict[str, Any]:
        return {"caller": self.caller}
