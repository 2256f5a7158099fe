"""Bridges: the typed surface a spell sees, declared once per method.

A bridge is a class whose public methods are marked with :func:`method`.  The
method's Python signature *is* its declaration: parameter names, type hints
(``Annotated[T, "description"]``) and the docstring feed argument validation
and its error messages, the API reference, and the editor stubs.  Nothing
about a method is written twice.

Engines never call bridge methods directly; they go through the one call
path of :mod:`llmspell.dispatch` (limits, policy, :meth:`MethodSpec.bind`,
interceptors, error mapping).
"""

from __future__ import annotations

import functools
import inspect
import sys
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, get_args, get_origin

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from ..errors import SpellError
from ..values import HostHandle, ScriptFunction

if TYPE_CHECKING:
    from ..host import SpellRun


class Options(BaseModel):
    """Base for option tables: unknown keys are an error, types are strict,
    so a misspelt option is caught instead of silently ignored."""

    # defer_build: validators are built on first use, so starting a spell does
    # not pay for every option table of every bridge.
    model_config = ConfigDict(extra="forbid", strict=True, arbitrary_types_allowed=True, defer_build=True)


@dataclass(frozen=True)
class Dialect:
    """How a language names things in error messages: list positions from 0
    or 1, and its words for a table, a list and nothing."""

    index_base: int = 0
    table: str = "a table"
    list: str = "a list"
    nil: str = "nil"


LUA = Dialect(1, "a table", "a list (a sequence table)", "nil")
JAVASCRIPT = Dialect(0, "an object", "an array", "null")
TENGO = Dialect(0, "a map", "an array", "undefined")
NEUTRAL = Dialect()


_FAST_TYPES: dict[Any, tuple[type, ...]] = {
    str: (str,),
    int: (int,),
    float: (float, int),
    bool: (bool,),
    ScriptFunction: (ScriptFunction,),
    HostHandle: (HostHandle,),
}

_TYPE_WORDS = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "a boolean",
    ScriptFunction: "a function",
    HostHandle: "a handle",
    list: "a list",
    dict: "a table",
}


def describe_value(value: Any, dialect: Dialect = NEUTRAL) -> str:
    """How an argument is named in an error: by the script's idea of its type."""
    if value is None:
        return dialect.nil
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return dialect.list
    if isinstance(value, dict):
        return dialect.table
    if isinstance(value, ScriptFunction):
        return "a function"
    if isinstance(value, HostHandle):
        return "a handle"
    return "a value"


@dataclass
class Param:
    """One declared parameter of a bridge method."""

    name: str
    annotation: Any
    description: str
    required: bool
    default: Any = None
    variadic: bool = False
    fast: tuple[type, ...] | None = None
    optional: bool = False
    adapter: TypeAdapter | None = None
    is_options: bool = False

    def type_text(self) -> str:
        """A readable type for docs and stubs."""
        return type_text(self.annotation)


@dataclass(frozen=True)
class TypeWords:
    """How one audience spells types: people (docs), TypeScript, LuaLS."""

    scalars: dict
    list_of: str = "list of {}"
    any_list: str = "list"
    table_of: str = "table of {}"
    any_table: str = "table"
    nil: str = "nil"
    any: str = "any"
    literal: Callable[[Any], str] = repr


HUMAN = TypeWords({str: "string", int: "integer", float: "number", bool: "boolean", ScriptFunction: "function",
                   HostHandle: "handle", list: "list", dict: "table"})


def type_text(t: Any, words: TypeWords = HUMAN) -> str:
    """A declared type as text: the one walker behind error messages, the
    reference and the editor stubs."""
    origin = get_origin(t)
    if origin is Annotated:
        return type_text(get_args(t)[0], words)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_text(a, words) for a in get_args(t))
    if origin is typing.Literal:
        return " | ".join(words.literal(a) for a in get_args(t))
    if origin in (list, tuple):
        args = get_args(t)
        return words.list_of.format(type_text(args[0], words)) if args else words.any_list
    if origin is dict:
        args = get_args(t)
        return words.table_of.format(type_text(args[1], words)) if args else words.any_table
    if t is type(None):
        return words.nil
    if t is Any:
        return words.any
    if isinstance(t, type):
        if issubclass(t, BaseModel):
            return t.__name__
        return words.scalars.get(t, words.any)
    return str(t)


def _unwrap(annotation: Any) -> tuple[Any, str]:
    """Split ``Annotated[T, "description"]`` into ``T`` and the description."""
    if get_origin(annotation) is Annotated:
        base, *meta = get_args(annotation)
        desc = next((m for m in meta if isinstance(m, str)), "")
        return base, desc
    return annotation, ""


