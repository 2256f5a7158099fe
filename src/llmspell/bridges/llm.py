"""``llm``: model calls.  Everything about providers comes from pydantic-ai
through :mod:`llmspell.models`; this bridge only validates what the spell
asked for, applies the run's limits, and shapes the answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from ..errors import SpellError
from ..models.limits import check_prompt_size
from ..values import ScriptFunction
from .base import Bridge, Options, method

ModelName = Annotated[str | list[str], "a model name, or a list tried in order (fallback)"]


class Message(Options):
    role: Annotated[Literal["system", "user", "assistant"], "who speaks"]
    content: Annotated[str, "what is said"]


class CompleteOptions(Options):
    model: ModelName | None = None
    prompt: Annotated[str | None, "the user's message (or give messages)"] = None
    messages: Annotated[list[Message] | None, "the conversation so far"] = None
    system: Annotated[str | None, "system instructions"] = None
    temperature: Annotated[float | None, Field(ge=0, le=2), "sampling temperature, 0 to 2"] = None
    max_tokens: Annotated[int | None, Field(gt=0), "most tokens to generate"] = None
    stop: Annotated[list[str] | str | None, "text(s) that end the answer"] = None


class Usage(Options):
    input_tokens: int
    output_tokens: int
    total_tokens: int


class Response(Options):
    content: str
    model: str
    finish_reason: str | None
    usage: Usage


class ModelInfo(Options):
    id: str
    provider: str
    context_window: int | None
    input_price: float | None
    output_price: float | None


class ProviderInfo(Options):
    name: str
    configured: bool
    reason: str | None


class LlmBridge(Bridge):
    name = "llm"
    description = "Calls to language models: one-shot completions and streams."
    #: JavaScript's llm.stream without a callback: an async iterator, made in the VM.
    vm_code = {"javascript": "llm.js"}

    def _request(self, what: str, opts: CompleteOptions) -> Any:
        from ..models.calls import CompletionRequest

        if opts.prompt is None and not opts.messages:
            raise SpellError("invalid_argument", f"{what}: give prompt (a string) or messages (a list)")
        messages = [m.model_dump() for m in opts.messages or []]
        if opts.prompt is not None:
            messages.append({"role": "user", "content": opts.prompt})
        stop = [opts.stop] if isinstance(opts.stop, str) else opts.stop
        model = opts.model if opts.model is not None else self.host.model_override
        check_prompt_size(what, getattr(self.host.policy, "max_prompt", None), opts.system,
                          *(m["content"] for m in messages))
        self.host.count_llm_call(what)
        return CompletionRequest(model=model, messages=messages, system=opts.system,
                                 temperature=opts.temperature, max_tokens=opts.max_tokens, stop=stop,
                                 operator_models=self._operator_models())

    def _operator_models(self) -> tuple:
        override = self.host.model_override
        return () if override is None else (override,)

    def _account(self, response: dict) -> dict:
        usage = response.get("usage") or {}
        self.host.count_tokens(int(usage.get("total_tokens") or 0))
        return response

    @method
    async def complete(self, opts: Annotated[CompleteOptions, "the request"]) -> Response:
        """One model call; returns the whole answer."""
        from ..models.calls import complete

        return self._account(await complete(self._request("llm.complete", opts), self.host.settings,
                                            policy=self.host.policy))

    @method
    async def stream(self, opts: Annotated[CompleteOptions, "the request"],
                     on_chunk: Annotated[ScriptFunction, "called with each piece of text as it arrives"]) -> Response:
        """As complete, calling on_chunk(text) for each piece; returns the whole answer."""
        from ..models.calls import stream

        async def deliver(delta: str) -> None:
            await on_chunk(delta)

        return self._account(await stream(self._request("llm.stream", opts), self.host.settings, deliver,
                                          policy=self.host.policy))

    @method
    def models(self, provider: Annotated[str | None, "only this provider's models"] = None) -> list[ModelInfo]:
        """Models of the providers this run may use: id, provider, context window and prices (per million tokens)."""
        from ..models.calls import spell_models

        return spell_models(self.host.settings, provider, self._operator_models())

    @method
    def providers(self) -> list[ProviderInfo]:
        """The providers this run may use (those the operator enabled) and whether each is usable now."""
        from ..models.calls import spell_providers

        return spell_providers(self.host.settings, self._operator_models())
