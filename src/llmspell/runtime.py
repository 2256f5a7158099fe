"""A Runtime: configuration + policy + engines + bridges, running spells.

This is the embedding API.  One Runtime can run many spells, one after
another or concurrently (``arun``); each run gets a fresh VM and fresh bridge
instances, so nothing one spell does is seen by the next.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._preload import PRELOADS, preload, preload_modules
from .bridges import PLAIN_GLOBALS, default_bridges
from .dispatch import Interceptor, interceptors_of
from .engines.base import engine_class, get_engine, language_for
from .engines.languages import NAMES as LANGUAGE_NAMES
from .engines.languages import spoken
from .errors import SpellError, host_error
from .host import RunLimits, SpellRun
from .values import from_python, to_python

if TYPE_CHECKING:
    from .bridges.base import Bridge
    from .config import Settings


class Runtime:
    """Runs spells with one configuration and one security policy.

    ``model`` is the default model of every run (a spell's own ``model``
    option still wins); ``output`` receives what spells print (default:
    stdout); ``timeout`` (seconds) and ``max_memory`` (bytes) override the
    policy's limits.

    ``isolation="process"`` (the default) runs each spell in a forked worker
    process with OS limits, killed if it overruns its time limit by a second,
    so that no spell can hang or crash the caller, whatever native call it is
    stuck in.  ``isolation="inline"`` runs in this process: faster to start and
    able to return host handles, but only VM-level limits apply — use it for
    spells you trust.  A worker also confines itself with Landlock and seccomp
    before the spell runs (sandbox/kernel.py); an inline run is not confined.

    ``interceptors`` (:class:`llmspell.Interceptor`) see every bridge call of
    every run, in order (see dispatch.py; :meth:`add_interceptor` adds one).

    ``models`` names pydantic-ai models of the embedder's own
    (``{"scripted": FunctionModel(...)}``): a spell reaches one with
    ``model = "scripted"`` (or the run's ``model``), and in process isolation
    it is served from this process, as every model is.
    """

    def __init__(
        self,
        *,
        model: str | list[str] | None = None,
        config: str | Path | Settings | None = None,
        policy: Any = None,
        timeout: float | None = None,
        max_memory: int | None = None,
        output: Callable[[str], Any] | None = None,
        cwd: str | Path | None = None,
        isolation: str = "process",
        interceptors: Sequence[Interceptor] | None = None,
        models: Mapping[str, Any] | None = None,
    ) -> None:
        import dataclasses

        from .config import Settings, load_settings

        self.cwd = Path(cwd) if cwd else Path.cwd()
        self.settings = config if isinstance(config, Settings) else load_settings(config, cwd=self.cwd)
        if models:
            self.settings = dataclasses.replace(self.settings, models={**self.settings.models, **models})
        if policy is None:
            from .sandbox.policy import Policy

            policy = Policy.from_settings(self.settings)
        self.policy = policy
        self.limits = RunLimits.from_policy(policy)
        if timeout is not None:
            self.limits.timeout = timeout
        if max_memory is not None:
            self.limits.max_memory = max_memory
        if isolation not in ("process", "inline"):
            raise SpellError("invalid_argument", f"isolation must be 'process' or 'inline', not {isolation!r}")
        self.isolation = isolation
        self.interceptors = interceptors_of(interceptors)
        #: The words of :data:`~llmspell._preload.PRELOADS` and the languages whose libraries this process has
        #: imported for its workers.
        self._preloaded: set[str] = set()
        self.model = model
        self.output = output or _stdout_write
        self.bridge_classes = default_bridges()  # the registry's globals (bridges/__init__.py)

    # -- running ---------------------------------------------------------------
    def run(self, spell: str | Path | None = None, params: Mapping[str, Any] | None = None, *,
            source: str | None = None, language: str | None = None, filename: str | None = None,
            output: Callable[[str], Any] | None = None) -> Any:
        """Run a spell file (or ``source=`` text) and return its result as
        plain Python data; raises :class:`SpellError` if the spell fails.
        ``output`` receives what this run prints (default: the runtime's ``output``)."""
        return asyncio.run(self.arun(spell, params, source=source, language=language, filename=filename,
                                     output=output))

    async def arun(self, spell: str | Path | None = None, params: Mapping[str, Any] | None = None, *,
                   source: str | None = None, language: str | None = None, filename: str | None = None,
                   output: Callable[[str], Any] | None = None) -> Any:
        """As :meth:`run`, on the caller's event loop: runs at once (``asyncio.gather``)
        may each give their own ``output``."""
        return to_python(await self.arun_raw(spell, params, source=source, language=language, filename=filename,
                                             output=output))

    async def arun_raw(self, spell: str | Path | None = None, params: Mapping[str, Any] | None = None, *,
                       source: str | None = None, language: str | None = None,
                       filename: str | None = None, output: Callable[[str], Any] | None = None) -> Any:
        """Run and return the result as ScriptValues (for embedders that want
        error values and handles as they are; in process isolation the
        result is plain data, as nothing else can leave the worker)."""
        write = output or self.output  # this run's, carried by its host: never stored on the runtime
        if self.isolation == "inline":
            return await self._run_here(spell, params, source, language, filename, write)
        from .sandbox.worker import run_in_worker

        async def job(emit: Callable[[str], None]) -> Any:
            return to_python(await self._run_here(spell, params, source, language, filename, emit))

        if not self._preloaded.issuperset(PRELOADS):
            preload(_spell_text(spell, source, self.cwd), self._preloaded)
        shown = filename or (str(spell) if spell is not None else f"<{language or 'spell'}>")
        try:
            engine = engine_class(language_for(shown, language))
        except SpellError:
            reserved = 0  # the worker reports the unknown language, as inline
        else:
            reserved = engine.reserved_memory
            if engine.language not in self._preloaded:
                preload_modules(engine.language, engine.run_imports, self._preloaded)
        return await run_in_worker(job, write=write, timeout=self.limits.timeout,
                                   max_memory=self.limits.max_memory, filename=shown, reserved=reserved,
                                   confinement=self._confinement(spell, source), max_output=self.limits.max_output,
                                   **self._models_outside())

    def _models_outside(self) -> dict[str, Any]:
        """A worker's models are served here (models/gateway.py), where the keys and a loaded local
        model stay; the worker drops the keys it was forked with before its spell runs (sandbox/keys.py)."""
        from .models.gateway import ModelGateway
        from .sandbox import keys

        names = keys.secret_names(self.settings, self.policy)

        def on_start() -> None:  # in the worker
            keys.clear_model_clients(self.settings, names)
            self.settings = keys.keyless(self.settings, names)
            keys.scrub_environment(names)

        operator_models = () if self.model is None else (self.model,)
        return {"models": ModelGateway(self.settings, self.policy, self.limits, operator_models),
                "on_start": on_start}

    def _confinement(self, spell: str | Path | None, source: str | None) -> Any:
        """What the worker may still touch once the kernel confines it (sandbox/kernel.py)."""
        from .sandbox.kernel import plan_for

        if source is not None or spell is None:
            return plan_for(self.policy, self.settings, self.cwd)
        path = self.cwd / Path(spell)
        return plan_for(self.policy, self.settings, path.parent, path)

    async def _run_here(self, spell: str | Path | None, params: Mapping[str, Any] | None, source: str | None,
                        language: str | None, filename: str | None, output: Callable[[str], Any]) -> Any:
        if source is None:
            if spell is None:
                raise SpellError("invalid_argument", "give a spell file or source= text")
            path = Path(spell)
            if not path.is_absolute():
                path = self.cwd / path
            source = _read_spell(path, spell)
            name = filename or str(spell)
            base_dir = path.parent
        else:
            name = filename or f"<{language or 'spell'}>"
            base_dir = self.cwd
            if language is None and filename is None:
                raise SpellError("invalid_argument", f"source= needs language= ({spoken(LANGUAGE_NAMES)})")
        lang = language_for(name, language)
        engine = get_engine(lang)
        host = self._host(name, params, base_dir, output)
        try:
            result = await engine.run(source, host)
        except (SpellError, asyncio.CancelledError):
            raise
        except Exception as exc:  # never a Python exception out of a run: the API's kinds (errors.host_error)
            raise host_error(exc) from None
        if host.output_over:  # the output limit ends the run even if the spell caught its error
            raise host.output_error()
        return result

    def check(self, spell: str | Path, *, language: str | None = None) -> None:
        """Parse a spell without running it; raises a ``syntax_error``."""
        path = Path(spell)
        source = _read_spell(path if path.is_absolute() else self.cwd / path, spell)
        get_engine(language_for(str(spell), language)).check(source, str(spell), self.global_names())

    def global_names(self) -> list[str]:
        """The globals a run gives a spell (its bridges and ``params``): what :meth:`check` checks against."""
        return [name for name, _ in self.bridge_classes] + list(PLAIN_GLOBALS)

    def _host(self, filename: str, params: Mapping[str, Any] | None, base_dir: Path,
              output: Callable[[str], Any]) -> SpellRun:
        limits = RunLimits(**vars(self.limits))
        host = SpellRun(
            filename=filename, params=from_python(dict(params or {}), "params"), settings=self.settings,
            policy=self.policy, limits=limits, write=output, model_override=self.model,
            base_dir=base_dir, interceptors=self.interceptors,
        )
        instances: dict[type, Bridge] = {}
        # A disabled global stays defined: each of its methods then answers
        # permission_denied (dispatch.allowed), which says why, unlike a missing name.
        for name, cls in self.bridge_classes:
            bridge = instances.get(cls) or cls(host)
            instances[cls] = bridge
            host.bridges[name] = bridge
        return host

    def add_interceptor(self, interceptor: Interceptor) -> None:
        """Attach an interceptor to every later run, after those already there."""
        self.interceptors = (*self.interceptors, *interceptors_of([interceptor]))

    def add_bridge(self, name: str, cls: type[Bridge]) -> None:
        """Give every later run another global (an embedder's own bridge)."""
        self.bridge_classes = [(n, c) for n, c in self.bridge_classes if n != name] + [(name, cls)]


def _read_spell(path: Path, shown: str | Path) -> str:
    """A spell file's text (a UTF-8 byte order mark, which some editors write
    first, is not part of it); a file that is missing, unreadable or not UTF-8
    is a SpellError that names it."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SpellError("not_found", f"{shown}: no such spell file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise host_error(exc, f"{shown}: cannot read it") from None


def _spell_text(spell: str | Path | None, source: str | None, cwd: Path) -> str:
    """The spell's text for a cheap look at what it may use ("" if it cannot be read here)."""
    if source is None and spell is not None:
        path = Path(spell) if Path(spell).is_absolute() else cwd / spell
        try:
            source = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
    return source or ""


def _stdout_write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()
