"""The embedded model's pydantic-ai ``Model``: SmolLM2 through llama.cpp, in this process.

Kept apart from :mod:`.local` (where the weights are, whether the model can
run, message conversion) because it subclasses pydantic-ai's ``Model`` and so
imports pydantic-ai when it is imported: :func:`.local.local_model` imports
it only when the local model is used, so ``import llmspell`` and a spell that
never calls a model do not pay for pydantic-ai.

llama.cpp is blocking and not re-entrant: every generation runs on a thread
under one process-wide lock, and the event loop never blocks on it.

A request with tools or an output schema is answered under a grammar
(:mod:`._local_answer` says what the answer may be, :mod:`._local_grammar`
builds the grammar), so the small model's answer is always a valid call of an
offered tool or a final answer of the allowed form.  Streamed, plain text
arrives token by token; an answer in JSON (a tool call, a structured answer)
arrives whole when it is complete, as only then is it known which it is.
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
from pydantic_ai.messages import ModelResponse, ToolCallPart
from pydantic_ai.models import Model, ModelRequestParameters, StreamedResponse
from pydantic_ai.profiles import ModelProfile
from pydantic_ai.usage import RequestUsage

from llmspell.errors import SpellError
from llmspell.models._local_answer import AnswerShape, answer_shape, protocol, read_answer
from llmspell.models._local_grammar import check_grammar
from llmspell.models.local import (
    CONTEXT_WINDOW,
    DEFAULT_MAX_TOKENS,
    LOCAL_MODEL_ID,
    as_model_error,
    load_llama,
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


def _loaded() -> Any:
    """The model, or pydantic-ai's provider error (so a fallback chain moves on) when it cannot load."""
    try:
        return load_llama()
    except SpellError as exc:
        raise as_model_error(exc) from None


def _with_grammar(llama: Any, args: dict[str, Any], grammar: str | None) -> dict[str, Any]:
    return {**args, "grammar": check_grammar(grammar, llama, "the answer")} if grammar else args


def _too_long(exc: ValueError) -> SpellError | None:
    """llama.cpp's refusal of a prompt longer than the context window, as a clear error."""
    if not str(exc).startswith("Requested tokens"):
        return None
    return SpellError(
        "limit_exceeded",
        f"local:smollm2: {str(exc)[:120]} tokens",
        hint="send less (a shorter prompt, fewer or smaller tool results), or use a model with a larger context",
    )


def _complete_blocking(chat: list[dict[str, str]], args: dict[str, Any], grammar: str | None) -> dict[str, Any]:
    llama = _loaded()
    with _run_lock:
        try:
            return llama.create_chat_completion(messages=chat, **_with_grammar(llama, args, grammar))
        except ValueError as exc:
            refused = _too_long(exc)
            if refused is None:
                raise
            raise refused from None


def _count_tokens(chat: list[dict[str, str]]) -> int:
    """Prompt tokens for a streamed request, which llama.cpp does not report (content only, no template)."""
    llama = load_llama()
    text = "\n".join(m["content"] for m in chat)
    return len(llama.tokenize(text.encode("utf-8"), add_bos=True))


