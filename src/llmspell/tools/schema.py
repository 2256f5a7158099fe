"""Tool parameters as JSON Schema: the one place a tool's schema is checked, its
positional order decided and its arguments validated.

A tool registered at run time may describe its parameters in a short form
(``{path = {type = "string", required = true}}``), as a list of them
(``{{name = "path", type = "string", required = true}, ...}``) or as a full
JSON Schema object; each becomes a JSON Schema object here, checked to be a
valid schema before the tool exists.  Arguments are validated with the
``jsonschema`` library (Draft 2020-12), built-in and registered tools alike,
with one error format for the first failing path: ``NAME: PATH must be a
string, not a function`` (a value is named by its JSON type, the same whatever
the caller's language, and a scalar shown cut short: never a Python repr,
never a megabyte argument copied into a message) or ``NAME: PATH: MESSAGE``.

Positional order (``tools.NAME(a, b)``): a Lua table, a Tengo map and a
JSON object given as a map have no order the host can trust (Lua's and Go's
iteration order is arbitrary, JavaScript puts integer-like keys first), so
the order is never the map's.  It is :func:`positional_order`: the list
form's order when the parameters were given as a list; otherwise the
schema's ``required`` names (a list, so in the order written), then the other
properties sorted by name.  The same spell binds the same way in every
language.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from llmspell.errors import SpellError

_JSON_TYPES = {"string", "number", "integer", "boolean", "object", "array", "null"}


def to_json_schema(parameters: Mapping[str, Any] | list | None, where: str) -> dict:
    """The short ``{name = {type=..., required=true}}`` form, the list form
    ``{{name=..., type=..., required=true}, ...}`` or a full JSON Schema object,
    as a JSON Schema object (checked to be a valid schema).  ``where`` starts
    the error messages (``tools.register``)."""
    if not parameters:
        return {"type": "object", "properties": {}, "additionalProperties": False}
    if isinstance(parameters, list):
        return _short_form(_listed(parameters, where), where)
    if not isinstance(parameters, Mapping):
        raise SpellError("invalid_argument", f"{where}: parameters must be a table of parameters, a list of "
                         "them or a JSON Schema object")
    if parameters.get("type") == "object" or "properties" in parameters:
        schema = dict(parameters)
        schema.setdefault("type", "object")
        _check_schema(schema, where)
        return schema
    return _short_form(dict(sorted(parameters.items())), where)  # a map's order is no order


def listed_order(parameters: Any) -> tuple[str, ...] | None:
    """The names of parameters given as a list, in its order (None for a map or a schema)."""
    if isinstance(parameters, list) and parameters:
        return tuple(spec["name"] for spec in parameters)
    return None


def positional_order(schema: Mapping[str, Any], listed: tuple[str, ...] | None = None) -> list[str]:
    """The order positional arguments fill a tool's parameters (see the module's docstring)."""
    if listed is not None:
        return list(listed)
    props = schema.get("properties") or {}
    required = [name for name in schema.get("required") or () if isinstance(name, str) and name in props]
    seen = set(required)
    return list(dict.fromkeys(required)) + sorted(name for name in props if name not in seen)


def _listed(parameters: list, where: str) -> dict[str, Any]:
    """The list form as the short form (a dict keeps the list's order)."""
    out: dict[str, Any] = {}
    for i, spec in enumerate(parameters, 1):
        name = spec.get("name") if isinstance(spec, dict) else None
        if not isinstance(name, str) or not name:
            raise SpellError("invalid_argument", f"{where}: parameters[{i}] must be a table with a name, like "
                             "{name = \"path\", type = \"string\", required = true}")
        if name in out:
            raise SpellError("invalid_argument", f"{where}: parameters[{i}]: {name!r} is listed twice")
        out[name] = {k: v for k, v in spec.items() if k != "name"}
    return out


def _short_form(parameters: Mapping[str, Any], where: str) -> dict:
    props: dict[str, Any] = {}
    required = []
    for name, spec in parameters.items():
        if not isinstance(spec, dict):
            raise SpellError("invalid_argument", f"{where}: parameters.{name} must be a table like "
                             "{type = \"string\", required = true}")
        spec = dict(spec)
        if spec.pop("required", False):
            required.append(name)
        if "type" in spec and spec["type"] not in _JSON_TYPES:
            raise SpellError("invalid_argument", f"{where}: parameters.{name}.type must be one of "
                             + ", ".join(sorted(_JSON_TYPES)))
        props[name] = spec
    schema = {"type": "object", "properties": props, "required": required}
    _check_schema(schema, where)
    return schema


def _check_schema(schema: dict, where: str) -> None:
    import jsonschema  # lazily: only spells that register tools pay for it

    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise SpellError("invalid_argument", f"{where}: parameters is not a valid JSON Schema: {exc.message}") \
            from None


def validator(schema: Mapping[str, Any]) -> Any:
    """A validator for ``schema`` (build it once per tool: building costs more than a small request)."""
    import jsonschema  # lazily: only tool calls pay for it

    return jsonschema.Draft202012Validator(dict(schema))


def check_arguments(tool: str, checker: Any, params: Mapping[str, Any]) -> None:
    """Raise ``invalid_argument`` naming the first failing path if ``params`` do not fit the schema."""
    errors = sorted(checker.iter_errors(dict(params)), key=lambda e: list(e.path))
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first.path)
        text = _error_text(first)
        if text[0] == " ":  # "must be ...": said of the path
            message = f"{tool}: {where or 'the arguments'}{text}"
        else:
            message = f"{tool}: {where}: {text}" if where else f"{tool}: {text}"
        raise SpellError("invalid_argument", _cut(message, _MAX_MESSAGE))


