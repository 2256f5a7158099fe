"""Model names -> pydantic-ai models.

A spell names a model as a string (or a list of them, tried in order); this
module decides which pydantic-ai model serves it, so spells never see provider
SDKs, base URLs or keys.  Resolution order for one name:

1. an alias from ``llmspell.toml`` (which may expand to a list),
2. a model the embedder named itself (``Runtime(models={"scripted": model})``),
   served as it is: the embedder chose it, so it needs no enabling,
3. ``test`` and ``local:smollm2`` (in-process models),
4. ``provider:model`` for the providers below,
5. a bare name by its prefix (``gpt-*``, ``o1``/``o3``/``o4*`` -> openai,
   ``claude-*`` -> anthropic, ``gemini-*`` -> google).

Only providers the operator enabled serve a spell (:mod:`.access`); the check
is made on the name, before any client is built or any byte is sent, and no
provider has a default address on this machine (``ollama`` needs its
``base_url`` configured).

``openai:`` means OpenAI's **Chat Completions** API in llmspell, not the
Responses API it means in pydantic-ai v2: every OpenAI-compatible server
(vLLM, llama.cpp, LM Studio, Ollama) speaks Chat Completions, so the same
name works against OpenAI and against ``OPENAI_BASE_URL`` pointing at a local
server.  ``openai-responses:`` opts into the Responses API.

pydantic-ai is imported inside the functions so ``import llmspell`` stays fast.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmspell.config import Settings
from llmspell.errors import SpellError
from llmspell.models.access import check_enabled
from llmspell.models.local import LOCAL_MODEL_ID, local_model

if TYPE_CHECKING:
    from pydantic_ai.models import Model

#: Used when neither the call, the config file nor LLMSPELL_MODEL names a model.
DEFAULT_MODEL = f"local:{LOCAL_MODEL_ID}"
#: What a model name may contain: it travels in a request body, or in a URL path (google), so no
#: spaces, controls, ``?``, ``#``, ``%`` or ``..`` segments that would reach another path of the endpoint.
_MODEL_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+=-]{0,199}")

#: Provider prefixes a name may carry, beyond the configured ``[providers.X]`` tables.
PROVIDER_PREFIXES = (
    "openai",
    "openai-chat",
    "openai-responses",
    "anthropic",
    "google",
    "ollama",
    "openai-compatible",
    "local",
)

_BARE_PREFIXES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^(gpt-|chatgpt-|o\d)"), "openai"),
    (re.compile(r"^claude-"), "anthropic"),
    (re.compile(r"^gemini-"), "google"),
)

_EXTRAS = {
    "anthropic": ("anthropic", "anthropic"),
    "google": ("google.genai", "google"),
}


@dataclass(frozen=True)
class ResolvedModel:
    """One link of a model chain: the name llmspell reports, where it lives, and the pydantic-ai model."""

    name: str
    provider: str
    model: Model
    #: The HTTP endpoint, for "cannot reach ..." messages; ``None`` for in-process models and SDK defaults.
    base_url: str | None = None
    #: The variables the API key was looked up in, for "key refused" messages.
    key_env: tuple[str, ...] = ()


def resolve_model(name: str | list[str] | None, settings: Settings, operator_models: tuple = ()) -> Model:
    """The pydantic-ai model for a name, a list of names (fallback chain), or ``None`` (the default)."""
    return chain_model(resolve_chain(name, settings, operator_models))


def chain_model(chain: list[ResolvedModel]) -> Model:
    """One model for a chain: its only link, or pydantic-ai's ``FallbackModel`` trying the links in order."""
    if len(chain) == 1:
        return chain[0].model
    from pydantic_ai.models.fallback import FallbackModel

    return FallbackModel(*(link.model for link in chain))


def resolve_chain(name: str | list[str] | None, settings: Settings,
                  operator_models: tuple = ()) -> list[ResolvedModel]:
    """Every model a request may be sent to, in the order they are tried.

    ``operator_models`` are names the operator chose for this run (``--model``): their
    providers count as enabled.  Every name is checked before any model is built, so a
    refused link refuses the whole chain and nothing is sent anywhere."""
    names = expand_names(name, settings)
    for canonical in names:
        if canonical in settings.models:
            continue
        provider, _ = split_name(canonical, settings)
        if provider in _BUILDERS:  # an unknown one is not_found when it is built
            check_enabled(provider, canonical, settings, operator_models)
    return [_resolve_one(n, settings) for n in names]


def expand_names(name: str | list[str] | None, settings: Settings) -> list[str]:
    """Apply the default and the aliases, flattening lists: the canonical names of a chain."""
    if name is None:
        name = settings.default_model or DEFAULT_MODEL
    out: list[str] = []
    _expand(name, settings, out, ())
    if not out:
        raise SpellError("invalid_argument", "model list is empty: give at least one model name")
    return out


