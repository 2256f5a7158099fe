"""Tengo's ``fmt`` module.  Output goes to the host (never straight to the
process's stdout), so the engine decides where a spell's prints end up."""

from __future__ import annotations

from typing import Any

from ..formatter import format_string
from ..memory import HEADER, SMALL, str_width
from ..objects import UNDEFINED, ImmutableMap, InvalidArgumentType, WrongNumArguments, to_string, type_name
from ._args import SizeLimits, module, need


def _joined(sep: str, parts: list[str]) -> str:
    """``sep.join(parts)``, announced to the memory budget first when long."""
    if len(parts) > 1:
        total = sum(map(len, parts)) + len(sep) * len(parts)
        if total > SMALL:
            need(HEADER + 2 * total * max(map(str_width, parts)))  # the text, then the line with "\n"
    return sep.join(parts)


def build(host: Any) -> ImmutableMap:
    limits = SizeLimits.of(host)

    def sprintf(*args: Any) -> str:
        if not args:
            raise WrongNumArguments()
        fmt = args[0]
        if type(fmt) is not str:
            raise InvalidArgumentType("format", "string", type_name(fmt))
        if len(args) == 1:
            return fmt
        return limits.string(format_string(fmt, list(args[1:])))

    def print_(*args: Any) -> Any:
        host.write(_joined("", [to_string(a) for a in args]))
        return UNDEFINED

    def println(*args: Any) -> Any:
        # Go's Println puts a space between operands (Print, between none: all are strings here).
        host.write(_joined(" ", [to_string(a) for a in args]) + "\n")
        return UNDEFINED

    def printf(*args: Any) -> Any:
        host.write(sprintf(*args))
        return UNDEFINED

    return module({"print": print_, "println": println, "printf": printf, "sprintf": sprintf}, limits)
