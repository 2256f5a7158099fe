"""A structured answer: the JSON Schema a spell gives, as pydantic-ai's output type and our validation.

pydantic-ai asks the model for the answer as the arguments of an output tool
whose parameters are the schema (``StructuredDict``); it checks nothing
against the schema itself, so the answer is validated here with the
``jsonschema`` library (as tool arguments are, tools/schema.py).  An invalid
answer goes back to the model as a retry naming the failing path
(``items[1].price must be a number, not a string``); when the retries are
spent the run fails with ``validation_error`` and that same text.  A schema
that is not an object (a list, a string) is wrapped in an object of one
``value`` and unwrapped again, since an output tool takes an object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from llmspell.errors import SpellError

#: The field a schema that is not an object is wrapped in.
_WRAPPED = "value"


def check_schema(schema: Mapping[str, Any], where: str) -> None:
    """``invalid_argument`` unless ``schema`` is a valid JSON Schema (Draft 2020-12)."""
    import jsonschema

    try:
        jsonschema.Draft202012Validator.check_schema(dict(schema))
    except jsonschema.SchemaError as exc:
        raise SpellError("invalid_argument", f"{where} is not a valid JSON Schema: {exc.message}") from None


def json_path(path: Any) -> str:
    """A path of keys and indexes as a spell writes it: ``items[1].price`` (indexes from 0, as in JSON)."""
    out = ""
    for step in path:
        if isinstance(step, int):
            out += f"[{step}]"
        else:
            out += f".{step}" if out else str(step)
    return out


@dataclass
class StructuredOutput:
    """The output type of an agent and the check of its answers against the schema."""

    schema: Mapping[str, Any]
    _checker: Any = field(default=None, repr=False)

    @property
    def wrapped(self) -> bool:
        return self.schema.get("type") != "object" and "properties" not in self.schema

    def output_type(self) -> Any:
        """What to give ``Agent(output_type=...)``."""
        from pydantic_ai import StructuredDict

        schema = dict(self.schema)
        if self.wrapped:
            schema = {"type": "object", "properties": {_WRAPPED: schema}, "required": [_WRAPPED]}
        else:
            schema.setdefault("type", "object")
        return StructuredDict(schema, name="final_result", description="The final answer, as the schema says.")

    def check(self, data: Any) -> tuple[Any, str | None]:
        """``(the answer unwrapped, None)`` if ``data`` is valid against the schema, else ``(None, what is
        wrong)`` naming the first failing path."""
        from llmspell.tools.schema import _error_text  # one wording for every schema error

        value = dict(data).get(_WRAPPED) if self.wrapped and isinstance(data, Mapping) else data
        if isinstance(value, Mapping):
            value = dict(value)
        if self._checker is None:
            import jsonschema

            self._checker = jsonschema.Draft202012Validator(dict(self.schema))
        errors = sorted(self._checker.iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])
        if not errors:
            return value, None
        first = errors[0]
        where = json_path(first.absolute_path)
        text = _error_text(first)
        if text.startswith(" "):
            message = f"{where or 'the answer'}{text}"
        else:
            message = f"{where}: {text}" if where else text
        return None, message[:300]

    @staticmethod
    def spent(last_failure: str | None) -> SpellError:
        """The error of a run whose retries are spent (``last_failure``: why the last answer was refused)."""
        return SpellError("validation_error", last_failure or "the model answered with text, not a value "
                          "of the schema")
