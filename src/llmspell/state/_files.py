"""File access of the persistent stores, through the sandbox's one safe path walk.

A state file is named by the spell, so it is treated as every other spell path
(:mod:`llmspell.sandbox.paths`): resolved and checked against the policy,
then reached only through the descriptor of its folder, opened one component
at a time with ``O_NOFOLLOW``; the file itself is opened relative to that
descriptor without following a link and without blocking, and only a regular
file is accepted (a folder, FIFO, socket or device is refused at once, never
waited on).  Errors name the state's file, never another host path.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from llmspell.errors import SpellError
from llmspell.sandbox.paths import check_path, parent_dir

if TYPE_CHECKING:
    from llmspell.sandbox.policy import Policy

_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def checked_path(policy: Policy, path: str, base: Path | None, modes: tuple[str, ...]) -> Path:
    """The resolved real path of a state file, checked for each access in ``modes``."""
    real: Path | None = None
    for mode in modes:
        real = check_path(policy, path, mode, base=base)
    assert real is not None
    return real


def os_error(exc: OSError, real: Path, action: str, where: str) -> SpellError:
    """What the system said about the state file ``real``, in the spell's words."""
    code = exc.errno
    if code == errno.ENOENT:
        return SpellError("not_found", f'{where}: "{real}" does not exist')
    if code == errno.ELOOP:
        return SpellError("permission_denied", f'{where}: "{real}" contains a symbolic link that appeared after '
                          f"it was checked; refusing to {action} it")
    if code == errno.ENOTDIR:
        return SpellError("not_found", f'{where}: a component of "{real}" is not a directory')
    if code == errno.EISDIR:
        return SpellError("invalid_argument", f'{where}: "{real}" is a directory, not a state file')
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return SpellError("permission_denied", f'{where}: the system refused to {action} "{real}": {exc.strerror}',
                          hint="a spell's worker may use only folders that existed when it started: make the "
                          "state's folder before the run")
    if code == errno.ENOSPC:
        return SpellError("tool_error", f'{where}: no space left to {action} "{real}"')
    return SpellError("tool_error", f'{where}: could not {action} "{real}": {exc.strerror or exc}')


def not_regular(real: Path, where: str, what: str = "") -> SpellError:
    return SpellError("invalid_argument", f'{where}: "{real}"{what} is not a regular file; a state lives in a '
                      "regular file", hint="name a file path (a new one is made)")


def open_regular(dfd: int, name: str, flags: int, real: Path, where: str) -> int:
    """``name`` in the folder ``dfd`` opened with ``flags``, no link followed, not blocking; a regular file
    only (anything else is closed and refused)."""
    fd = os.open(name, flags | _NOFOLLOW | _CLOEXEC | os.O_NONBLOCK, 0o666, dir_fd=dfd)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise OSError(errno.EISDIR, "Is a directory")
        if not stat.S_ISREG(mode):
            raise not_regular(real, where)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def sync_dir(dfd: int) -> None:
    """Make a rename in the folder ``dfd`` durable (fsync of the folder).  Where the kernel lets the
    process write the folder but not open it for reading (a Landlock grant of write alone), the
    rename is durable at the file system's next commit instead."""
    try:
        fd = os.open(".", os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _CLOEXEC, dir_fd=dfd)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["checked_path", "not_regular", "open_regular", "os_error", "parent_dir", "sync_dir"]
