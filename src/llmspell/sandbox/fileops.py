"""The rest of a file system API (Go's ``os``: stat, mkdir, remove, rename, link,
chmod, chown, truncate, readlink), each checked and then done through the walk.

Checking a path and then handing the same string to the system lets a folder
swapped for a symbolic link in between take the operation outside the grant.
So each function here checks the path (:func:`.paths.check_path`), opens the
folder that holds it with :func:`.paths.parent_dir` (component by component,
no link followed) and acts on the last name *relative to that descriptor*,
again without following a link.  A link that appears after the check makes
the call fail (``ELOOP``); it is never followed.

Operations that act on a name (remove, rename, link, readlink, lchown) check
the name itself, as the system call sees it: ``remove("d/link")`` removes the
link, not what it points to.  The others (stat, chmod, chown, truncate) act on
the file a link names, as Go's do; the check already resolved it, so a link
found at the end of the walk is a swap and is refused.

Errors: ``SpellError`` for what the policy refuses, ``OSError`` for what the
system reports (the caller words it in its language's terms).
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from collections.abc import Callable
from typing import TYPE_CHECKING

from .paths import check_path, open_file, parent_dir

if TYPE_CHECKING:
    from .policy import Policy

Base = str | os.PathLike | None


def _swapped() -> OSError:
    return OSError(errno.ELOOP, "Too many levels of symbolic links")


def stat_path(policy: Policy, path: str | os.PathLike, *, base: Base = None) -> os.stat_result:
    """Go's ``os.Stat``: the file ``path`` names (a link's target); needs read."""
    real = check_path(policy, path, "read", base=base)
    with parent_dir(real) as (dfd, name):
        info = os.stat(name, dir_fd=dfd, follow_symlinks=False)
    if stat.S_ISLNK(info.st_mode):
        raise _swapped()
    return info


def readlink_path(policy: Policy, path: str | os.PathLike, *, base: Base = None) -> str:
    """The text of the link ``path`` (the link itself is checked for read)."""
    real = check_path(policy, path, "read", base=base, follow_last=False)
    with parent_dir(real) as (dfd, name):
        return os.readlink(name, dir_fd=dfd)


def make_dir(policy: Policy, path: str | os.PathLike, mode: int, *, base: Base = None,
             parents: bool = False) -> None:
    """Go's ``os.Mkdir`` (``parents``: ``os.MkdirAll``, every missing folder checked
    for write as it is made; an existing folder is fine)."""
    real = check_path(policy, path, "write", base=base, follow_last=not parents)
    mode &= 0o7777
    with parent_dir(real, create=policy if parents else None, mode=mode) as (dfd, name):
        try:
            os.mkdir(name, mode, dir_fd=dfd)
        except FileExistsError:
            if not parents:
                raise
            kind = os.stat(name, dir_fd=dfd, follow_symlinks=False).st_mode
            if stat.S_ISLNK(kind):
                raise _swapped() from None
            if not stat.S_ISDIR(kind):
                raise OSError(errno.ENOTDIR, "Not a directory") from None


def remove(policy: Policy, path: str | os.PathLike, *, base: Base = None, recursive: bool = False) -> None:
    """Go's ``os.Remove`` (a file, link or empty folder) or, ``recursive``,
    ``os.RemoveAll`` (a missing path is no error); the name is checked for write."""
    real = check_path(policy, path, "write", base=base, follow_last=False)
    try:
        with parent_dir(real) as (dfd, name):
            info = os.stat(name, dir_fd=dfd, follow_symlinks=False)
            if not stat.S_ISDIR(info.st_mode):
                os.unlink(name, dir_fd=dfd)
            elif recursive:
                # The descriptor-based rmtree: every level opened without following links.
                shutil.rmtree(name, dir_fd=dfd)
            else:
                os.rmdir(name, dir_fd=dfd)
    except FileNotFoundError:
        if not recursive:
            raise


def rename(policy: Policy, old: str | os.PathLike, new: str | os.PathLike, *, base: Base = None) -> None:
    """Go's ``os.Rename``: both names checked for write."""
    old_real = check_path(policy, old, "write", base=base, follow_last=False)
    new_real = check_path(policy, new, "write", base=base, follow_last=False)
    with parent_dir(old_real) as (old_fd, old_name), parent_dir(new_real) as (new_fd, new_name):
        os.rename(old_name, new_name, src_dir_fd=old_fd, dst_dir_fd=new_fd)


def hard_link(policy: Policy, old: str | os.PathLike, new: str | os.PathLike, *, base: Base = None) -> None:
    """Go's ``os.Link``.  The existing file needs read *and* write: a second name
    for it in a writable folder would let the spell write it."""
    check_path(policy, old, "read", base=base, follow_last=False)
    old_real = check_path(policy, old, "write", base=base, follow_last=False)
    new_real = check_path(policy, new, "write", base=base, follow_last=False)
    with parent_dir(old_real) as (old_fd, old_name), parent_dir(new_real) as (new_fd, new_name):
        os.link(old_name, new_name, src_dir_fd=old_fd, dst_dir_fd=new_fd, follow_symlinks=False)


def symlink(policy: Policy, target: str, new: str | os.PathLike, *, base: Base = None) -> None:
    """Go's ``os.Symlink``: the link needs write, what it points to (resolved from
    the link's folder, as the system will) needs read.  Every later use of the
    link is resolved and checked again."""
    new_real = check_path(policy, new, "write", base=base, follow_last=False)
    check_path(policy, target, "read", base=new_real.parent)
    with parent_dir(new_real) as (dfd, name):
        os.symlink(target, name, dir_fd=dfd)


def chmod(policy: Policy, path: str | os.PathLike, mode: int, *, base: Base = None) -> None:
    """Go's ``os.Chmod``: the file a link names, checked for write."""
    real = check_path(policy, path, "write", base=base)
    with parent_dir(real) as (dfd, name):
        try:
            os.chmod(name, mode & 0o7777, dir_fd=dfd, follow_symlinks=False)
        except (NotImplementedError, ValueError):  # the name is a link now: a swap
            raise _swapped() from None


def chown(policy: Policy, path: str | os.PathLike, uid: int, gid: int, *, base: Base = None,
          follow_last: bool = True) -> None:
    """Go's ``os.Chown`` (``follow_last=False``: ``os.Lchown``), checked for write."""
    real = check_path(policy, path, "write", base=base, follow_last=follow_last)
    with parent_dir(real) as (dfd, name):
        if follow_last and stat.S_ISLNK(os.stat(name, dir_fd=dfd, follow_symlinks=False).st_mode):
            raise _swapped()
        os.chown(name, uid, gid, dir_fd=dfd, follow_symlinks=False)


def truncate(policy: Policy, path: str | os.PathLike, size: int, *, base: Base = None,
             reserve: Callable[[int], None] | None = None) -> None:
    """Go's ``os.Truncate`` of a regular file, checked for write; growing it counts
    the new bytes against ``reserve`` (the run's write quota)."""
    if size < 0:
        raise OSError(errno.EINVAL, "Invalid argument")
    fd, _ = open_file(policy, path, os.O_WRONLY, base=base)
    try:
        grown = size - os.fstat(fd).st_size
        if reserve is not None and grown > 0:
            reserve(grown)
        os.ftruncate(fd, size)
    finally:
        os.close(fd)
