"""Tengo's ``hex`` module."""

from __future__ import annotations

from typing import Any

from ..memory import HEADER, SMALL
from ..objects import Error, ImmutableMap
from ._args import SizeLimits, arg_bytes, module, nargs, need

_HEX = "0123456789abcdefABCDEF"


def _encode(*args: Any) -> str:
    nargs(args, 1)
    data = arg_bytes(args, 0)
    if len(data) > SMALL:
        need(HEADER + 2 * len(data))
    return data.hex()


def _decode(*args: Any) -> Any:
    nargs(args, 1)
    text = arg_bytes(args, 0).decode("utf-8", "replace")
    for i, c in enumerate(text):
        if c not in _HEX and (i < len(text) - 1 or len(text) % 2 == 0):
            return Error(f"encoding/hex: invalid byte: U+{ord(c):04X} {_quote(c)}")
    if len(text) % 2:
        return Error("encoding/hex: odd length hex string")
    return bytes.fromhex(text)


def _quote(c: str) -> str:
    from ..formatter import go_quote_rune

    return go_quote_rune(ord(c))


def build(host: Any) -> ImmutableMap:
    return module({"encode": _encode, "decode": _decode}, SizeLimits.of(host))
