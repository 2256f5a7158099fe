"""The built-in tools as data: name, description, JSON Schema, function.

:class:`ToolSpec` is also the shape of a tool registered at run time (see
:mod:`.service`, which holds one run's tools, binds positional arguments and
calls them).  Arguments are validated against the schema (:mod:`.schema`)
before the function runs.  Host-side context a tool needs (the policy, the
spell's folder, the search endpoint) is passed by :meth:`ToolSpec.invoke` from
a :class:`ToolContext`, never by the caller.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmspell.sandbox.policy import Policy

from .calculator import calculator
from .clock import datetime
from .files import file_list, file_read, file_write
from .jsonquery import MAX_EXPRESSION_LENGTH, json_query
from .schema import check_arguments, positional_order, validator
from .web import http_get, web_search


@dataclass(frozen=True)
class ToolContext:
    """What the host supplies to tools for one run."""

    policy: Policy = field(default_factory=Policy)
    #: The spell's folder: relative paths start here.
    base: Path | None = None
    #: Search service for web_search (see :mod:`.web`); None = not configured.
    search_endpoint: str | None = None
    search_headers: Mapping[str, str] = field(default_factory=dict)
    #: ``count_write(n)``: takes n bytes from the run's write quota or raises (SpellRun.count_write).
    count_write: Callable[[int], None] | None = None


@dataclass(frozen=True)
class ToolSpec:
    """One tool.  ``parameters`` is a JSON Schema object; positional arguments
    fill them in ``order`` if given (parameters registered as a list), else by
    :func:`~.schema.positional_order` (``required`` first, then by name);
    ``uses`` names the context the function takes: ``policy`` (first
    argument), ``base``, ``search``, ``quota`` (keywords)."""

    name: str
    description: str
    parameters: dict
    function: Callable[..., Any]
    uses: tuple[str, ...] = ()
    #: The function takes the parameters as one dict, exactly as given (a tool
    #: registered at run time); otherwise as keywords, with unset (None) ones
    #: left out so that the function's own defaults apply.
    takes_dict: bool = False
    #: The positional order of parameters given as a list (see :mod:`.schema`).
    order: tuple[str, ...] | None = None

    @functools.cached_property
    def positional(self) -> list[str]:
        """Parameter names in the order positional arguments fill them."""
        return positional_order(self.parameters, self.order)

    def describe(self) -> dict:
        """``{name, description, parameters}`` as ``tools.list()`` shows it."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    @functools.cached_property
    def _validator(self) -> Any:
        """Built once per tool: building one costs more than a small request (bench/http_throughput.py)."""
        return validator(self.parameters)

    def validate(self, params: Mapping[str, Any]) -> None:
        """Raise ``invalid_argument`` (``NAME: PATH: MESSAGE``) if ``params`` do not fit the schema."""
        check_arguments(self.name, self._validator, params)

    async def invoke(self, params: Mapping[str, Any] | None, context: ToolContext) -> Any:
        """Validate ``params`` and run the tool with the host context it needs."""
        if self.takes_dict:
            params = dict(params or {})
            self.validate(params)
            return await self.function(params)
        params = {k: v for k, v in (params or {}).items() if v is not None}
        self.validate(params)
        args: list[Any] = [context.policy] if "policy" in self.uses else []
        kwargs: dict[str, Any] = dict(params)
        if "base" in self.uses:
            kwargs["base"] = context.base
        if "quota" in self.uses:
            kwargs["count_write"] = context.count_write
        if "search" in self.uses:
            kwargs["endpoint"] = context.search_endpoint
            kwargs["headers"] = dict(context.search_headers)
        result = self.function(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return result


def _schema(properties: dict[str, dict], required: tuple[str, ...]) -> dict:
    return {"type": "object", "properties": properties, "required": list(required),
            "additionalProperties": False}


_PATH = {"type": "string", "minLength": 1,
         "description": "a file path, relative to the spell's folder or absolute"}

TOOL_SPECS: dict[str, ToolSpec] = {spec.name: spec for spec in (
    ToolSpec("file_read", "Read a UTF-8 text file and return its contents.",
             _schema({"path": _PATH}, ("path",)), file_read, ("policy", "base")),
    ToolSpec("file_write", "Write text to a file, replacing it; missing folders are created. "
             "Returns {path, bytes}.",
             _schema({"path": _PATH, "content": {"type": "string", "description": "the text to write"}},
                     ("path", "content")), file_write, ("policy", "base", "quota")),
    ToolSpec("file_list", "List a folder: [{name, type, size}] with type file, dir, symlink or other.",
             _schema({"path": {**_PATH, "description": "the folder to list (default: the spell's folder)"}},
                     ()), file_list, ("policy", "base")),
    ToolSpec("http_get", "Fetch a URL with HTTP GET. Returns {status, headers, body}.",
             _schema({"url": {"type": "string", "description": "an http or https URL"}}, ("url",)),
             http_get, ("policy",)),
    ToolSpec("web_search", "Search the web. Returns [{title, url, snippet}].",
             _schema({"query": {"type": "string", "minLength": 1, "description": "what to search for"},
                      "max_results": {"type": "integer", "minimum": 1, "maximum": 20,
                                      "description": "how many results (default 5)"}},
                     ("query",)), web_search, ("policy", "search")),
    ToolSpec("calculator", "Evaluate an arithmetic expression: numbers, + - * / // % **, parentheses, "
             "pi, e, and sqrt, exp, log, log10, log2, sin, cos, tan, asin, acos, atan, atan2, hypot, "
             "degrees, radians, floor, ceil, abs, round, min, max, factorial.",
             _schema({"expression": {"type": "string", "minLength": 1, "description": "e.g. 2 * (3 + 4)"}},
                     ("expression",)), calculator),
    ToolSpec("datetime", "The current date and time: {iso, unix, timezone, utc_offset}.",
             _schema({"timezone": {"type": "string",
                                   "description": "an IANA time zone such as Europe/Paris (default: local)"}},
                     ()), datetime),
    ToolSpec("json_query", "Query JSON data with a JMESPath expression (jmespath.org): items[0].name, "
             "items[-1], items[*].name, items[?price > `10`].name, length(items), sort_by(items, &price); "
             "0-based indexes; null when nothing matches.",
             _schema({"data": {"description": "the data, or a JSON string"},
                      "path": {"type": "string", "minLength": 1, "maxLength": MAX_EXPRESSION_LENGTH,
                               "description": "a JMESPath expression, e.g. items[0].name"}},
                     ("data", "path")), json_query),
)}

