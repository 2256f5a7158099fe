"""The one value model that crosses between script engines and bridges.

Bridges are written once, against these values, and never see a Lua table, a
QuickJS object or a Tengo map.  Each engine converts its own values to and from
this model, so a bridge behaves the same in every language.

A ``ScriptValue`` is one of:

* ``None``, ``bool``, ``int``, ``float``, ``str``
* ``list`` of ScriptValues, ``dict`` with ``str`` keys and ScriptValue values
* :class:`ScriptFunction` — a function of the spell that the host may call
* :class:`HostHandle` — an opaque host object (an agent, a tool, a state
  store) that the spell holds and passes back, with methods it may call
* :class:`~llmspell.errors.SpellError` — an error value (Tengo ``error``)
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

from .errors import SpellError

if TYPE_CHECKING:
    from .bridges.base import Bridge

#: How deep a value may nest before conversion gives up.  Deep enough for any
#: real JSON-like data, shallow enough to stop a cycle long before the C stack.
MAX_DEPTH = 64


class ScriptFunction:
    """A function owned by a running spell, callable from the host.

    The engine that made it decides how a call is run (a Lua coroutine, the
    JavaScript job queue, the Tengo thread); the host only awaits it.
    """

    __slots__ = ("_call", "name", "language")

    def __init__(self, call: Callable[..., Awaitable[Any]], name: str = "function", language: str = "") -> None:
        self._call = call
        self.name = name
        self.language = language

    async def __call__(self, *args: Any) -> Any:
        return await self._call(*args)

    def __repr__(self) -> str:
        return f"<{self.language} function {self.name}>"


class HostHandle:
    """An opaque host object held by a spell, exposed through a bridge.

    Scripts see it as an object with the bridge's methods (``agent:run``);
    passed back to the host (``tools = {agent}``), it arrives as this handle.
    """

    __slots__ = ("bridge", "type_name")

    def __init__(self, bridge: Bridge, type_name: str) -> None:
        self.bridge = bridge
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<{self.type_name}>"


ScriptValue = None | bool | int | float | str | list | dict | ScriptFunction | HostHandle | SpellError


def depth_error(path: str) -> SpellError:
    if len(path) > 60:  # a cycle's path repeats itself: its start says enough
        path = path[:60].rsplit(".", 1)[0] + "..."
    err = SpellError(
        "invalid_argument",
        f"{path or 'value'} nests more than {MAX_DEPTH} levels deep (is it a cycle?)",
        hint="pass plain data: tables/objects that do not contain themselves",
    )
    err.too_deep = True  # type: ignore[attr-defined]
    return err


def nesting_error(exc: SpellError, value: Any, children: Callable[[Any], Iterable[Any]],
                  identity: Callable[[Any], Any], what: str) -> SpellError:
    """What to report when converting ``value`` ran into ``exc``: if that is
    the depth limit and the value contains itself, say it is a cycle (as the
    JavaScript engine does), else ``exc`` as it is.  Engines call this on the
    way out of a failed conversion, so finding the cycle costs nothing until
    then.  ``children``: the containers directly inside a container;
    ``identity``: a key that is the same for the same container."""
    if not getattr(exc, "too_deep", False):
        return exc
    on_path: set = set()
    clear: set = set()  # containers already walked, found to hold no cycle

    def walk(v: Any, depth: int) -> bool:
        key = identity(v)
        if key in on_path:
            return True
        if key in clear or depth > MAX_DEPTH + 1:
            return False
        on_path.add(key)
        found = any(walk(c, depth + 1) for c in children(v))
        on_path.discard(key)
        clear.add(key)
        return found

    if not walk(value, 0):
        return exc
    return SpellError("invalid_argument", f"value contains a cycle ({what} inside itself)",
                      hint="pass plain data: tables/objects that do not contain themselves")


def to_python(value: Any) -> Any:
    """Turn a ScriptValue into plain JSON-like Python data for a caller of the
    Python API (functions and handles become their descriptions)."""
    if isinstance(value, (ScriptFunction, HostHandle)):
        return repr(value)
    if isinstance(value, SpellError):
        return {"error": value.to_dict()}
    if isinstance(value, list):
        return [to_python(v) for v in value]
    if isinstance(value, dict):
        return {k: to_python(v) for k, v in value.items()}
    return value


def to_json_compatible(value: Any) -> Any:
    """As :func:`to_python`, with non-finite floats made JSON-safe (as null)."""
    value = to_python(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [to_json_compatible(v) for v in value]
    if isinstance(value, dict):
        return {k: to_json_compatible(v) for k, v in value.items()}
    return value


def from_python(value: Any, path: str = "", depth: int = 0) -> Any:
    """Check host data (e.g. ``--param`` values or Python API arguments) into
    ScriptValues: tuples become lists, keys become strings, anything else that
    is not a ScriptValue is refused instead of leaking a Python object."""
    if depth > MAX_DEPTH:
        raise depth_error(path)
    if value is None or isinstance(value, (bool, int, float, str, ScriptFunction, HostHandle, SpellError)):
        return value
    if isinstance(value, (list, tuple)):
        return [from_python(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {str(k): from_python(v, f"{path}.{k}" if path else str(k), depth + 1) for k, v in value.items()}
    raise SpellError("invalid_argument", f"{path or 'value'}: a {type(value).__name__} cannot be given to a spell")
