"""Tools spells and agents can call: the built-in ones (every I/O one goes through the sandbox),
one run's registry of them (:mod:`.service`) and the one validation of their arguments (:mod:`.schema`)."""

from .calculator import calculator
from .clock import datetime
from .files import file_list, file_read, file_write
from .jsonquery import json_query
from .registry import TOOL_SPECS, ToolContext, ToolSpec
from .schema import to_json_schema
from .service import ToolService
from .web import http_get, web_search

__all__ = [
    "TOOL_SPECS", "ToolContext", "ToolService", "ToolSpec", "calculator", "datetime", "file_list", "file_read",
    "file_write", "http_get", "json_query", "to_json_schema", "web_search",
]
