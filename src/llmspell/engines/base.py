"""The engine protocol and the lookup that picks an engine by language or file extension.

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
from .languages import BY_EXTENSION, BY_NAME, EXTENSIONS, spoken

if TYPE_CHECKING:
    from ..host import SpellHost


class Engine(ABC):
    """One script language."""

    #: Its name in :data:`.languages.LANGUAGES` (which also gives its extensions).
    language: ClassVar[str]
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


def language_for(path: str | Path, language: str | None = None) -> str:
    """The language of a spell, from ``language`` or else the file extension
    (both as :mod:`.languages` declares them)."""
    if language:
        lang = BY_NAME.get(language.lower())
        if lang is None:
            raise SpellError("invalid_argument", f"unknown language {language!r}",
                             hint="use one of: " + ", ".join(sorted(BY_NAME)))
        return lang.name
    ext = Path(path).suffix.lower()
    lang = BY_EXTENSION.get(ext)
    if lang is None:
        raise SpellError("invalid_argument", f"{path}: cannot tell the spell's language from {ext or 'no extension'!r}",
                         hint="name the file " + spoken(EXTENSIONS))
    return lang.name


def engine_class(language: str) -> type[Engine]:
    """The engine class of a language (its module imported on first use)."""
    lang = BY_NAME.get(language)
    if lang is None or lang.name != language:
        raise SpellError("invalid_argument", f"no engine for language {language!r}")
    module_name, _, cls_name = lang.engine.partition(":")
    return getattr(importlib.import_module(module_name), cls_name)


def get_engine(language: str) -> Engine:
    """A new engine instance for a language."""
    return engine_class(language)()
