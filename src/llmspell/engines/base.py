"""The engine protocol and the registry that picks an engine by file extension.

An engine owns one kind of VM.  It gets a spell's source and a
:class:`~llmspell.host.SpellHost`, exposes the host's bridges as the
language's globals, converts values at the border, enforces the VM-level
limits (time, memory, instructions) and returns the spell's result as a
ScriptValue.  Adding a language means adding an engine; bridges do not change.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import SpellError

if TYPE_CHECKING:
    from ..host import SpellHost


class Engine(ABC):
    """One script language."""

    language: ClassVar[str]
    extensions: ClassVar[tuple[str, ...]]
    #: Address space the engine itself reserves for a run and that is not the
    #: spell's data (a thread stack, say): the worker's memory cap leaves room
    #: for it on top of the spell's own limit.
    reserved_memory: ClassVar[int] = 0

    @abstractmethod
    async def run(self, source: str, host: SpellHost) -> Any:
        """Run ``source`` (named ``host.filename``) in a fresh VM and return
        its result as a ScriptValue; raise SpellError for anything that failed."""

    @abstractmethod
    def check(self, source: str, filename: str, names: Collection[str]) -> None:
        """Compile without running: raise a ``syntax_error`` SpellError if
        the source does not parse.  ``names`` are the globals a run would
        give (the runtime's bridges and ``params``, :meth:`Runtime.global_names`),
        for a language that resolves names when it compiles (Tengo)."""


# language -> "module:Class", imported on first use so that starting the CLI
# does not load every VM.
_REGISTRY: dict[str, str] = {
    "lua": "llmspell.engines.lua:LuaEngine",
    "javascript": "llmspell.engines.javascript:JavaScriptEngine",
    "tengo": "llmspell.engines.tengo.engine:TengoEngine",
}
_EXTENSIONS: dict[str, str] = {".lua": "lua", ".js": "javascript", ".mjs": "javascript", ".tengo": "tengo"}
_ALIASES = {"js": "javascript", "lua": "lua", "tengo": "tengo", "javascript": "javascript"}


def register(language: str, target: str, extensions: tuple[str, ...]) -> None:
    """Add an engine ("module:Class") for a language and its file extensions."""
    _REGISTRY[language] = target
    for ext in extensions:
        _EXTENSIONS[ext] = language
    _ALIASES[language] = language


def languages() -> list[str]:
    return sorted(_REGISTRY)


def language_for(path: str | Path, language: str | None = None) -> str:
    """The language of a spell, from ``language`` or else the file extension."""
    if language:
        lang = _ALIASES.get(language.lower())
        if lang is None:
            raise SpellError("invalid_argument", f"unknown language {language!r}",
                             hint="use one of: " + ", ".join(sorted(_ALIASES)))
        return lang
    ext = Path(path).suffix.lower()
    lang = _EXTENSIONS.get(ext)
    if lang is None:
        raise SpellError("invalid_argument", f"{path}: cannot tell the spell's language from {ext or 'no extension'!r}",
                         hint="name the file .lua, .js, .mjs or .tengo")
    return lang


def engine_class(language: str) -> type[Engine]:
    """The engine class of a language (its module imported on first use)."""
    target = _REGISTRY.get(language)
    if target is None:
        raise SpellError("invalid_argument", f"no engine for language {language!r}")
    module_name, _, cls_name = target.partition(":")
    return getattr(importlib.import_module(module_name), cls_name)


def get_engine(language: str) -> Engine:
    """A new engine instance for a language."""
    return engine_class(language)()
