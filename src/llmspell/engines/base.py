"""The engine skeleton and the lookup that picks an engine by language or file extension.

An engine owns one kind of VM.  :meth:`Engine.run` is the one run lifecycle
of every language (a template method): a fresh VM, the globals made from the
host's bridges (each with the VM code it declares for the language,
``Bridge.vm_code``) and ``params``, the spell run under the limits, the VM and
the host closed however the run ended.  A language supplies only its
:class:`ScriptVM` (create the VM and load its prelude, install the globals,
execute, close) and its value conversions; what every engine shares is
written once beside this module: the script error value (``_error_values``),
the run's limits and waiting under its deadline (``_limits``), syntax errors
(``_syntax``); a bridge call itself is :mod:`llmspell.dispatch`'s.  Adding a
language means one engine module and its prelude; bridges do not change.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import SpellError
from .languages import BY_EXTENSION, BY_NAME, EXTENSIONS, spoken

if TYPE_CHECKING:
    from ..bridges.base import Bridge
    from ..host import SpellRun


class ScriptVM(ABC):
    """One fresh VM for one run: the hooks an engine supplies to :meth:`Engine.run`.

    Creating it (``__init__``) makes the VM and loads the language's prelude;
    :meth:`install` gives it the run's globals; :meth:`execute` runs the spell
    under the run's limits; :meth:`close` releases whatever the VM holds.
    Everything around them (the order, closing the host however the run
    ended, the bridges' own VM code) is :meth:`Engine.run`'s.
    """

    def __init__(self, host: SpellRun) -> None:
        self.host = host

    @abstractmethod
    def install(self, bridges: Mapping[str, Bridge], code: Mapping[str, str], params: dict[str, Any]) -> None:
        """Make the spell's globals: an object per bridge (its methods, and any
        other member name going to its ``dynamic_method``), the bridge's own VM
        code (``code``, by global name, see ``Bridge.vm_code``) run on it, and
        ``params`` converted to the language's values."""

    @abstractmethod
    async def execute(self, source: str) -> Any:
        """Compile and run the spell (named ``host.filename``) under the run's
        limits; return its result as a ScriptValue or raise SpellError."""

    async def close(self) -> None:  # noqa: B027 - most VMs hold nothing to release
        """Release the VM (a thread of its own, say), however the run ended."""


class Engine(ABC):
    """One script language: a VM class (its hooks) and a syntax check."""

    #: Its name in :data:`.languages.LANGUAGES` (which also gives its extensions).
    language: ClassVar[str]
    #: Address space the engine itself reserves for a run and that is not the
    #: spell's data (a thread stack, say): the worker's memory cap leaves room
    #: for it on top of the spell's own limit.
    reserved_memory: ClassVar[int] = 0
    #: Modules every run of the engine imports as it starts: a runtime that forks a worker per run
    #: imports them once first (llmspell/_preload.py), so that no worker imports them again.
    run_imports: ClassVar[tuple[str, ...]] = ()
    #: The VM of one run.
    vm_class: ClassVar[type[ScriptVM]]

    async def run(self, source: str, host: SpellRun) -> Any:
        """Run ``source`` (named ``host.filename``) in a fresh VM and return
        its result as a ScriptValue; raise SpellError for anything that failed.
        The one run lifecycle of every language: a fresh VM, the globals from
        ``host.bridges`` (with each bridge's VM code for this language) and
        ``params``, the spell run under the limits, and the VM and the host
        closed whatever happened."""
        vm: ScriptVM | None = None
        try:
            vm = self.vm_class(host)
            vm.install(host.bridges, bridge_code(host.bridges, self.language), host.params)
            return await vm.execute(source)
        finally:
            try:
                if vm is not None:
                    await vm.close()
            finally:
                await host.close()

    @abstractmethod
    def check(self, source: str, filename: str, names: Collection[str]) -> None:
        """Compile without running: raise a ``syntax_error`` SpellError if
        the source does not parse.  ``names`` are the globals a run would
        give (the runtime's bridges and ``params``, :meth:`Runtime.global_names`),
        for a language that resolves names when it compiles (Tengo)."""


def bridge_code(bridges: Mapping[str, Bridge], language: str) -> dict[str, str]:
    """The VM code each bridge declares for ``language`` (``Bridge.vm_code``), by global name."""
    out = {}
    for name, bridge in bridges.items():
        text = bridge.vm_source(language)
        if text:
            out[name] = text
    return out


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