#: How much of a value, and of a whole message, an argument's error may show:
#: a spell's argument may be megabytes, its error stays a line.
_MAX_SHOWN = 40
_MAX_MESSAGE = 300

#: JSON Schema's types as an error names them: a tool's arguments are JSON-like
#: data whatever the caller's language (a spell, or a model on an agent's behalf).
_TYPE_WORDS = {"string": "a string", "number": "a number", "integer": "an integer", "boolean": "a boolean",
               "object": "an object", "array": "an array", "null": "null"}

_BOUNDS = {"minimum": ">=", "maximum": "<=", "exclusiveMinimum": ">", "exclusiveMaximum": "<"}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _kind(value: Any) -> str:
    """What a value is, in JSON's words (never the value, never a Python repr)."""
    from llmspell.bridges.base import JAVASCRIPT, describe_value

    return describe_value(value, JAVASCRIPT)  # JavaScript's words for containers are JSON's


def _show(value: Any) -> str:
    """A value as an error shows it: a scalar as JSON writes it (a string cut
    short), anything else by what it is."""
    if value is None or isinstance(value, (bool, int, float)):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(_cut(value, _MAX_SHOWN), ensure_ascii=False)
    return _kind(value)


def _error_text(err: Any) -> str:
    """What is wrong, in the spell's words: " must be ..." (said of the path)
    or a sentence.  jsonschema's own messages start with the value's Python
    repr, whole: that part is replaced."""
    kind, want, value = err.validator, err.validator_value, err.instance
    if kind == "type":
        types = [want] if isinstance(want, str) else list(want)
        return " must be " + " or ".join(_TYPE_WORDS.get(t, t) for t in types) + f", not {_kind(value)}"
    if kind == "enum":
        return " must be one of " + ", ".join(_show(v) for v in want) + f", not {_show(value)}"
    if kind == "const":
        return f" must be {_show(want)}, not {_show(value)}"
    if kind in _BOUNDS:
        return f" must be {_BOUNDS[kind]} {_show(want)}, not {_show(value)}"
    if kind in ("minLength", "maxLength") and isinstance(value, str):
        most = "at most" if kind == "maxLength" else "at least"
        return f" must be {most} {want} characters long, not {len(value)}"
    if kind in ("minItems", "maxItems") and isinstance(value, list):
        most = "at most" if kind == "maxItems" else "at least"
        return f" must have {most} {want} items, not {len(value)}"
    if kind == "pattern":
        return f" must match the pattern {_show(want)}, not {_show(value)}"
    message = err.message
    shown = repr(value)
    if message.startswith(shown):
        message = _show(value) + message[len(shown):]
    return message