def _optional_of(t: Any) -> tuple[Any, bool]:
    if get_origin(t) in (typing.Union, types.UnionType):
        args = [a for a in get_args(t) if a is not type(None)]
        if len(args) < len(get_args(t)):
            return (args[0] if len(args) == 1 else typing.Union[tuple(args)]), True  # noqa: UP007
    return t, False


#: The parts of a pydantic error location that name a member of a union (``str``,
#: ``list[str]``, ``is-instance[HostHandle]``, an options class), not a place in the value.
_UNION_MEMBERS = frozenset(("str", "int", "float", "bool", "none", "list", "dict"))


def _is_union_member(part: str) -> bool:
    return part in _UNION_MEMBERS or "[" in part or "-" in part or part[:1].isupper()


def _script_path(loc: tuple, index_base: int) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part + index_base}]"
        elif isinstance(part, str):
            if _is_union_member(part):
                continue
            out += f".{part}" if out else part
    return out


def _place(loc: tuple) -> tuple:
    """A location without its union members: where in the value the error is."""
    return tuple(p for p in loc if not (isinstance(p, str) and _is_union_member(p)))


def _most_specific(errors: list[dict]) -> list[dict]:
    """The errors at the deepest place in the value (a union's members each give one, and the
    member that got furthest into the value says most), all at that one place."""
    deepest = max(errors, key=lambda e: len(_place(e["loc"])))
    place = _place(deepest["loc"])
    return [e for e in errors if _place(e["loc"]) == place]


def _error_text(err: dict, models_fields: list[str], dialect: Dialect) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    value = err.get("input")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        known = ", ".join(models_fields)
        return f"is not a known option (known: {known})" if known else "is not a known option"
    if kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", ""))
        options = [o.strip().strip("'\"") for o in expected.replace(" or ", ", ").split(",")]
        return "must be one of " + ", ".join(o for o in options if o)
    words = {
        "string_type": "a string", "int_type": "an integer", "int_from_float": "an integer",
        "float_type": "a number", "bool_type": "a boolean", "list_type": dialect.list,
        "dict_type": dialect.table, "model_type": dialect.table, "model_attributes_type": dialect.table,
        "callable_type": "a function",
        "is_instance_of": "a handle" if "HostHandle" in str(ctx.get("class", "")) else "a function",
    }
    if kind in words:
        return f"must be {words[kind]}, not {describe_value(value, dialect)}"
    msg = err.get("msg", kind)
    return msg[0].lower() + msg[1:] if msg else kind


