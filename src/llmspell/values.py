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
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from .errors import SpellError
from .wellformed import well_formed

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
        from .dispatch import in_spell  # the bridge call waiting on it gives back its slot (dispatch imports us)

        return await in_spell(self._call, args)

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


class _Null:
    """The type of :data:`NULL`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NULL"


#: A null inside decoded JSON data (``json.decode``) that keeps its place: an
#: element of an array or a key of an object.  Languages with a null that a
#: table holds make it None (:meth:`ValueMaker.null`); Lua, whose tables cannot
#: hold nil, makes it the ``json.null`` sentinel, which reads back as None.
NULL = _Null()

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


def cycle_error(path: str, what: str) -> SpellError:
    """The error of a value that contains itself, naming ``path``: where the
    container comes round again (as every language says it: the walker's
    and the JavaScript prelude's texts are this one)."""
    return SpellError("invalid_argument", f"{path or 'value'} contains a cycle ({what} inside itself)",
                      hint="pass plain data: tables/objects that do not contain themselves")


def to_python(value: Any) -> Any:
    """Turn a ScriptValue into plain JSON-like Python data for a caller of the
    Python API (functions and handles become their descriptions)."""
    if isinstance(value, (ScriptFunction, HostHandle)):
        return repr(value)
    if value is NULL:
        return None
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


class ValueMaker:
    """How one language makes its values from ScriptValues: the hooks of
    :func:`make`, the one walker that carries a ScriptValue into any language
    (and checks host data into ScriptValues).  The walker owns the recursion,
    the nesting limit and the path an error names; a language says only what
    each kind of value becomes.  The defaults give ScriptValues back."""

    #: The language's name, as an error says it ("a function of another spell cannot be passed to Lua").
    language = "a spell"

    def none(self) -> Any:
        return None

    def null(self) -> Any:
        """:data:`NULL`: a null that keeps its place in a container."""
        return self.none()

    def scalar(self, value: bool | int | float | str) -> Any:
        return value

    def array(self, items: list) -> Any:
        return items

    def table(self, items: list[tuple[Any, Any]]) -> Any:
        """``items``: the dict's keys as they are (str in a ScriptValue) and its values made."""
        return dict(items)

    def handle(self, value: HostHandle) -> Any:
        return value

    def error(self, value: SpellError) -> Any:
        return value

    def function(self, value: ScriptFunction) -> Any:
        raise SpellError("invalid_argument", f"a function of another spell cannot be passed to {self.language}")

    def other(self, value: Any, path: str) -> Any:
        raise SpellError("internal", f"cannot give a {type(value).__name__} to {self.language}")


def make(value: Any, maker: ValueMaker, path: str = "", depth: int = 0) -> Any:
    """``value`` (a ScriptValue) as ``maker``'s language makes it.  Lists (and
    tuples) and dicts may nest :data:`MAX_DEPTH` levels: one more is refused
    (a cycle among them), naming where."""
    if value is None:
        return maker.none()
    if isinstance(value, (bool, int, float, str)):
        return maker.scalar(value)
    if value is NULL:
        return maker.null()
    if isinstance(value, (list, tuple, dict)):
        if depth >= MAX_DEPTH:
            raise depth_error(path)
        if isinstance(value, dict):
            return maker.table([(k, make(v, maker, f"{path}.{k}" if path else str(k), depth + 1))
                                for k, v in value.items()])
        return maker.array([make(v, maker, f"{path}[{i}]", depth + 1) for i, v in enumerate(value)])
    if isinstance(value, HostHandle):
        return maker.handle(value)
    if isinstance(value, SpellError):
        return maker.error(value)
    if isinstance(value, ScriptFunction):
        return maker.function(value)
    return maker.other(value, path)


#: What ValueReader.read says a value is: a ScriptValue already made, or a
#: container whose children the walker reads.
READY, ARRAY, TABLE = 0, 1, 2


class ValueReader:
    """How one language's values are read into ScriptValues: the hooks of
    :func:`read`, the one walker for everything a spell hands the host.  The
    walker owns the recursion, the nesting limit, the path an error names and
    telling a cycle from mere depth; a language says what each value is."""

    #: What a container is called in the language, for a cycle's error ("a table").
    what = "a value"

    def read(self, value: Any, path: str) -> tuple[int, Any]:
        """``(READY, script_value)``, ``(ARRAY, [(label, child)...])`` (label
        as the path shows the position) or ``(TABLE, [(key, child)...])``."""
        raise NotImplementedError

    def identity(self, value: Any) -> Any:
        """A key that is the same for the same container (to tell a cycle from depth)."""
        return id(value)


def read(value: Any, reader: ValueReader, path: str = "", depth: int = 0) -> Any:
    """A spell's ``value`` as a ScriptValue, read with ``reader``'s hooks.
    Containers may nest :data:`MAX_DEPTH` levels; one more is refused, as a
    cycle if the value contains itself."""
    kind, got = reader.read(value, path)
    if kind == READY:
        return got
    if depth >= MAX_DEPTH:
        err = depth_error(path)
        err.route = [(value, path)]  # type: ignore[attr-defined]
        raise err
    try:
        if kind == ARRAY:
            return [read(v, reader, f"{path}[{label}]", depth + 1) for label, v in got]
        return {k: read(v, reader, f"{path}.{k}" if path else k, depth + 1) for k, v in got}
    except SpellError as exc:
        # Too deep: the containers on the way down, kept on the way out (free
        # until then).  The first that comes round again is a cycle, named by
        # the path where it does, as the JavaScript prelude names it.
        route = getattr(exc, "route", None)
        if route is None:
            raise
        route.append((value, path))
        if depth:
            raise
        seen = set()
        for container, where in reversed(route):
            key = reader.identity(container)
            if key in seen:
                raise cycle_error(where, reader.what) from None
            seen.add(key)
        raise


class _HostData(ValueMaker):
    def scalar(self, value: bool | int | float | str) -> Any:
        # Valid Unicode in every language alike (wellformed.py): a lone surrogate is U+FFFD.
        return well_formed(value) if type(value) is str else value

    def table(self, items: list[tuple[Any, Any]]) -> Any:
        return {well_formed(str(k)): v for k, v in items}

    def function(self, value: ScriptFunction) -> Any:
        return value

    def other(self, value: Any, path: str) -> Any:
        raise SpellError("invalid_argument", f"{path or 'value'}: a {type(value).__name__} cannot be given to a spell")


_HOST_DATA = _HostData()


def from_python(value: Any, path: str = "") -> Any:
    """Check host data (e.g. ``--param`` values or Python API arguments) into
    ScriptValues: tuples become lists, keys become strings, anything else that
    is not a ScriptValue is refused instead of leaking a Python object."""
    return make(value, _HOST_DATA, path)
