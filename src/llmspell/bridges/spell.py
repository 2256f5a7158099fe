"""``spell``: other spells of the same language, loaded as libraries.

The host only finds, checks and reads the file; the engine's prelude runs it
inside the same VM (so that the module's functions stay the language's own
functions) and caches its value for the rest of the run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from ..engines.base import language_for
from ..errors import SpellError
from .base import Bridge, Options, method


class Module(Options):
    source: str
    name: str


class SpellBridge(Bridge):
    name = "spell"
    description = "Load another spell of the same language as a library."

    @method
    def require(self, path: Annotated[str, "the module's file, relative to this spell's folder"]) -> Module:
        """Load the module once per run and return its result (what its chunk returns / exports).
        The spell's own folder and below need no permission; elsewhere needs --allow-read."""
        host = self.host
        own = language_for(host.filename) if "." in host.filename.rsplit("/", 1)[-1] else None
        target = host.policy.check_import(path, base=host.base_dir)
        if target is None:
            raise SpellError("invalid_argument", f"spell.require: {path!r} is not a path (use ./name.lua)")
        if own and language_for(str(target)) != own:
            raise SpellError("invalid_argument",
                             f"spell.require: {path} is not a {own} spell; modules must be in the same language")
        data = _read(target, path)
        try:
            source = data.decode("utf-8")
        except UnicodeDecodeError:
            raise SpellError("invalid_argument", f"spell.require: {path} is not UTF-8 text") from None
        return Module(source=source, name=_shown(target, host.base_dir))


def _read(target: Path, shown: str, limit: int = 8 << 20) -> bytes:
    """Read a module the policy already resolved and allowed; O_NOFOLLOW so a
    link swapped in after the check is refused rather than followed."""
    try:
        fd = os.open(target, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise SpellError("not_found", f"spell.require: {shown}: no such file") from None
    except OSError as exc:
        raise SpellError("not_found", f"spell.require: {shown}: {exc.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise SpellError("limit_exceeded", f"spell.require: {shown} is larger than {limit} bytes")
    return data


def _shown(target: Path, base: Path) -> str:
    try:
        return str(target.relative_to(base))
    except ValueError:
        return str(target)
