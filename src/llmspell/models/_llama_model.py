"""The embedded model's pydantic-ai ``Model``: SmolLM2 through llama.cpp, in this process.

Kept apart from :mod:`.local` (where the weights are, whether the model can
run, message conversion) because it subclasses pydantic-ai's ``Model`` and so
imports pydantic-ai when it is imported: :func:`.local.local_model` imports
it only when the local model is used, so ``import llmspell`` and a spell that
never calls a model do not pay for pydantic-ai.

llama.cpp is blocking and not re-entrant: every generation runs on a thread
under one process-wide lock, and the event loop never blocks on it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic_ai._instrumentation import get_instructions
from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models import Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.profiles import ModelProfile
from pydantic_ai.usage import RequestUsage

from llmspell.errors import SpellError
from llmspell.models.local import (
    CONTEXT_WINDOW,
    DEFAULT_MAX_TOKENS,
    LOCAL_MODEL_ID,
    as_model_error,
    load_llama,
    parse_tool_call,
    to_chat,
)

#: One generation at a time: llama.cpp is not re-entrant.
_run_lock = threading.Lock()


def _generation_args(settings: dict[str, Any] | None) -> dict[str, Any]:
    settings = settings or {}
    args: dict[str, Any] = {"max_tokens": settings.get("max_tokens") or DEFAULT_MAX_TOKENS}
    if settings.get("temperature") is not None:
        args["temperature"] = settings["temperature"]
    if settings.get("top_p") is not None:
        args["top_p"] = settings["top_p"]
    if settings.get("stop_sequences"):
        args["stop"] = list(settings["stop_sequences"])
    if settings.get("seed") is not None:
        args["seed"] = settings["seed"]
    return args


def _finish(reason: str | None) -> str:
    return "length" if reason == "length" else "stop"


def _complete_blocking(chat: list[dict[str, str]], args: dict[str, Any]) -> dict[str, Any]:
    llama = load_llama()
    with _run_lock:
        return llama.create_chat_completion(messages=chat, **args)


def _count_tokens(chat: list[dict[str, str]]) -> int:
    """Prompt tokens for a streamed request, which llama.cpp does not report (content only, no template)."""
    llama = load_llama()
    text = "\n".join(m["content"] for m in chat)
    return len(llama.tokenize(text.encode("utf-8"), add_bos=True))


_PROFILE = ModelProfile(
    supports_tools=True,
    supports_json_schema_output=False,
    supports_json_object_output=False,
    default_structured_output_mode="prompted",
    context_window=CONTEXT_WINDOW,
)


class LocalLlamaModel(Model):
    """SmolLM2 through llama.cpp, in this process."""

    def __init__(self) -> None:
        super().__init__(profile=_PROFILE)

    @property
    def model_name(self) -> str:
        return LOCAL_MODEL_ID

    @property
    def system(self) -> str:
        return "local"

    def _prepare(self, messages: list[Any], settings: Any, params: ModelRequestParameters) -> tuple:
        settings, params = self.prepare_request(settings, params)
        tools = [*params.function_tools, *params.output_tools]
        chat = to_chat(messages, get_instructions(messages, params), tools)
        return chat, _generation_args(dict(settings or {})), tools

    async def request(
        self, messages: list[Any], model_settings: Any, model_request_parameters: Any
    ) -> Any:
        chat, args, tools = self._prepare(messages, model_settings, model_request_parameters)
        try:
            result = await asyncio.to_thread(_complete_blocking, chat, args)
        except SpellError as exc:
            raise as_model_error(exc) from None
        choice = result["choices"][0]
        text = choice["message"].get("content") or ""
        usage = result.get("usage") or {}
        call = parse_tool_call(text, tools)
        part = ToolCallPart(call[0], call[1]) if call else TextPart(text)
        return ModelResponse(
            parts=[part],
            usage=RequestUsage(
                input_tokens=usage.get("prompt_tokens", 0),
                output_tokens=usage.get("completion_tokens", 0),
            ),
            model_name=LOCAL_MODEL_ID,
            provider_name="local",
            finish_reason="tool_call" if call else _finish(choice.get("finish_reason")),
        )

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[Any],
        model_settings: Any,
        model_request_parameters: Any,
        run_context: Any = None,
    ) -> AsyncIterator[Any]:
        chat, args, tools = self._prepare(messages, model_settings, model_request_parameters)
        pump = _ThreadPump(chat, args)
        pump.start()
        try:
            yield _LocalStream(
                model_request_parameters=model_request_parameters, _pump=pump, _tools=tools
            )
        finally:
            pump.stop()

@dataclass
class _LocalStream(StreamedResponse):
    _pump: _ThreadPump = field(repr=False)
    _tools: list[Any] = field(default_factory=list, repr=False)
    _timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))

    async def _get_event_iterator(self) -> AsyncIterator[Any]:
        # With tools on offer the reply may be a tool call, which is only known once it is whole.
        buffered: list[str] = []
        async for kind, value in self._pump:
            if kind == "text":
                self._add_usage(RequestUsage(output_tokens=1), reported=True)
                if self._tools:
                    buffered.append(value)
                else:
                    for event in self._parts_manager.handle_text_delta(
                        vendor_part_id="content", content=value
                    ):
                        yield event
            elif kind == "done":
                self.finish_reason = _finish(value)
            elif kind == "prompt_tokens":
                self._add_usage(RequestUsage(input_tokens=value), reported=True)
        if buffered:
            text = "".join(buffered)
            call = parse_tool_call(text, self._tools)
            if call:
                self.finish_reason = "tool_call"
                yield self._parts_manager.handle_tool_call_part(
                    vendor_part_id="call", tool_name=call[0], args=call[1]
                )
            else:
                for event in self._parts_manager.handle_text_delta(
                    vendor_part_id="content", content=text
                ):
                    yield event

    async def close_stream(self) -> None:
        self._pump.stop()

    @property
    def model_name(self) -> str:
        return LOCAL_MODEL_ID

    @property
    def provider_name(self) -> str:
        return "local"

    @property
    def provider_url(self) -> None:
        return None

    @property
    def timestamp(self) -> datetime:
        return self._timestamp


class _ThreadPump:
    """Runs a streamed llama.cpp completion in a thread and hands its pieces to the event loop.

    ``stop()`` makes the thread leave the generation loop at the next token, so
    a cancelled spell frees the model for the next caller.
    """

    def __init__(self, chat: list[dict[str, str]], args: dict[str, Any]) -> None:
        self._chat = chat
        self._args = args
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="llmspell-local-model", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _put(self, item: tuple[str, Any]) -> None:
        try:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop is gone: nobody is listening any more
            self._stopped.set()

    def _run(self) -> None:
        try:
            self._put(("prompt_tokens", _count_tokens(self._chat)))
            llama = load_llama()
            with _run_lock:
                for chunk in self._chunks(llama):
                    if self._stopped.is_set():
                        break
                    self._put(chunk)
        except SpellError as exc:
            self._put(("error", as_model_error(exc)))
        except Exception as exc:  # noqa: BLE001 -- llama.cpp failures are reported, the thread must not die silently
            self._put(("error", as_model_error(SpellError("provider_error", f"llama.cpp failed: {exc}"))))
        finally:
            self._put(("end", None))

    def _chunks(self, llama: Any) -> Iterator[tuple[str, Any]]:
        reason = None
        for chunk in llama.create_chat_completion(messages=self._chat, stream=True, **self._args):
            choice = chunk["choices"][0]
            piece = choice.get("delta", {}).get("content")
            if piece:
                yield ("text", piece)
            reason = choice.get("finish_reason") or reason
        yield ("done", reason)

    def __aiter__(self) -> AsyncIterator[tuple[str, Any]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[tuple[str, Any]]:
        while True:
            kind, value = await self._queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield kind, value
