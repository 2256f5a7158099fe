"""Templates in a step's prompt and params: ``{{topic}}``, ``{{search.output}}``, ``{{items[0].title}}``.

A template is filled from the workflow's inputs and the results of the steps
before it.  The spell wrote the template, so it is hostile text: it is
rendered by Jinja2's :class:`~jinja2.sandbox.SandboxedEnvironment` (no
attribute of a Python object beyond plain data, no ``eval``), with
:class:`~jinja2.StrictUndefined`, so a name that is not there is an error
naming it instead of an empty string slipped into a prompt.

A params value that is exactly one ``{{ expression }}`` keeps the value's own
type (a list stays a list, a number a number): a tool's parameters are data,
not text.  Everything else renders to a string.  Templates are compiled when
the step is added, so a syntax error is reported there, once.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import ItemsView, Iterator, KeysView, Mapping, ValuesView
from typing import Any

from jinja2 import StrictUndefined, TemplateError, Undefined, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from llmspell.errors import SpellError

#: A string that is one expression and nothing else.
_WHOLE = re.compile(r"^\{\{(.*)\}\}$", re.DOTALL)
_MISSING = (re.compile(r"'([^']*)' is undefined"), re.compile(r"has no attribute '([^']*)'"),
            re.compile(r"has no element ([^\s]+)"))


class _NotData(Exception):
    """A template gave something that is not data (a method, a function): never shown, never passed on."""


def _data(value: Any, depth: int = 0) -> Any:
    """``value`` as plain data -- the sequences a filter makes (``map``, ``batch``, ``range``, ``items()``)
    become lists -- or :class:`_NotData` for anything else, so no host object leaves a template."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, Undefined):
        str(value)  # StrictUndefined: raises, naming what is missing
    if depth > 64:
        raise _NotData("a value nested too deep")
    if isinstance(value, Mapping):
        return {str(k): _data(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple, range, Iterator, KeysView, ValuesView, ItemsView)):
        out = []
        for item in value:
            out.append(_data(item, depth + 1))
            if len(out) > MAX_TEXT:
                raise _NotData(f"a list of more than {MAX_TEXT} items")
        return out
    raise _NotData("a function or an object, not data")


def _shown(value: Any) -> Any:
    """How a value reads inside text: data as JSON (``true``, ``null``, ``[1,2]``), a whole number without
    ``.0`` (JavaScript cannot tell 2.0 from 2), so a prompt reads the same in every spell language."""
    value = _data(value)
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer() and abs(value) < 2.0 ** 53:
        return str(int(value))
    if value is None or isinstance(value, (bool, list, dict)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


class _Sandbox(SandboxedEnvironment):
    """Jinja2's sandbox, narrowed to what a template in a prompt needs: no statements (no loops), no
    filters, globals or string methods that make text of a size the template chooses (``center``,
    ``"x" * n``, ``"%9999999d"``), nothing random (a run should be repeatable), and no value built larger
    than :data:`MAX_TEXT`.  Expressions, fields, items and the other filters (``join``, ``length``,
    ``upper``, ``default``, ``tojson``, ...) stay."""

    intercepted_binops = frozenset(("*", "**", "%"))

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "%" and isinstance(left, str):
            raise SecurityError("string formatting with % is not supported")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_TEXT:
                    raise SecurityError(f"a value larger than {MAX_TEXT} items")
        if operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1 \
                and right * max(left.bit_length(), 1) > 4096:
            raise SecurityError("a number that large")
        return super().call_binop(context, operator, left, right)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in _SIZED_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)


#: The largest string or list a template may build (characters or items).
MAX_TEXT = 1 << 20
#: String methods whose result's size is an argument.
_SIZED_METHODS = frozenset(("center", "ljust", "rjust", "zfill", "expandtabs", "replace", "format", "format_map"))
#: Filters left out, for the same reasons (sizes chosen by the template, randomness, Python's own repr).
_DROPPED_FILTERS = ("center", "indent", "wordwrap", "format", "replace", "slice", "random", "pprint")


@functools.cache
def _env() -> SandboxedEnvironment:
    env = _Sandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, finalize=_shown)
    for name in _DROPPED_FILTERS:
        env.filters.pop(name, None)
    env.globals = {"range": env.globals["range"], "dict": env.globals["dict"]}
    return env


