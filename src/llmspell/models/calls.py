"""The model calls the ``llm`` bridge makes: one completion, one stream, and what is available.

Requests go through ``pydantic_ai.direct`` (no agent loop: a completion is one
model request), so providers, streaming and fallback are pydantic-ai's.  What
this module adds is the spell-facing shape: API.md's response dict, the name
of the model that actually answered (after fallback), and provider failures
turned into one-line :class:`SpellError`s that say what to do.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmspell.config import KNOWN_PROVIDERS, Settings
from llmspell.errors import SpellError
from llmspell.models.access import BUILT_IN, enabled_providers
from llmspell.models.errors import map_model_error
from llmspell.models.resolve import ResolvedModel
from llmspell.wellformed import ChunkJoiner, well_formed

if TYPE_CHECKING:
    from llmspell.sandbox.policy import Policy

_ROLES = ("system", "user", "assistant")


@dataclass
class CompletionRequest:
    """One ``llm.complete`` / ``llm.stream`` call, already validated for types by the bridge."""

    model: str | list[str] | None = None
    messages: list[dict[str, Any]] | None = None
    system: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    #: Seconds one attempt at the provider may take (the SDK's timeout); ``None`` uses the settings.
    timeout: float | None = None
    #: Models the operator chose for this run (``--model``): their providers are enabled (see access).
    operator_models: tuple = ()


async def complete(req: CompletionRequest, settings: Settings, *, policy: Policy | None = None,
                   on_usage: Callable[[Any], None] | None = None,
                   wrap: Callable[[Any, list[ResolvedModel]], Any] | None = None) -> dict[str, Any]:
    """One model call; the response dict of API.md.

    ``policy`` is the spell's, when a spell asks: a failure then shows a provider's own
    words only if the spell could have reached that endpoint itself (``None``: the
    operator asks, and sees everything).  ``on_usage`` is given the answer's
    ``RequestUsage`` before it is shaped (the run's accounting, models/usage.py).
    ``wrap(model, chain)``: the model the request is made with instead (models/observed.py)."""
    from pydantic_ai.direct import model_request

    chain, model, messages, model_settings = await _prepare(req, settings, wrap)
    try:
        response = await model_request(model, messages, model_settings=model_settings)
    except Exception as exc:  # noqa: BLE001 -- every provider failure becomes a SpellError
        raise map_model_error(exc, chain, policy) from None
    if on_usage is not None:
        on_usage(response.usage)
    return _response_dict(response, chain)


async def stream(
    req: CompletionRequest, settings: Settings, on_delta: Callable[[str], Awaitable[None]],
    *, policy: Policy | None = None, on_usage: Callable[[Any], None] | None = None,
    wrap: Callable[[Any, list[ResolvedModel]], Any] | None = None,
) -> dict[str, Any]:
    """As :func:`complete`, awaiting ``on_delta(text)`` for each piece of text as it arrives."""
    from pydantic_ai.direct import model_request_stream
    from pydantic_ai.messages import PartDeltaEvent, PartStartEvent, TextPart, TextPartDelta

    chain, model, messages, model_settings = await _prepare(req, settings, wrap)
    # A provider may cut a surrogate pair between two pieces: the spell gets whole characters.
    joiner = ChunkJoiner()
    try:
        async with model_request_stream(model, messages, model_settings=model_settings) as streamed:
            async for event in streamed:
                text = None
                if isinstance(event, PartStartEvent) and isinstance(event.part, TextPart):
                    text = event.part.content
                elif isinstance(event, PartDeltaEvent) and isinstance(event.delta, TextPartDelta):
                    text = event.delta.content_delta
                if text:
                    text = joiner.feed(text)
                    if text:
                        await on_delta(text)
        response = streamed.get()
        rest = joiner.end()
        if rest:
            await on_delta(rest)
    except SpellError:
        raise
    except Exception as exc:  # noqa: BLE001 -- every provider failure becomes a SpellError
        raise map_model_error(exc, chain, policy) from None
    if on_usage is not None:
        on_usage(response.usage)
    return _response_dict(response, chain)


async def _prepare(req: CompletionRequest, settings: Settings, wrap: Callable[[Any, list[ResolvedModel]], Any] | None
                   ) -> tuple[list[ResolvedModel], Any, list[Any], dict]:
    """The chain and its model from this process's model source (models/source.py: built
    here, or in a spell's worker forwarded to the parent), the messages and the settings."""
    from llmspell.models import source

    chain, model = await source.current().resolve(req.model, settings, req.operator_models)
    if wrap is not None:
        model = wrap(model, chain)
    return chain, model, to_model_messages(req), _model_settings(req, settings)


def _model_settings(req: CompletionRequest, settings: Settings) -> dict[str, Any]:
    timeout = req.timeout if req.timeout is not None else settings.timeout
    return model_settings(temperature=req.temperature, max_tokens=req.max_tokens, stop=req.stop, timeout=timeout)


def model_settings(*, temperature: float | None = None, max_tokens: int | None = None,
                   stop: list[str] | None = None, timeout: float | None = None) -> dict[str, Any]:
    """pydantic-ai's ModelSettings for API.md's sampling options, with only the ones given
    (a completion's and an agent's alike)."""
    out: dict[str, Any] = {}
    if temperature is not None:
        out["temperature"] = temperature
    if max_tokens is not None:
        out["max_tokens"] = max_tokens
    if stop:
        out["stop_sequences"] = list(stop)
    if timeout is not None:
        out["timeout"] = timeout
    return out


def to_model_messages(req: CompletionRequest) -> list[Any]:
    """API.md's ``{role, content}`` list (plus ``system``) as pydantic-ai messages."""
    from pydantic_ai.messages import ModelRequest, ModelResponse, SystemPromptPart, TextPart, UserPromptPart

    items = list(req.messages or [])
    if req.system:
        items.insert(0, {"role": "system", "content": req.system})
    if not any(isinstance(m, dict) and m.get("role") == "user" for m in items):
        raise SpellError("invalid_argument", 'give a prompt or at least one message with role "user"')
    out: list[Any] = []
    pending: list[Any] = []
    for index, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            raise SpellError("invalid_argument", f"messages[{index}] must be a table with role and content")
        role, content = item.get("role"), item.get("content")
        if role not in _ROLES:
            raise SpellError(
                "invalid_argument", f"messages[{index}].role must be one of {', '.join(_ROLES)}, got {role!r}"
            )
        if not isinstance(content, str):
            raise SpellError("invalid_argument", f"messages[{index}].content must be a string")
        if role == "assistant":
            if pending:
                out.append(ModelRequest(parts=pending))
                pending = []
            out.append(ModelResponse(parts=[TextPart(content)]))
        else:
            pending.append(SystemPromptPart(content) if role == "system" else UserPromptPart(content))
    if not pending:
        raise SpellError("invalid_argument", "the last message must be from the user (or the system)")
    out.append(ModelRequest(parts=pending))
    return out


def _answered_by(response: Any, chain: list[ResolvedModel]) -> ResolvedModel:
    """The link of the chain that answered: FallbackModel records the attempts that failed first."""
    failed = len(response.failed_attempts or ())
    return chain[min(failed, len(chain) - 1)]


def _response_dict(response: Any, chain: list[ResolvedModel]) -> dict[str, Any]:
    usage = response.usage
    input_tokens = int(usage.input_tokens or 0)
    output_tokens = int(usage.output_tokens or 0)
    return {
        "content": well_formed(response.text or ""),
        "model": _answered_by(response, chain).name,
        "finish_reason": response.finish_reason or "stop",
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        },
    }