_PROFILE = ModelProfile(
    supports_tools=True,
    # Structured output is held to its schema by grammar: "native" gives the model a bare JSON object
    # to write, the simplest form for it.
    supports_json_schema_output=True,
    supports_json_object_output=False,
    default_structured_output_mode="native",
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
        shape = answer_shape(messages, params)
        grammar = shape.grammar()  # a schema it cannot follow: a clear invalid_argument, before any work
        chat = to_chat(messages, get_instructions(messages, params), protocol(shape))
        return chat, _generation_args(dict(settings or {})), shape, grammar

    async def request(
        self, messages: list[Any], model_settings: Any, model_request_parameters: Any
    ) -> Any:
        chat, args, shape, grammar = self._prepare(messages, model_settings, model_request_parameters)
        result = await asyncio.to_thread(_complete_blocking, chat, args, grammar)
        choice = result["choices"][0]
        text = choice["message"].get("content") or ""
        usage = result.get("usage") or {}
        part, finish = read_answer(text, shape, _finish(choice.get("finish_reason")))
        return ModelResponse(
            parts=[part],
            usage=RequestUsage(
                input_tokens=usage.get("prompt_tokens", 0),
                output_tokens=usage.get("completion_tokens", 0),
            ),
            model_name=LOCAL_MODEL_ID,
            provider_name="local",
            finish_reason=finish,
        )

    @asynccontextmanager
    async def request_stream(
        self,
        messages: list[Any],
        model_settings: Any,
        model_request_parameters: Any,
        run_context: Any = None,
    ) -> AsyncIterator[Any]:
        chat, args, shape, grammar = self._prepare(messages, model_settings, model_request_parameters)
        pump = _ThreadPump(chat, args, grammar)
        pump.start()
        try:
            yield _LocalStream(
                model_request_parameters=model_request_parameters, _pump=pump, _shape=shape
            )
        finally:
            pump.stop()

@dataclass
class _LocalStream(StreamedResponse):
    _pump: _ThreadPump = field(repr=False)
    _shape: AnswerShape = field(default_factory=AnswerShape, repr=False)
    _timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))

    async def _get_event_iterator(self) -> AsyncIterator[Any]:
        # Under a grammar an answer in JSON starts with "{" and plain text never does: text streams as it
        # comes, JSON (a call or a structured answer) is read once it is whole.
        buffered: list[str] = []
        streaming = not self._shape.constrained
        async for kind, value in self._pump:
            if kind == "text":
                self._add_usage(RequestUsage(output_tokens=1), reported=True)
                if not streaming and not buffered and not value.lstrip().startswith("{"):
                    streaming = True
                if streaming:
                    for event in self._parts_manager.handle_text_delta(
                        vendor_part_id="content", content=value
                    ):
                        yield event
                else:
                    buffered.append(value)
            elif kind == "done":
                self.finish_reason = _finish(value)
            elif kind == "prompt_tokens":
                self._add_usage(RequestUsage(input_tokens=value), reported=True)
        if buffered:
            part, self.finish_reason = read_answer("".join(buffered), self._shape, self.finish_reason or "stop")
            if isinstance(part, ToolCallPart):
                yield self._parts_manager.handle_tool_call_part(
                    vendor_part_id="call", tool_name=part.tool_name, args=part.args,
                    tool_call_id=part.tool_call_id,
                )
            else:
                for event in self._parts_manager.handle_text_delta(
                    vendor_part_id="content", content=part.content
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

    def __init__(self, chat: list[dict[str, str]], args: dict[str, Any], grammar: str | None = None) -> None:
        self._chat = chat
        self._args = args
        self._grammar = grammar
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
            try:
                self._put(("prompt_tokens", _count_tokens(self._chat)))
                llama = load_llama()
            except SpellError as exc:  # no model: a provider error, so a fallback chain moves on
                self._put(("error", as_model_error(exc)))
                return
            with _run_lock:
                for chunk in self._chunks(llama):
                    if self._stopped.is_set():
                        break
                    self._put(chunk)
        except SpellError as exc:  # the grammar: the request's own fault, said as it is
            self._put(("error", exc))
        except ValueError as exc:
            refused = _too_long(exc)
            self._put(("error", refused or as_model_error(SpellError("provider_error", f"llama.cpp failed: {exc}"))))
        except Exception as exc:  # noqa: BLE001 -- llama.cpp failures are reported, the thread must not die silently
            self._put(("error", as_model_error(SpellError("provider_error", f"llama.cpp failed: {exc}"))))
        finally:
            self._put(("end", None))

    def _chunks(self, llama: Any) -> Iterator[tuple[str, Any]]:
        reason = None
        args = _with_grammar(llama, self._args, self._grammar)
        for chunk in llama.create_chat_completion(messages=self._chat, stream=True, **args):
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