@functools.lru_cache(maxsize=512)
def _template(text: str) -> Any:
    return _env().from_string(text)


@functools.lru_cache(maxsize=512)
def _expression(text: str) -> Any:
    """The compiled expression of a text that is one ``{{ expression }}`` and nothing else, or None."""
    whole = _WHOLE.match(text)
    if whole is None or "}}" in whole.group(1) or "{{" in whole.group(1):
        return None
    return _env().compile_expression(whole.group(1), undefined_to_none=False)


def is_template(text: str) -> bool:
    """Whether ``text`` has anything to fill (plain text is left as it is, unparsed)."""
    return "{{" in text or "{%" in text


def check(text: str, where: str) -> None:
    """Compile ``text`` now: ``invalid_argument`` naming ``where`` for a template that does not parse."""
    if is_template(text):
        if "{%" in text:
            raise SpellError("invalid_argument", f"{where}: the template {_short(text)} has a statement "
                             "({% ... %}); templates are expressions only",
                             hint="fill a value with {{ name }}; join a list with {{ items | join(', ') }}")
        try:
            _template(text)
        except RecursionError:
            raise SpellError("invalid_argument", f"{where}: the template {_short(text)} nests too deep") from None
        except TemplateError as exc:
            raise SpellError("invalid_argument", f"{where}: the template {_short(text)} does not parse: "
                             f"{exc.message or exc}") from None


def check_all(value: Any, where: str) -> None:
    """:func:`check` every string inside ``value`` (lists and tables walked)."""
    for text, at in _strings(value, where):
        check(text, at)


def fill(text: str, names: Mapping[str, Any], where: str, *, native: bool = False) -> Any:
    """``text`` with its templates filled from ``names``; with ``native`` a lone ``{{ expression }}``
    gives its value as it is.  ``invalid_argument`` naming ``where`` and the missing name."""
    if not is_template(text):
        return text
    check(text, where)
    try:
        expression = _expression(text) if native else None
        if expression is not None:
            value = expression(dict(names))
            if isinstance(value, StrictUndefined):
                str(value)  # raises, naming what is missing
            return _data(value)
        return _template(text).render(dict(names))
    except UndefinedError as exc:
        missing = _missing_name(str(exc.message or exc))
        raise SpellError("invalid_argument", f"{where}: the template {_short(text)} names {missing}, which is "
                         "not an input or the result of an earlier step",
                         hint="inputs are read as {{name}}, earlier steps as {{step.output}}") from None
    except _NotData as exc:
        raise SpellError("invalid_argument", f"{where}: the template {_short(text)} gives {exc}") from None
    except SecurityError as exc:
        found = re.search(r"attribute '([^']*)'", str(exc))
        why = f"it reaches for the attribute {found.group(1)!r}, which is not data" if found else str(exc)
        raise SpellError("permission_denied", f"{where}: the template {_short(text)} is refused: {why}") from None
    except TemplateError as exc:
        raise SpellError("invalid_argument", f"{where}: the template {_short(text)} failed: "
                         f"{exc.message or exc}") from None
    except RecursionError:
        raise SpellError("invalid_argument", f"{where}: the template {_short(text)} nests too deep") from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise SpellError("invalid_argument", f"{where}: the template {_short(text)} failed: {exc}") from None


def fill_all(value: Any, names: Mapping[str, Any], where: str) -> Any:
    """``value`` (params: a table, a list, a string) with every string filled; the input is not changed."""
    if isinstance(value, str):
        return fill(value, names, where, native=True)
    if isinstance(value, Mapping):
        return {k: fill_all(v, names, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list):
        return [fill_all(v, names, f"{where}[{i}]") for i, v in enumerate(value)]
    return value


def _strings(value: Any, where: str) -> Any:
    if isinstance(value, str):
        yield value, where
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _strings(v, f"{where}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{where}[{i}]")


def _missing_name(text: str) -> str:
    for pattern in _MISSING:
        found = pattern.search(text)
        if found is not None:
            return repr(found.group(1))
    return "a value that is not there"


def _short(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "...")
