"""Tengo modules of a run: ``import`` of a file and ``spell.require``.

Both find a file the same way as every language's ``spell.require``
(bridges/spell.py ``module_path``: a relative path starts from the folder of
the module that asks, checked by the policy as from the spell's own folder).
``import`` is resolved when the spell is compiled (Tengo compiles modules in
with the spell); ``spell.require`` is a bridge call, so the host only finds,
checks and reads the file and the module runs here, on the spell's thread,
once per run, and the call gives what the module exports, as Lua's and
JavaScript's do.  A module that fails is the call's ``error`` value, as any
bridge call's failure is in Tengo (Lua's ``pcall`` and JavaScript's
``catch`` see the same error); a run limit still ends the run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ...bridges.spell import module_name, module_path, read_module
from ...errors import SpellError
from ...host import is_run_limit
from .compiler import SourceModule
from .objects import Builtin, Error, ImmutableMap

if TYPE_CHECKING:
    from .engine import _TengoRun

#: The names a Tengo spell's file import may be written without (``import("lib")``).
_SUFFIX = ".tengo"


class TengoModules:
    """One run's file modules: the import loader and ``spell.require``."""

    def __init__(self, run: _TengoRun) -> None:
        self.run = run
        self.required: dict[str, Any] = {}  # module name -> its exports
        self.loading: list[str] = []  # modules being run by spell.require, outermost first

    # -- import ------------------------------------------------------------------------
    def loader(self, within: str | None = None) -> Callable[[str], Any]:
        """The ``import`` loader of the spell (``within`` None) or of a module."""
        return lambda name: self._load(name, within)

    def _load(self, name: str, within: str | None) -> Any:
        from .stdlib import MODULE_NAMES, get_module

        run = self.run
        host = run.host
        if name in MODULE_NAMES:
            host.policy.check_import(name)
            return get_module(name, run.stdlib_host)
        path = name if name.endswith(_SUFFIX) else name + _SUFFIX
        target = module_path(host.policy, path if "/" in path else "./" + path, host.base_dir, within)
        if target is None:
            return None
        source = read_module(target, name)  # through the link-safe walk, as spell.require
        if source is None:
            return None
        shown = module_name(target, host.base_dir)
        return SourceModule(shown, source, self.loader(shown))

    # -- spell.require -------------------------------------------------------------------
    def require(self, call: Callable[..., Any], fields: tuple[str, str], within: str | None) -> Builtin:
        """``spell.require`` for the spell (``within`` None) or a module: ``call``
        is the bridge's method (it finds, checks and reads the file and gives
        ``fields``, its source and name); the module runs here."""
        source_field, name_field = fields

        def require(*args: Any) -> Any:
            if len(args) != 1:
                return _error(SpellError("invalid_argument",
                                         f"spell.require: takes 1 argument (the module's path), got {len(args)}"))
            got = call(args[0], within)
            if type(got) is Error:
                return got
            return self._run(got[name_field], got[source_field])

        return Builtin("spell.require", require)

    def _run(self, name: str, source: str) -> Any:
        if name in self.required:
            return self.required[name]
        if name in self.loading:
            chain = " -> ".join([*self.loading, name])
            return _error(SpellError("invalid_argument", f"spell.require: {name} requires itself (a cycle: {chain})"))
        run = self.run
        values = dict(run.values)
        for global_name, methods in run.module_methods.items():
            if global_name not in values:
                continue
            # the module's own spell.require: a relative path starts from its folder
            own = {method: self.require(call, fields, name) for method, (call, fields) in methods.items()}
            values[global_name] = ImmutableMap({**values[global_name], **own})
        from .engine import compile_spell

        self.loading.append(name)
        try:
            program = compile_spell(source, name, list(values), self.loader(name))
            result = program.run(values, check_interrupt=run._check, memory=run.memory, stop=run.stop_flag)
        except SpellError as exc:
            if is_run_limit(exc) or exc.kind == "cancelled":
                raise
            return _error(exc)
        finally:
            self.loading.pop()
        self.required[name] = result.exported
        return result.exported


def _error(exc: SpellError) -> Error:
    """The call's error value; its message says where (Tengo's error values hold kind and message only)."""
    from .engine import _error_object

    where = exc.location()
    if where and not exc.message.startswith(where):
        exc = SpellError(exc.kind, f"{where}: {exc.message}")
    return _error_object(exc)
