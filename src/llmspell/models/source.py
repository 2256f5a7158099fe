"""Where this process gets the model for a chain of names: built here, or served by the parent.

:mod:`.calls` asks :func:`current` for the model of a request's chain and
does the rest (messages, the response dict, which link answered, error
mapping) the same way whatever the answer is.  In a process that holds the
configuration and the keys (the CLI, an embedder, an ``isolation="inline"``
run) the source is :class:`DirectSource`: names resolve to pydantic-ai
models here (:mod:`.resolve`).  A spell's worker process holds no key and
must not load a model inside its memory limit, so it installs
:class:`~llmspell.models.remote.RemoteSource` instead, whose models forward
each request to the parent over the worker's pipe.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from pydantic_ai.models import Model

    from llmspell.config import Settings
    from llmspell.models.resolve import ResolvedModel


class ModelSource(Protocol):
    async def resolve(self, name: str | list[str] | None, settings: Settings,
                      operator_models: tuple = ()) -> tuple[list[ResolvedModel], Model]:
        """The chain for ``name`` (its links, tried in order) and the one model that tries them."""
        ...

    async def warm(self, name: str | list[str] | None, settings: Settings, operator_models: tuple = ()) -> None:
        """Resolve ``name`` now if a later :meth:`resolve` would then be quicker (its failure is left for
        that call to report)."""
        ...


class DirectSource:
    """Models built in this process, from its settings and keys."""

    async def resolve(self, name: str | list[str] | None, settings: Settings,
                      operator_models: tuple = ()) -> tuple[list[ResolvedModel], Model]:
        from llmspell.models.resolve import chain_model, resolve_chain

        chain = resolve_chain(name, settings, operator_models)
        return chain, chain_model(chain)

    async def warm(self, name: str | list[str] | None, settings: Settings, operator_models: tuple = ()) -> None:
        """Nothing: resolving here is as quick later as now."""


_source: Any = DirectSource()


def current() -> ModelSource:
    """This process's model source."""
    return _source


def use(source: ModelSource) -> None:
    """Make ``source`` this process's model source (a worker does, once, before its spell runs)."""
    global _source
    _source = source
