"""Which model providers a spell may use: the operator's choice, never the spell's.

A spell picks a model *name*; a name must not pick the endpoint.  Before this
rule, ``ollama:llama3`` sent the prompt to ``localhost:11434`` (and told the
spell what answered there) on a machine where nobody had set up Ollama, under
a policy that allowed only one other host.  So a provider serves a spell only
when the operator enabled it, and nothing is ever sent to a provider that is
not enabled: the refusal comes from the name alone, before any request.

A provider is **enabled** when any of these holds (checked in this order):

1. it is ``test`` or ``local`` (in process, no network): always;
2. ``llmspell.toml`` has a ``[providers.NAME]`` table for it (an OpenAI-
   compatible server of your own needs one, with its ``base_url``);
3. the operator named one of its models: ``[llm] default_model``,
   ``LLMSPELL_MODEL``, a target of ``[llm.aliases]``, or ``--model``
   (``Runtime(model=...)``);
4. for the cloud providers (``openai``, ``anthropic``, ``google``): its API key
   variable is set in the operator's environment (``api_key_env`` from the
   file, else the usual ``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``,
   ``GOOGLE_API_KEY`` / ``GEMINI_API_KEY``): a key in the environment that
   runs llmspell is an operator's grant to spend it;
5. the operator's environment names its endpoint: ``OPENAI_BASE_URL``
   (``openai`` and ``openai-compatible``), ``OLLAMA_BASE_URL`` (``ollama``).

Enabled is not yet usable: a provider still needs its key or base URL when a
model is built (``ollama`` has no default address: its ``base_url`` must be
configured).  Spells cannot change any of this: they see neither the file nor
the environment, and ``--allow-net`` is about the spell's own requests, not
the operator's providers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from llmspell.config import KNOWN_PROVIDERS, Settings
from llmspell.errors import SpellError

#: In-process providers: no network, always available.
BUILT_IN = ("test", "local")
#: Providers whose models are served by a cloud service once a key is set.
CLOUD = ("openai", "anthropic", "google")
#: Prefixes that are another name of a provider (one switch enables all of them).
_FAMILY = {"openai-chat": "openai", "openai-responses": "openai"}
#: Endpoints the operator's environment may name, and the providers each enables.
_BASE_URL_VARS = {"OPENAI_BASE_URL": ("openai", "openai-compatible"), "OLLAMA_BASE_URL": ("ollama",)}


def family(provider: str) -> str:
    """The provider a prefix belongs to (``openai-chat`` -> ``openai``)."""
    return _FAMILY.get(provider, provider)


def enabled_providers(settings: Settings, operator_models: Iterable[Any] = ()) -> dict[str, str]:
    """Every enabled provider, with why (for the operator's eyes: it names files and variables)."""
    out: dict[str, str] = {name: "built in" for name in BUILT_IN}
    for name in settings.providers:
        out.setdefault(family(name), f"[providers.{name}] in llmspell.toml")
    for name, why in _named_by_operator(settings, operator_models):
        out.setdefault(name, why)
    for name in CLOUD:
        for var in settings.api_key_env_names(name):
            if settings.env.get(var):
                out.setdefault(name, f"{var} is set")
                break
    for var, names in _BASE_URL_VARS.items():
        if settings.env.get(var):
            for name in names:
                out.setdefault(name, f"{var} is set")
    return out


def _named_by_operator(settings: Settings, operator_models: Iterable[Any]) -> list[tuple[str, str]]:
    from llmspell.models.resolve import split_name

    named: list[tuple[Any, str]] = [(settings.default_model, "the default model")]
    named += [(target, f"the alias {alias!r}") for alias, target in settings.aliases.items()]
    named += [(model, "the model given to the run (--model)") for model in operator_models]
    found = []
    for value, why in named:
        for name in value if isinstance(value, list | tuple) else [value]:
            if not isinstance(name, str) or not name.strip() or name.strip() in settings.aliases:
                continue
            try:
                provider, _ = split_name(name.strip(), settings)
            except SpellError:
                continue
            found.append((family(provider), why))
    return found


def check_enabled(provider: str, name: str, settings: Settings, operator_models: Iterable[Any] = ()) -> None:
    """Raise ``permission_denied`` unless ``provider`` (of the model ``name``) is enabled.

    The message says how the operator enables it and nothing about what the
    machine or its network holds: no request has been made."""
    if family(provider) in enabled_providers(settings, operator_models):
        return
    raise SpellError(
        "permission_denied",
        f"model {name!r}: the {family(provider)} provider is not enabled for spells; "
        f"the operator enables it with {how_to_enable(family(provider))}",
    )


def how_to_enable(provider: str) -> str:
    """What the operator does to enable ``provider`` (see the module docstring)."""
    table = f"[providers.{provider}]"
    if provider == "ollama":
        return f'{table} base_url = "http://HOST:11434/v1" in llmspell.toml (or OLLAMA_BASE_URL)'
    if provider == "openai-compatible":
        return f'{table} base_url = "http://HOST:PORT/v1" in llmspell.toml (or OPENAI_BASE_URL)'
    keys = " or ".join(KNOWN_PROVIDERS.get(provider, ()))
    extra = " (or OPENAI_BASE_URL for a compatible server)" if provider == "openai" else ""
    return f"{table} in llmspell.toml, an alias or default model of it, or by setting {keys}{extra}"