def _expand(name: Any, settings: Settings, out: list[str], seen: tuple[str, ...]) -> None:
    if isinstance(name, list | tuple):
        for item in name:
            _expand(item, settings, out, seen)
        return
    if not isinstance(name, str) or not name.strip():
        raise SpellError("invalid_argument", f'model must be a name like "openai:gpt-4o", got {name!r}')
    name = name.strip()
    if name in settings.aliases:
        if name in seen:
            cycle = " -> ".join((*seen, name))
            raise SpellError("invalid_argument", f"alias loop in llmspell.toml: {cycle}")
        _expand(settings.aliases[name], settings, out, (*seen, name))
        return
    out.append(name)


def split_name(name: str, settings: Settings) -> tuple[str, str]:
    """``(provider, model)`` for a canonical name, inferring the provider of a bare one."""
    if name == "test":
        return "test", "test"
    if not _MODEL_NAME.fullmatch(name) or {".", ".."} & set(re.split(r"[/:]", name)):
        raise SpellError("invalid_argument", f"model name {name!r} has characters a model name cannot have")
    if ":" in name:
        provider, model = name.split(":", 1)
        if not model:
            raise SpellError("invalid_argument", f"model name {name!r} has no model after the colon")
        return provider, model
    for pattern, provider in _BARE_PREFIXES:
        if pattern.match(name):
            return provider, name
    if name == LOCAL_MODEL_ID:
        return "local", name
    raise SpellError(
        "not_found",
        f"unknown model {name!r}: use provider:model ({', '.join(known_providers(settings))}) "
        "or add an alias for it under [llm.aliases] in llmspell.toml",
    )


def known_providers(settings: Settings) -> list[str]:
    """Every provider prefix a name may use here, configured custom ones included."""
    custom = [n for n, p in settings.providers.items() if p.type and n not in PROVIDER_PREFIXES]
    return [*PROVIDER_PREFIXES, "test", *custom]


def _resolve_one(name: str, settings: Settings) -> ResolvedModel:
    link = _build(name, settings)
    return dataclasses.replace(link, key_env=settings.api_key_env_names(link.provider))


def _build(name: str, settings: Settings) -> ResolvedModel:
    if name in settings.models:
        return ResolvedModel(name, "embedder", settings.models[name])
    provider, model = split_name(name, settings)
    if provider == "test":
        from pydantic_ai.models.test import TestModel

        return ResolvedModel("test", "test", TestModel())
    if provider == "local":
        return ResolvedModel(f"local:{model}", "local", local_model(model))
    builder = _BUILDERS.get(provider)
    if builder is None:
        configured = settings.providers.get(provider)
        if configured is None or configured.type != "openai-compatible":
            raise SpellError(
                "not_found",
                f"unknown provider {provider!r} in {name!r}: known providers are "
                f"{', '.join(known_providers(settings))}; add [providers.{provider}] with "
                'type = "openai-compatible" and base_url to llmspell.toml for another server',
            )
        builder = _build_compatible
    return builder(provider, model, settings)


# --- one builder per provider ------------------------------------------------------------------


def _missing_key(provider: str, model: str, settings: Settings) -> SpellError:
    names = settings.api_key_env_names(provider)
    wanted = " or ".join(names) if names else f"api_key_env under [providers.{provider}]"
    return SpellError(
        "provider_error",
        f"{provider}:{model} needs an API key: set {wanted} (or api_key_env in llmspell.toml)",
    )


def _openai_client(base_url: str | None, api_key: str, settings: Settings) -> Any:
    def make() -> Any:
        from openai import AsyncOpenAI

        kwargs: dict[str, Any] = {"api_key": api_key, "max_retries": settings.max_retries}
        if base_url is not None:
            kwargs["base_url"] = base_url
        if settings.timeout is not None:
            kwargs["timeout"] = settings.timeout
        return AsyncOpenAI(**kwargs)

    return _cached(("openai", base_url, api_key, settings.max_retries, settings.timeout), make)


def _build_openai(provider: str, model: str, settings: Settings) -> ResolvedModel:
    from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
    from pydantic_ai.providers.openai import OpenAIProvider

    base_url = settings.provider("openai").base_url or settings.env.get("OPENAI_BASE_URL") or None
    api_key = settings.api_key("openai")
    if api_key is None:
        if base_url is None:
            raise _missing_key("openai", model, settings)
        api_key = "api-key-not-set"  # local OpenAI-compatible servers often need none
    client = _openai_client(base_url, api_key, settings)
    cls = OpenAIResponsesModel if provider == "openai-responses" else OpenAIChatModel
    shown = "openai-responses" if provider == "openai-responses" else "openai"
    return ResolvedModel(
        f"{shown}:{model}",
        "openai",
        cls(model, provider=OpenAIProvider(openai_client=client)),
        base_url or "https://api.openai.com/v1",
    )


