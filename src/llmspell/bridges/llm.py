"""``llm``: model calls.  Everything about providers comes from pydantic-ai
through :mod:`llmspell.models`; the run's :class:`~llmspell.models.service.ModelService`
(``host.services.models``) checks the request, applies the run's limits and
accounts its usage.  This bridge only converts the spell's options and the answer."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

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
        return self.host.services.models.prepare(what, **opts.model_dump())

    @method
    async def complete(self, opts: Annotated[CompleteOptions, "the request"]) -> Response:
        """One model call; returns the whole answer."""
        models = self.host.services.models
        return await models.complete("llm.complete", self._request("llm.complete", opts))

    @method
    async def stream(self, opts: Annotated[CompleteOptions, "the request"],
                     on_chunk: Annotated[ScriptFunction, "called with each piece of text as it arrives"]) -> Response:
        """As complete, calling on_chunk(text) for each piece; returns the whole answer."""
        models = self.host.services.models

        async def deliver(delta: str) -> None:
            await on_chunk(delta)

        return await models.stream("llm.stream", self._request("llm.stream", opts), deliver)

    @method
    def models(self, provider: Annotated[str | None, "only this provider's models"] = None) -> list[ModelInfo]:
        """Models of the providers this run may use: id, provider, context window and prices (per million tokens)."""
        return self.host.services.models.models(provider)

    @method
    def providers(self) -> list[ProviderInfo]:
        """The providers this run may use (those the operator enabled) and whether each is usable now."""
        return self.host.services.models.providers()
