"""``llm``: model calls.  Everything about providers comes from pydantic-ai
through :mod:`llmspell.models`; the run's :class:`~llmspell.models.service.ModelService`
(``host.services.models``) checks the request, applies the run's limits and
accounts its usage.  This bridge only converts the spell's options and the answer."""

from __future__ import annotations

import warnings
from typing import Annotated, Any, Literal

from pydantic import Field

from ..values import HostHandle, ScriptFunction
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


class AgentOptions(Options):
    model: ModelName | None = None
    system: Annotated[str | None, "system instructions"] = None
    tools: Annotated[list[str | HostHandle] | None,
                     "tool names, tool objects and other agents (which become tools)"] = None
    output_schema: Annotated[dict[str, Any] | None, "a JSON Schema the answer must be valid against"] = None
    max_steps: Annotated[int | None, Field(gt=0), "the most model requests one run may make"] = None
    temperature: Annotated[float | None, Field(ge=0, le=2), "sampling temperature, 0 to 2"] = None
    max_tokens: Annotated[int | None, Field(gt=0), "most tokens to generate per request"] = None
    name: Annotated[str | None, "the agent's name (events; its name as a tool)"] = None
    description: Annotated[str | None, "what the agent does (its description as a tool)"] = None
    retries: Annotated[int | None, Field(ge=0, le=20), "retries of an answer not valid against output_schema "
                       "(default 2)"] = None


with warnings.catch_warnings():  # API.md's name "schema" shadows pydantic's deprecated BaseModel.schema()
    warnings.simplefilter("ignore")

    class StructuredOptions(CompleteOptions):
        schema: Annotated[dict[str, Any], "the JSON Schema the value must be valid against"]
        retries: Annotated[int | None, Field(ge=0, le=20), "retries of an invalid answer (default 2)"] = None


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
    def agent(self, opts: Annotated[AgentOptions, "the agent"]) -> HostHandle:
        """An agent: a model that calls tools until it has an answer (see the agent handle)."""
        from ..agents import AgentDefinition
        from .agent import AgentHandle

        definition = AgentDefinition.make(
            "llm.agent", tools=self._tool_names(opts.tools or []), output_schema=opts.output_schema,
            name=opts.name, model=opts.model, system=opts.system, max_steps=opts.max_steps,
            temperature=opts.temperature, max_tokens=opts.max_tokens, description=opts.description or "",
            **({} if opts.retries is None else {"retries": opts.retries}))
        return AgentHandle(self.host, definition).handle()

    def _tool_names(self, tools: list[str | HostHandle]) -> list[str]:
        from ..errors import SpellError
        from .agent import AgentHandle
        from .tools import ToolHandle, ToolsBridge

        names = []
        for index, tool in enumerate(tools):
            if isinstance(tool, str):
                self.host.services.tools.get(tool)  # not_found now, naming the tools there are
                names.append(tool)
            elif isinstance(tool.bridge, ToolHandle):
                names.append(tool.bridge.tool_name)
            elif isinstance(tool.bridge, AgentHandle):
                names.append(tool.bridge.tool_name or tool.bridge.register_tool("llm.agent", None, None,
                                                                                ToolsBridge.specs))
            else:
                raise SpellError("invalid_argument", f"llm.agent: tools[{index}] is a {tool.type_name}, "
                                 "not a tool name, a tool or an agent")
        return names

    @method
    async def structured(self, opts: Annotated[StructuredOptions, "the request and the schema"]) -> Any:
        """As complete, returning a value valid against opts.schema (a JSON Schema); an invalid answer is
        retried (opts.retries, default 2), then raises validation_error naming the failing path."""
        from ..agents import AgentDefinition, run_agent
        from ..models.calls import to_model_messages

        request = self.host.services.models.prepare(
            "llm.structured", **opts.model_dump(include=set(CompleteOptions.model_fields)))
        definition = AgentDefinition.make(
            "llm.structured", output_schema=opts.schema, name="structured", model=request.model,
            temperature=opts.temperature, max_tokens=opts.max_tokens, stop=request.stop,
            **({} if opts.retries is None else {"retries": opts.retries}))
        result = await run_agent(self.host.services, definition, None, where="llm.structured",
                                 history=to_model_messages(request), filename=self.host.filename)
        return result.output

    @method
    def models(self, provider: Annotated[str | None, "only this provider's models"] = None) -> list[ModelInfo]:
        """Models of the providers this run may use: id, provider, context window and prices (per million tokens)."""
        return self.host.services.models.models(provider)

    @method
    def providers(self) -> list[ProviderInfo]:
        """The providers this run may use (those the operator enabled) and whether each is usable now."""
        return self.host.services.models.providers()
