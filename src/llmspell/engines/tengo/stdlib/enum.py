"""Tengo's ``enum`` module, a source module: its code is Tengo (enum.tengo),
compiled by the interpreter like a user module."""

from __future__ import annotations

import functools
import importlib.resources


@functools.cache
def source() -> str:
    """The Tengo source of the module."""
    return importlib.resources.files(__package__).joinpath("enum.tengo").read_text(encoding="utf-8")