# --- what is available -------------------------------------------------------------------------

_PRICED_PROVIDERS = ("openai", "anthropic", "google")


def list_models(settings: Settings, provider: str | None = None, *,
                only: Collection[str] | None = None) -> list[dict[str, Any]]:
    """Known models: ``{id, provider, context_window, input_price, output_price}``.

    Prices are USD per million tokens from genai-prices' bundled snapshot (no
    network); ``None`` where unknown or free.  Configured aliases are listed
    too, under provider ``alias``, so ``llmspell models`` shows what a spell
    may call.  ``only``: list just these providers' models (a spell sees the
    enabled ones, :func:`spell_models`).
    """
    def wanted(name: str) -> bool:
        return provider in (None, name) and (only is None or name in only)

    rows: list[dict[str, Any]] = []
    if wanted("local"):
        from llmspell.models.local import CONTEXT_WINDOW, LOCAL_MODEL_ID

        rows.append(_row(f"local:{LOCAL_MODEL_ID}", "local", CONTEXT_WINDOW, 0.0, 0.0))
    if wanted("test"):
        rows.append(_row("test", "test", None, 0.0, 0.0))
    for name in _PRICED_PROVIDERS:
        if wanted(name):
            rows.extend(_priced_models(name))
    if provider in (None, "alias"):
        for alias, target in sorted(settings.aliases.items()):
            rows.append({**_row(alias, "alias", None, None, None), "target": target})
    known = {*_PRICED_PROVIDERS, "local", "test", "alias", *KNOWN_PROVIDERS, *settings.providers}
    if provider is not None and provider not in known:
        raise SpellError(
            "not_found", f"unknown provider {provider!r}: known providers are {', '.join(sorted(known))}"
        )
    return rows


def spell_models(settings: Settings, provider: str | None = None,
                 operator_models: tuple = ()) -> list[dict[str, Any]]:
    """:func:`list_models` as a spell sees it: only the models of enabled providers, and aliases."""
    return list_models(settings, provider, only=set(enabled_providers(settings, operator_models)))


