"""``json``: encode and decode JSON, with the same output in every language.

Keys are written sorted: Lua and Tengo tables have no order, so sorting is
the only way the three languages can print the same text for the same data.
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any

from ..errors import SpellError
from .base import Bridge, Options, method


class EncodeOptions(Options):
    indent: Annotated[int | None, "spaces per level; none for one line"] = None


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise SpellError("invalid_argument", "json.encode: NaN and infinity have no JSON form")
        if value.is_integer() and abs(value) < 1e21:
            # JSON has one number type: write 2.0 as 2 and 1e16 in digits, as JavaScript does, so that
            # the same data gives the same text in every language.
            return int(value)
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if not (value is None or isinstance(value, (bool, int, float, str))):
        from ..values import HostHandle, ScriptFunction

        what = "function" if isinstance(value, ScriptFunction) else \
            value.type_name if isinstance(value, HostHandle) else type(value).__name__
        raise SpellError("invalid_argument", f"json.encode: a {what} has no JSON form")
    return value


def encode(value: Any, indent: int | None = None) -> str:
    """The one JSON writer of the spell API (the JS prelude mirrors it)."""
    separators = (",", ": ") if indent else (",", ":")
    return json.dumps(_finite(value), indent=indent or None, sort_keys=True, ensure_ascii=False,
                      separators=separators)


class JsonBridge(Bridge):
    name = "json"
    description = "JSON text to and from script values."
    #: JavaScript runs its twin of this bridge in the VM (pure, and cheaper than a host call).
    vm_code = {"javascript": "json.js"}

    @method(sync_in_js=True)
    def encode(self, value: Annotated[Any, "the value to write"],
               opts: Annotated[EncodeOptions | None, "formatting"] = None) -> str:
        """Write a value as JSON text, keys sorted."""
        return encode(value, opts.indent if opts else None)

    @method(sync_in_js=True)
    def decode(self, text: Annotated[str, "JSON text"]) -> Any:
        """Read JSON text into a value."""
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpellError("invalid_argument",
                             f"json.decode: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
