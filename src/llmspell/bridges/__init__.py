"""The spell API's bridges, declared in one place.

Which globals every spell gets, under which other names, and which bridge
classes a spell only ever holds as values (handles) are written here and
nowhere else: the runtime builds each run's globals from :func:`default_bridges`,
``llmspell docs`` writes the reference and the editor stubs from
:func:`documented`, and ``check`` checks a spell against the same names.
Adding a global is one line in :data:`GLOBALS`.

Bridges are named by ``module:Class`` inside this package and imported only
when first asked for: every ``llmspell.bridges.X`` import runs this module,
and the engines' light imports (``bridges.base``) must not pull in every
bridge's services.
"""

from __future__ import annotations

import functools
import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .base import Bridge

#: The globals every spell gets, in the order a run defines them: the global's
#: name and its bridge class as ``module:Class`` in this package.
GLOBALS: dict[str, str] = {
    "llm": "llm:LlmBridge",
    "json": "json:JsonBridge",
    "log": "log:LogBridge",
    "env": "env:EnvBridge",
    "tools": "tools:ToolsBridge",
    "spell": "spell:SpellBridge",
    "state": "state:StateBridge",
    "events": "events:EventsBridge",
    "hooks": "hooks:HooksBridge",
    "guardrails": "guardrails:GuardrailsBridge",
    "workflow": "workflow:WorkflowBridge",
}

#: Other names of a global (the alias and the global it is): the same object
#: in a run, one line in the stubs.
ALIASES: dict[str, str] = {"logger": "log"}

#: Bridge classes a spell holds as values, never as globals (``tools.register``
#: returns a ``tool``, ``llm.agent`` an ``agent``): their type name and class.
HANDLES: dict[str, str] = {"tool": "tools:ToolHandle", "agent": "agent:AgentHandle",
                           "store": "state:StoreHandle", "wf": "workflow:WorkflowHandle"}

#: Globals a run defines that are not bridges.
PLAIN_GLOBALS: tuple[str, ...] = ("params",)


@functools.cache
def _load(target: str) -> type[Bridge]:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def default_bridges() -> list[tuple[str, type[Bridge]]]:
    """The globals every spell gets, by name, each alias right after its global."""
    out: list[tuple[str, type[Bridge]]] = []
    for name, target in GLOBALS.items():
        cls = _load(target)
        out.append((name, cls))
        out.extend((alias, cls) for alias, of in ALIASES.items() if of == name)
    return out


def handle_types() -> list[tuple[str, type[Bridge]]]:
    """The handle types, by type name."""
    return [(name, _load(target)) for name, target in HANDLES.items()]


def documented() -> list[tuple[str, type[Bridge]]]:
    """What the reference describes: each global (not its aliases), then each handle type."""
    return [(name, _load(target)) for name, target in GLOBALS.items()] + handle_types()


__all__ = ["ALIASES", "GLOBALS", "HANDLES", "PLAIN_GLOBALS", "default_bridges", "documented", "handle_types"]