def _row(
    model_id: str, provider: str, window: int | None, inp: float | None, out: float | None
) -> dict[str, Any]:
    return {
        "id": model_id,
        "provider": provider,
        "context_window": window,
        "input_price": inp,
        "output_price": out,
    }


def _priced_models(provider: str) -> list[dict[str, Any]]:
    try:
        from genai_prices.data_snapshot import get_snapshot
    except ImportError:
        return []
    found = [p for p in get_snapshot().providers if p.id == provider]
    rows = []
    for info in found[0].models if found else []:
        if getattr(info, "deprecated", None):
            continue
        prices = info.prices
        if isinstance(prices, list):  # prices that changed over time: the current ones are last
            prices = prices[-1].prices if prices else None
        rows.append(
            _row(
                f"{provider}:{info.id}",
                provider,
                info.context_window,
                _per_mtok(getattr(prices, "input_mtok", None)),
                _per_mtok(getattr(prices, "output_mtok", None)),
            )
        )
    return rows


def _per_mtok(price: Any) -> float | None:
    if price is None:
        return None
    base = getattr(price, "base", price)  # tiered prices: the price of the first tier
    try:
        return float(base)
    except (TypeError, ValueError):
        return None


def list_providers(settings: Settings) -> list[dict[str, Any]]:
    """Each provider with whether it can be used now (keys, base URLs, installed extras) and why.

    The operator's view (``llmspell providers``): reasons name files and
    variables.  Nothing is contacted: a configured base URL counts as usable
    even if the server behind it is down.
    """
    from llmspell.models.local import local_available
    from llmspell.models.resolve import _EXTRAS

    rows = []
    local_ok, local_reason = local_available()
    rows.append({"name": "local", "configured": local_ok, "reason": local_reason})
    rows.append({"name": "test", "configured": True, "reason": "built in (pydantic-ai TestModel)"})
    for name in ("openai", "anthropic", "google"):
        rows.append(_key_provider(name, settings, _EXTRAS.get(name)))
    ollama_url = settings.provider("ollama").base_url or settings.env.get("OLLAMA_BASE_URL")
    if ollama_url:
        rows.append({"name": "ollama", "configured": True, "reason": f"base URL {ollama_url}"})
    else:
        rows.append({"name": "ollama", "configured": False,
                     "reason": "set base_url under [providers.ollama] in llmspell.toml or OLLAMA_BASE_URL "
                               "(there is no default address)"})
    custom = [n for n, p in settings.providers.items() if p.type]
    for name in ("openai-compatible", *custom):
        rows.append(_compatible_provider(name, settings))
    return rows


def spell_providers(settings: Settings, operator_models: tuple = ()) -> list[dict[str, Any]]:
    """What ``llm.providers()`` shows a spell: only the providers it may use (those the
    operator enabled), each usable or not, with reasons that name no variable or file,
    so the spell learns nothing about the environment the policy hides from it."""
    enabled = enabled_providers(settings, operator_models)
    rows = []
    for row in list_providers(settings):
        if row["name"] not in enabled:
            continue
        if row["name"] in BUILT_IN:
            reason = "built in" if row["configured"] else "built in, but not installed on this machine"
        elif row["configured"]:
            reason = "enabled by the operator"
        else:
            reason = "enabled by the operator, but not set up completely: ask the operator"
        rows.append({"name": row["name"], "configured": row["configured"], "reason": reason})
    return rows


def _key_provider(name: str, settings: Settings, extra: tuple[str, str] | None) -> dict[str, Any]:
    import importlib.util

    if extra is not None:
        try:
            installed = importlib.util.find_spec(extra[0]) is not None
        except ModuleNotFoundError:
            installed = False
        if not installed:
            return {"name": name, "configured": False, "reason": f'pip install "llmspell[{extra[1]}]"'}
    names = settings.api_key_env_names(name)
    for var in names:
        if settings.env.get(var):
            return {"name": name, "configured": True, "reason": f"{var} is set"}
    if name == "openai":
        base = settings.provider("openai").base_url or settings.env.get("OPENAI_BASE_URL")
        if base:
            return {"name": name, "configured": True, "reason": f"base URL {base} (no API key)"}
    return {"name": name, "configured": False, "reason": f"set {' or '.join(names)}"}


def _compatible_provider(name: str, settings: Settings) -> dict[str, Any]:
    configured = settings.provider(name)
    base = configured.base_url or (
        settings.env.get("OPENAI_BASE_URL") if name == "openai-compatible" else None
    )
    if not base:
        return {
            "name": name,
            "configured": False,
            "reason": f"set base_url under [providers.{name}] in llmspell.toml or OPENAI_BASE_URL",
        }
    if configured.api_key_env and not settings.env.get(configured.api_key_env):
        return {"name": name, "configured": False, "reason": f"set {configured.api_key_env}"}
    return {"name": name, "configured": True, "reason": f"base URL {base}"}