@dataclass(eq=False)
class MethodSpec:
    """Everything known about one bridge method, from its one declaration."""

    bridge: str
    name: str
    description: str
    params: list[Param]
    returns: Any
    is_async: bool
    fn: Callable[..., Any]
    sync_in_js: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def qualname(self) -> str:
        return f"{self.bridge}.{self.name}"

    def invalid(self, text: str) -> SpellError:
        return SpellError("invalid_argument", f"{self.qualname}: {text}")

    def __post_init__(self) -> None:
        fixed = all(p.fast is not None and p.required and not p.variadic for p in self.params)
        #: For methods whose parameters are all required scalars: their types,
        #: so that the common call is checked without the general path.
        self._fast = [frozenset(p.fast) for p in self.params] if fixed else None

    def bind(self, args: list[Any], dialect: Dialect = NEUTRAL) -> list[Any]:
        """Validate positional script arguments against the declaration."""
        fast = self._fast
        if fast is not None and len(args) == len(fast):
            if len(fast) == 1:  # the usual case, without a loop
                if type(args[0]) in fast[0]:
                    return args
            else:
                for a, types in zip(args, fast):  # noqa: B905 - same length, checked above
                    if type(a) not in types:
                        break
                else:
                    return args
        params = self.params
        if params and params[-1].variadic:
            fixed = params[:-1]
        else:
            fixed = params
            if len(args) > len(params):
                # Trailing nils are what Lua and JS pass for "nothing"; drop them.
                while len(args) > len(params) and args[-1] is None:
                    args = args[:-1]
                if len(args) > len(params):
                    raise self.invalid(f"takes at most {len(params)} argument(s), got {len(args)}")
        out: list[Any] = []
        for i, p in enumerate(fixed):
            value = args[i] if i < len(args) else None
            out.append(self._check(p, value, dialect))
        if params and params[-1].variadic:
            var = params[-1]
            out.extend(self._check(var, v, dialect) for v in args[len(fixed):])
        return out

    def _check(self, p: Param, value: Any, dialect: Dialect) -> Any:
        if value is None:
            if p.required:
                raise self.invalid(f"{p.name} is required")
            return p.default
        fast = p.fast
        if fast is not None:
            if type(value) in fast and not (type(value) is bool and bool not in fast):
                return value
            if isinstance(value, fast) and not isinstance(value, bool):
                return value
            if int in fast and _whole(value):
                return int(value)
            want = _TYPE_WORDS.get(p.annotation, p.type_text())
            raise self.invalid(f"{p.name} must be {want}, not {describe_value(value, dialect)}")
        model = None if p.is_options else _union_model(p.annotation)
        if (p.is_options or model is not None) and isinstance(value, list) and not value:
            value = {}  # an empty Lua table is an empty options table
        if p.adapter is None:
            p.adapter = _adapter(p.annotation, p.is_options)
        for _ in range(_WHOLE_PASSES):
            try:
                return p.adapter.validate_python(value)
            except ValidationError as exc:
                errors = exc.errors()
            # A whole float where an integer is declared is that integer (Lua's
            # 512/2 is 256.0; JavaScript has one number type), wherever it is.
            whole = [e["loc"] for e in errors if e["type"] == "int_type" and _whole(e.get("input"))]
            fixed = value
            for loc in whole:
                fixed = _with_int_at(fixed, loc)
            if fixed is value:  # nothing found to fix: the error stands
                break
            value = fixed
        fields = list(p.annotation.model_fields) if p.is_options else []
        first = errors[0]
        if model is not None:  # a name or an options table: what the table has wrong, or what to pass
            if not isinstance(value, dict):
                raise self.invalid(f"{p.name} must be {_TYPE_WORDS.get(str)} or {dialect.table}, "
                                   f"not {describe_value(value, dialect)}")
            first = next((e for e in errors if e["loc"][:1] == (model.__name__,)), first)
            first = {**first, "loc": first["loc"][1:]}
            fields = list(model.model_fields)
        elif any(_place(e["loc"]) != tuple(e["loc"]) for e in errors):  # a union's members failed
            alike = _most_specific(errors)
            first = alike[0]
            wants = [_error_text(e, fields, dialect) for e in alike]
            if len(alike) > 1 and all(w.startswith("must be ") and ", not " in w for w in wants):
                # one value that fits no member of a union: "must be a string or a handle, not ..."
                kinds = list(dict.fromkeys(w[len("must be "):w.index(", not ")] for w in wants))
                first = {"type": "union", "loc": first["loc"], "msg": f"must be {' or '.join(kinds)}"
                         f"{wants[0][wants[0].index(', not '):]}"}
        path = _script_path(first["loc"], dialect.index_base)
        if not p.is_options:
            path = p.name + (path if path.startswith("[") else ("." + path if path else ""))
        elif not path:
            path = p.name
        raise self.invalid(f"{path} {_error_text(first, fields, dialect)}") from None


def _union_model(annotation: Any) -> type[BaseModel] | None:
    """The options table of a ``str | Options`` parameter (a name, or a table of one's own), else None."""
    if get_origin(annotation) not in (typing.Union, types.UnionType):
        return None
    args = get_args(annotation)
    models = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel)]
    return models[0] if len(models) == 1 and set(args) == {str, models[0]} else None


#: How many times a value is validated again after its whole floats were made ints.
_WHOLE_PASSES = 4


def _whole(value: Any) -> bool:
    """A float that is an integer (of the 64-bit range every language shares)."""
    return type(value) is float and value.is_integer() and -(2.0 ** 63) <= value < 2.0 ** 63


def _with_int_at(value: Any, loc: tuple) -> Any:
    """``value`` with the whole float at ``loc`` (a pydantic error location)
    made an int: the containers on the way are copied, never changed (the
    spell's value may be shared).  A part of ``loc`` that names no container
    (a union's member) is skipped."""
    if not loc:
        return int(value) if _whole(value) else value
    key, rest = loc[0], loc[1:]
    if isinstance(value, dict) and key in value:
        return {**value, key: _with_int_at(value[key], rest)}
    if isinstance(value, list) and isinstance(key, int) and 0 <= key < len(value):
        copy = list(value)
        copy[key] = _with_int_at(value[key], rest)
        return copy
    return _with_int_at(value, rest)


def method(fn: Callable[..., Any] | None = None, *, sync_in_js: bool = False) -> Any:
    """Mark a bridge method.  ``sync_in_js``: the method is pure and has a
    JavaScript twin in the prelude, so JS never crosses to the host for it."""

    def mark(f: Callable[..., Any]) -> Callable[..., Any]:
        f.__llmspell_method__ = {"sync_in_js": sync_in_js}  # type: ignore[attr-defined]
        return f

    return mark(fn) if fn is not None else mark


