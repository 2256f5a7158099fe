"""``spell``: other spells of the same language, loaded as libraries.

The host only finds, checks and reads the file; the engine's prelude runs it
inside the same VM (so that the module's functions stay the language's own
functions) and caches its value for the rest of the run.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from ..engines.base import language_for
from ..errors import SpellError
from ..sandbox.paths import read_resolved
from ..sandbox.policy import _looks_like_path as looks_like_path
from .base import Bridge, Options, method

if TYPE_CHECKING:
    from ..sandbox.policy import Policy

#: The largest module a spell may load.
MAX_MODULE_BYTES = 8 << 20


class Module(Options):
    source: str
    name: str


class SpellBridge(Bridge):
    name = "spell"
    description = "Load another spell of the same language as a library."
    #: The part that runs the module inside the VM (see the module docstring).
    vm_code = {"javascript": "spell.js", "lua": "spell.lua"}
    #: require's module runs in the VM: its source counts against an instruction budget as the spell's own.
    vm_runs = {"require": ("source", "name")}

    @method
    def require(self, path: Annotated[str, "the module's file, relative to the requiring spell's folder"],
                within: Annotated[str | None, "given by spell.require itself: the requiring module "
                                  "(none: the spell), whose folder a relative path starts from"] = None,
                ) -> Module:
        """Load the module once per run and return its result (what its chunk returns / exports).
        The spell's own folder and below need no permission; elsewhere needs --allow-read."""
        host = self.host
        own = language_for(host.filename) if "." in host.filename.rsplit("/", 1)[-1] else None
        target = module_path(host.policy, path, host.base_dir, within)
        if target is None:
            raise SpellError("invalid_argument", f"spell.require: {path!r} is not a path (use ./name.lua)")
        if own and language_for(str(target)) != own:
            raise SpellError("invalid_argument",
                             f"spell.require: {path} is not a {own} spell; modules must be in the same language")
        data = _read(target, path)
        try:
            source = data.decode("utf-8-sig")  # a byte order mark some editors write is not source
        except UnicodeDecodeError:
            raise SpellError("invalid_argument", f"spell.require: {path} is not UTF-8 text") from None
        return Module(source=source, name=module_name(target, host.base_dir))


def module_path(policy: Policy, path: str, spell_dir: Path, within: str | None = None) -> Path | None:
    """The file a module path names, checked by the policy: the one
    resolution of ``spell.require`` in every language and of Tengo's
    ``import``.  A relative path starts from the folder of the module that
    asks (``within``: its name as :func:`module_name` gives it; ``None``: the
    spell itself), as in every module system; whatever folder it starts
    from, the policy's rule stays that of the spell's own folder (below it:
    no permission needed; elsewhere, links and ``..`` resolved first: read
    permission).  ``None`` for a name that is not a path (Tengo's ``"fmt"``)."""
    if within is not None and not os.path.isabs(path) and looks_like_path(path):
        start = (spell_dir / within).parent  # module_name gives a real path: no link to follow again
        path = os.path.join(start, path)
    return policy.check_import(path, base=spell_dir)


def module_name(target: Path, spell_dir: Path) -> str:
    """A module's name: its path from the spell's folder (absolute outside it).
    Errors in the module name it, and it is the module's identity in a run."""
    return _shown(target, spell_dir)


def _read(target: Path, shown: str, limit: int = MAX_MODULE_BYTES) -> bytes:
    """Read a module the policy already resolved and allowed, through the same
    walk as every file access (no link followed anywhere on the way, so a
    folder swapped for a link after the check is refused, not followed)."""
    try:
        return read_resolved(target, max_bytes=limit)
    except SpellError as exc:
        raise SpellError(exc.kind, f"spell.require: {shown}: {exc.message}") from None
    except FileNotFoundError:
        raise SpellError("not_found", f"spell.require: {shown}: no such file") from None
    except OSError as exc:
        raise SpellError("not_found", f"spell.require: {shown}: {exc.strerror}") from None


def read_module(target: Path, shown: str) -> str | None:
    """The source of a Tengo ``import`` of a file (already checked with
    ``Policy.check_import``), read like :meth:`SpellBridge.require`; ``None``
    when there is no such file, so the compiler reports the module missing."""
    try:
        data = read_resolved(target, max_bytes=MAX_MODULE_BYTES)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except SpellError as exc:
        raise SpellError(exc.kind, f"import {shown}: {exc.message}") from None
    except OSError as exc:
        raise SpellError("not_found", f"import {shown}: {exc.strerror}") from None
    return data.decode("utf-8", "replace")


def _shown(target: Path, base: Path) -> str:
    try:
        return str(target.relative_to(base))
    except ValueError:
        return str(target)
