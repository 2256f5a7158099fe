"""Built-in tools spells and agents can call; every I/O one goes through the sandbox."""

from .calculator import calculator
from .clock import datetime
from .files import file_list, file_read, file_write
from .jsonquery import json_query
from .registry import TOOL_SPECS, ToolContext, ToolSpec, call_tool
from .web import http_get, web_search

__all__ = [
    "TOOL_SPECS", "ToolContext", "ToolSpec", "calculator", "call_tool", "datetime", "file_list", "file_read",
    "file_write", "http_get", "json_query", "web_search",
]