def _adapter(annotation: Any, is_options: bool) -> TypeAdapter:
    if is_options:
        return TypeAdapter(annotation)
    return TypeAdapter(annotation, config=ConfigDict(strict=True, arbitrary_types_allowed=True))


def _build_spec(bridge_name: str, fn: Callable[..., Any], flags: dict) -> MethodSpec:
    hints = typing.get_type_hints(fn, include_extras=True)
    sig = inspect.signature(fn)
    params: list[Param] = []
    for name, p in list(sig.parameters.items())[1:]:  # skip self
        base, desc = _unwrap(hints.get(name, Any))
        inner, optional = _optional_of(base)
        required = p.default is inspect.Parameter.empty and p.kind is not inspect.Parameter.VAR_POSITIONAL
        default = None if p.default is inspect.Parameter.empty else p.default
        is_options = isinstance(inner, type) and issubclass(inner, BaseModel)
        fast = _FAST_TYPES.get(inner)
        if inner is Any:
            fast = None
        param = Param(
            name=name, annotation=inner, description=desc, required=required and not optional,
            default=default, variadic=p.kind is inspect.Parameter.VAR_POSITIONAL, fast=fast,
            optional=optional, is_options=is_options,
        )
        params.append(param)
    ret, _ = _unwrap(hints.get("return", Any))
    doc = inspect.getdoc(fn) or ""
    return MethodSpec(
        bridge=bridge_name, name=fn.__name__, description=doc, params=params, returns=ret,
        is_async=inspect.iscoroutinefunction(fn), fn=fn, sync_in_js=flags.get("sync_in_js", False),
    )


@dataclass(frozen=True)
class VMMember:
    """A member a bridge's VM code adds in one language, as the reference shows it."""

    #: ``json.array([t])`` for a function, ``json.null`` for a value.
    signature: str
    #: Its type (of the result, for a function) in Lua's words: ``table``.
    type: str
    description: str


class Bridge:
    """A global (``llm``, ``json``...) or a handle type (an agent) of the spell API.

    Subclasses set ``name`` and mark methods with :func:`method`.  One
    instance exists per spell run, so bridges may keep per-run state.
    """

    name: ClassVar[str] = ""
    description: ClassVar[str] = ""
    specs: ClassVar[dict[str, MethodSpec]] = {}
    #: A method that takes any other member name as its first argument
    #: (``tools.file_read(p)`` is ``tools.call("file_read", p)``), or None.
    dynamic_method: ClassVar[str | None] = None
    #: Code this bridge needs inside the VM of a language (a JavaScript async
    #: iterator, Lua's ``require`` shim), by language: the name of a file next
    #: to the bridge's module.  The engine installs it on the bridge's global
    #: (see :meth:`vm_source`), so a prelude names no bridge.
    vm_code: ClassVar[dict[str, str]] = {}
    #: Methods whose result is source code that the bridge's VM code runs in
    #: the VM (``spell.require``'s module): method name -> the result's fields
    #: holding the source and its name.  An engine that counts instructions in
    #: the source text (JavaScript) counts these too.
    vm_runs: ClassVar[dict[str, tuple[str, str]]] = {}
    #: Members that the bridge's VM code adds in one language (Lua's
    #: ``json.null``), for the reference and the stubs: language -> members.
    vm_members: ClassVar[dict[str, list[VMMember]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        specs: dict[str, MethodSpec] = {}
        for base in reversed(cls.__mro__[1:]):
            specs.update(getattr(base, "specs", {}))
        for attr, value in cls.__dict__.items():
            flags = getattr(value, "__llmspell_method__", None)
            if flags is not None:
                specs[attr] = _build_spec(cls.name, value, flags)
        cls.specs = specs

    def __init__(self, host: SpellRun) -> None:
        self.host = host

    def handle(self) -> HostHandle:
        """This bridge instance as a value a spell can hold."""
        return HostHandle(self, self.name)

    @classmethod
    def vm_source(cls, language: str) -> str | None:
        """The text of this bridge's VM code for ``language`` (see ``vm_code``), or None."""
        name = cls.vm_code.get(language)
        return None if name is None else _vm_file(cls.__module__, name)

    def script_attributes(self) -> dict[str, Any]:
        """Plain (non-method) fields the script sees on this object, e.g. a
        handle's ``name``; none by default."""
        return {}


@functools.cache
def _vm_file(module: str, name: str) -> str:
    """A bridge's VM code file, read once per process."""
    mod = sys.modules[module]
    folder = resources.files(mod.__package__) if mod.__package__ else Path(mod.__file__ or "").parent
    return folder.joinpath(name).read_text(encoding="utf-8")
