"""One run's model requests: what the ``llm`` bridge (and later an agent) asks models for.

:class:`ModelService` is made once per run.  It turns a request as API.md
describes it (a prompt and/or messages, a system text, sampling options) into
one model request, applies the run's limits on it -- the prompt size
(``max_prompt``) before anything is built, one request out of ``max_llm_calls``
before it is sent, its tokens out of ``max_tokens`` when the answer is back
(:mod:`.usage`) -- and makes it through :mod:`.calls`.  It knows nothing of
scripts: the bridge converts a spell's table into keyword arguments and the
answer back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from llmspell.errors import SpellError

from .limits import check_prompt_size
from .usage import UsageAccount

if TYPE_CHECKING:
    from llmspell.config import Settings
    from llmspell.sandbox.policy import Policy

    from .calls import CompletionRequest
    from .observers import Observers


@dataclass
class ModelService:
    """The models one run may use, its default model, and its usage account."""

    settings: Settings
    #: The spell's policy: limits (``max_prompt``), and which provider failures it may read in full.
    policy: Policy | None = None
    #: The run's default model (``Runtime(model=...)``, ``--model``); a spell's own ``model`` wins.
    #: The operator chose it, so its provider is enabled for the run (see :mod:`.access`).
    default_model: str | list[str] | None = None
    account: UsageAccount = field(default_factory=UsageAccount)
    #: The run's hooks, guardrails and listeners: when any would see a request, the model of every
    #: request (``complete``, ``stream``, ``model_for``) is wrapped in ``ObservedModel`` (models/observed.py).
    observers: Observers | None = None

    @property
    def operator_models(self) -> tuple:
        """The models the operator chose for this run."""
        return () if self.default_model is None else (self.default_model,)

    def prepare(self, what: str, *, model: str | list[str] | None = None, prompt: str | None = None,
                messages: list[dict[str, Any]] | None = None, system: str | None = None,
                temperature: float | None = None, max_tokens: int | None = None,
                stop: list[str] | str | None = None) -> CompletionRequest:
        """One request for ``what`` (``llm.complete``): the prompt is the last user message;
        ``limit_exceeded`` if the prompt is larger than ``max_prompt``."""
        from .calls import CompletionRequest

        if prompt is None and not messages:
            raise SpellError("invalid_argument", f"{what}: give prompt (a string) or messages (a list)")
        messages = [dict(m) for m in messages or []]
        if prompt is not None:
            messages.append({"role": "user", "content": prompt})
        check_prompt_size(what, getattr(self.policy, "max_prompt", None), system,
                          *(m.get("content") for m in messages))
        return CompletionRequest(model=model if model is not None else self.default_model, messages=messages,
                                 system=system, temperature=temperature, max_tokens=max_tokens,
                                 stop=[stop] if isinstance(stop, str) else stop,
                                 operator_models=self.operator_models)

    async def complete(self, what: str, request: CompletionRequest) -> dict[str, Any]:
        """Make one request and return the whole answer (API.md's response dict)."""
        from .calls import complete

        self.account.start_request(what)
        return await complete(request, self.settings, policy=self.policy, on_usage=self.account.add,
                              wrap=self._observed(what))

    async def stream(self, what: str, request: CompletionRequest,
                     on_delta: Callable[[str], Awaitable[None]]) -> dict[str, Any]:
        """As :meth:`complete`, awaiting ``on_delta(text)`` for each piece of text as it arrives."""
        from .calls import stream

        self.account.start_request(what)
        return await stream(request, self.settings, on_delta, policy=self.policy, on_usage=self.account.add,
                            wrap=self._observed(what))

    async def model_for(self, what: str, model: str | list[str] | None = None) -> tuple[list[Any], Any]:
        """The chain of ``model`` (the run's default when ``None``) and the one pydantic-ai model that
        serves it in this process (a worker's stand-in forwards to the parent), for callers that make
        their own requests through pydantic-ai (an agent run for ``what``)."""
        from . import source

        chain, found = await source.current().resolve(model if model is not None else self.default_model,
                                                      self.settings, self.operator_models)
        wrap = self._observed(what)
        return chain, (found if wrap is None else wrap(found, chain))

    async def warm(self, models: list[str | list[str] | None]) -> None:
        """Resolve the chains of ``models`` (``None``: the run's default) before many requests need them at
        once: in a worker each is one question to the parent, which the first request of a parallel
        workflow's steps would otherwise wait for behind every other step's start (in this process it is
        nothing).  A chain that cannot be resolved is left for the request that uses it to report."""
        from . import source

        for model in models:
            await source.current().warm(model if model is not None else self.default_model, self.settings,
                                        self.operator_models)

    def _observed(self, what: str) -> Callable[[Any, list[Any]], Any] | None:
        """How to wrap the model of a request for ``what`` when hooks, guardrails or listeners would see
        it (``None``, at the cost of one check, when nothing would)."""
        observers = self.observers
        if observers is None or not observers.watching():
            return None
        from .observed import ObservedModel

        return lambda model, chain: ObservedModel(model, observers, chain, what, on_blocked=self.account.add)

    def models(self, provider: str | None = None) -> list[dict[str, Any]]:
        """The models of the providers this run may use."""
        from .calls import spell_models

        return spell_models(self.settings, provider, self.operator_models)

    def providers(self) -> list[dict[str, Any]]:
        """The providers this run may use, each usable or not."""
        from .calls import spell_providers

        return spell_providers(self.settings, self.operator_models)
