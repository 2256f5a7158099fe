"""Tengo's standard library: ``import("text")``, ``import("times")`` and so on.

Each module lives in its own file and builds an ``ImmutableMap`` of Builtins
for one script run.  Modules that touch the world outside the VM (``fmt``
printing, ``os``) reach it only through the :class:`StdlibHost` handed in by
the engine, so the sandbox policy decides what a spell may do.
"""

from __future__ import annotations

import importlib
import pathlib
from typing import Any, Protocol

from ..objects import ImmutableMap

#: Every module name ``import`` accepts, in the reference's order.
MODULE_NAMES: tuple[str, ...] = (
    "base64", "enum", "fmt", "hex", "json", "math", "os", "rand", "text", "times",
)

#: Modules written in Tengo itself (``get_module`` returns their source).
SOURCE_MODULES: tuple[str, ...] = ("enum",)


class OsPermissions(Protocol):
    """The sandbox checks ``os`` goes through (what ``os`` needs of
    ``llmspell.sandbox.Policy``).

    Each raises ``SpellError(kind="permission_denied")`` when the spell may not
    do it; the path checks return the resolved path to use.
    """

    def check_read(self, path: Any) -> pathlib.Path: ...

    def check_write(self, path: Any) -> pathlib.Path: ...

    def check_env(self, name: str) -> None: ...

    def check_exec(self, command: str) -> None: ...


class StdlibHost(Protocol):
    """What the engine gives the standard library.

    Optional attributes read with ``getattr``: ``max_string_len`` and
    ``max_bytes_len`` (the script's size limits), ``args`` (``os.args()``),
    ``local_timezone`` (IANA name used for Local times; UTC when absent, so
    spells stay deterministic), ``environ`` (a mapping used instead of the
    process environment) and ``rand_seed``.
    """

    policy: OsPermissions

    def write(self, text: str) -> None: ...

    def cwd(self) -> pathlib.Path: ...


_BUILDERS: dict[str, str] = {name: f"{__name__}.{name}" for name in MODULE_NAMES}


def get_module(name: str, host: StdlibHost) -> ImmutableMap | str | None:
    """The module ``import(name)`` gives: an ImmutableMap of Builtins, the
    Tengo source of a source module, or None when there is no such module."""
    target = _BUILDERS.get(name)
    if target is None:
        return None
    mod = importlib.import_module(target)
    if name in SOURCE_MODULES:
        return mod.source()
    return mod.build(host)


__all__ = ["MODULE_NAMES", "OsPermissions", "SOURCE_MODULES", "StdlibHost", "get_module"]
