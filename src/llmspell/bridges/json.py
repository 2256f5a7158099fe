"""``json``: encode and decode JSON, with the same text in every language.

A thin bridge over the one JSON writer and reader (_json_text, whose rules
say the number format, the key order and what is refused); JavaScript runs its
twin in the VM (json.js).  Lua has no null a table can hold and no array type:
its VM code (json.lua) adds ``json.null`` and ``json.array``, and the arrays
``json.decode`` gives it carry that marker, so a round trip keeps ``[]`` and
``[1,null,3]``.
"""

from __future__ import annotations

from typing import Annotated, Any

from .. import _json_text
from .base import Bridge, Options, VMMember, method


class EncodeOptions(Options):
    indent: Annotated[int | None, "spaces per level, 0 to 10; none or 0 for one line"] = None


class JsonBridge(Bridge):
    name = "json"
    description = ("JSON text to and from script values: the same text in every language (keys sorted, "
                   "numbers as JavaScript writes them). In Lua, `json.null` stands for a null inside "
                   "data and `json.array(t)` marks a table as an array (decoded arrays carry the mark), "
                   "so `[]` and `[1,null]` survive a round trip.")
    #: JavaScript runs its twin of this bridge in the VM (pure, and cheaper than a host call);
    #: Lua gets json.null and json.array.
    vm_code = {"javascript": "json.js", "lua": "json.lua"}
    vm_members = {"lua": [
        VMMember("json.null", "table", "Stands for a null inside data (Lua's nil cannot hold a place in a "
                 "table): json.decode gives it for null in arrays and objects, json.encode writes it as null. "
                 "It is a table, so it is true in a condition: compare with `== json.null`."),
        VMMember("json.array([t])", "table", "Marks t (a table without a metatable of its own; a new empty "
                 "table if none) as an array, so json.encode writes it as [...] even when empty, and returns "
                 "it. Arrays from the host (json.decode, tool results) carry the mark; a nil between their "
                 "elements is refused (use json.null)."),
    ]}

    @method(sync_in_js=True)
    def encode(self, value: Annotated[Any, "the value to write (nil/null/undefined: null)"] = None,
               opts: Annotated[EncodeOptions | None, "formatting"] = None) -> str:
        """Write a value as JSON text, keys sorted; NaN and infinity are refused."""
        return _json_text.encode(value, opts.indent if opts else None)

    @method(sync_in_js=True)
    def decode(self, text: Annotated[str, "JSON text"]) -> Any:
        """Read JSON text into a value; NaN, Infinity and trailing text are refused.

        An integer beyond 64 bits reads as a float (as in JavaScript); in Lua a null inside
        data is json.null and arrays carry json.array's mark."""
        return _json_text.decode(text)
