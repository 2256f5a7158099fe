"""Tool parameters as JSON Schema: the one place a tool's schema is checked and its arguments validated.

A tool registered at run time may describe its parameters in a short form
(``{path = {type = "string", required = true}}``) or as a full JSON Schema
object; either becomes a JSON Schema object here, checked to be a valid schema
before the tool exists.  Arguments are validated with the ``jsonschema``
library (Draft 2020-12), built-in and registered tools alike, with one error
format: ``NAME: PATH: MESSAGE`` for the first failing path.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmspell.errors import SpellError

_JSON_TYPES = {"string", "number", "integer", "boolean", "object", "array", "null"}


def to_json_schema(parameters: Mapping[str, Any] | None, where: str) -> dict:
    """The short ``{name = {type=..., required=true}}`` form, or a full JSON
    Schema object, as a JSON Schema object (checked to be a valid schema).
    ``where`` starts the error messages (``tools.register``)."""
    if not parameters:
        return {"type": "object", "properties": {}, "additionalProperties": False}
    if parameters.get("type") == "object" or "properties" in parameters:
        schema = dict(parameters)
        schema.setdefault("type", "object")
    else:
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
    import jsonschema  # lazily: only spells that register tools pay for it

    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise SpellError("invalid_argument", f"{where}: parameters is not a valid JSON Schema: {exc.message}") \
            from None
    return schema


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
        prefix = f"{tool}: {where}: " if where else f"{tool}: "
        raise SpellError("invalid_argument", prefix + first.message)