def _build_compatible(provider: str, model: str, settings: Settings) -> ResolvedModel:
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai_compatible import OpenAICompatibleProvider

    configured = settings.provider(provider)
    base_url = configured.base_url
    if base_url is None and provider == "openai-compatible":
        base_url = settings.env.get("OPENAI_BASE_URL") or None
    if base_url is None:
        raise SpellError(
            "provider_error",
            f"{provider}:{model} needs a base URL: set base_url under [providers.{provider}] "
            "in llmspell.toml or OPENAI_BASE_URL",
        )
    api_key = settings.api_key(provider) if configured.api_key_env else None
    if configured.api_key_env and api_key is None:
        raise _missing_key(provider, model, settings)
    client = _openai_client(base_url, api_key or "api-key-not-set", settings)
    chat = OpenAIChatModel(model, provider=OpenAICompatibleProvider(provider, openai_client=client))
    return ResolvedModel(f"{provider}:{model}", provider, chat, base_url)


def _build_ollama(provider: str, model: str, settings: Settings) -> ResolvedModel:
    from pydantic_ai.models.ollama import OllamaModel
    from pydantic_ai.providers.ollama import OllamaProvider

    base_url = settings.provider("ollama").base_url or settings.env.get("OLLAMA_BASE_URL")
    if not base_url:  # no default: nobody may have meant whatever listens on localhost:11434
        raise SpellError(
            "provider_error",
            f'ollama:{model} needs a base URL: set base_url = "http://HOST:11434/v1" under '
            "[providers.ollama] in llmspell.toml or OLLAMA_BASE_URL",
        )
    client = _openai_client(base_url, settings.api_key("ollama") or "api-key-not-set", settings)
    return ResolvedModel(
        f"ollama:{model}",
        "ollama",
        OllamaModel(model, provider=OllamaProvider(openai_client=client)),
        base_url,
    )


def _require_extra(provider: str) -> None:
    import importlib.util

    module, extra = _EXTRAS[provider]
    try:
        found = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        raise SpellError(
            "provider_error",
            f'{provider} models need the {extra} extra: pip install "llmspell[{extra}]" '
            f'(or pip install "pydantic-ai-slim[{extra}]")',
        )


def _build_anthropic(provider: str, model: str, settings: Settings) -> ResolvedModel:
    _require_extra("anthropic")
    api_key = settings.api_key("anthropic")
    if api_key is None:
        raise _missing_key("anthropic", model, settings)
    from pydantic_ai.models.anthropic import AnthropicModel
    from pydantic_ai.providers.anthropic import AnthropicProvider

    base_url = settings.provider("anthropic").base_url

    def make() -> Any:
        from anthropic import AsyncAnthropic

        kwargs: dict[str, Any] = {"api_key": api_key, "max_retries": settings.max_retries}
        if base_url:
            kwargs["base_url"] = base_url
        if settings.timeout is not None:
            kwargs["timeout"] = settings.timeout
        return AnthropicProvider(anthropic_client=AsyncAnthropic(**kwargs))

    prov = _cached(("anthropic", base_url, api_key, settings.max_retries, settings.timeout), make)
    return ResolvedModel(
        f"anthropic:{model}",
        "anthropic",
        AnthropicModel(model, provider=prov),
        base_url or "https://api.anthropic.com",
    )


def _build_google(provider: str, model: str, settings: Settings) -> ResolvedModel:
    _require_extra("google")
    api_key = settings.api_key("google")
    if api_key is None:
        raise _missing_key("google", model, settings)
    from pydantic_ai.models.google import GoogleModel
    from pydantic_ai.providers.google import GoogleProvider

    base_url = settings.provider("google").base_url

    def make() -> Any:
        kwargs: dict[str, Any] = {"api_key": api_key}
        if base_url:
            kwargs["base_url"] = base_url
        return GoogleProvider(**kwargs)

    prov = _cached(("google", base_url, api_key), make)
    return ResolvedModel(
        f"google:{model}",
        "google",
        GoogleModel(model, provider=prov),
        base_url or "https://generativelanguage.googleapis.com",
    )


_BUILDERS: dict[str, Callable[[str, str, Settings], ResolvedModel]] = {
    "openai": _build_openai,
    "openai-chat": _build_openai,
    "openai-responses": _build_openai,
    "openai-compatible": _build_compatible,
    "ollama": _build_ollama,
    "anthropic": _build_anthropic,
    "google": _build_google,
}


# --- SDK clients, reused per event loop ---------------------------------------------------------

# An SDK client costs ~20 ms to build and holds a connection pool, whose connections belong to the event
# loop that opened them; so clients are shared between calls on one loop and never across loops.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple, Any]] = weakref.WeakKeyDictionary()


def _cached(key: tuple, make: Callable[[], Any]) -> Any:
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return make()
    per_loop = _clients.setdefault(loop, {})
    if key not in per_loop:
        per_loop[key] = make()
    return per_loop[key]
