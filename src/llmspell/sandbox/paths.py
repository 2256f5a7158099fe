"""File system checks and the only way a spell's file I/O reaches the disk.

A path is resolved *before* it is checked: relative to the spell's folder (or
the working directory), every symbolic link followed and every ``..`` applied
to the real directory it names.  So a link or ``..`` inside an allowed folder
cannot reach out of it, and ``/tmp/a`` does not allow ``/tmp/ab`` because
containment is decided on whole path components.  Nothing is expanded: ``~``
and ``$HOME`` are ordinary characters of a file name, as they are for the
kernel.

Checking a name and then opening it leaves a window in which a component can
be swapped for a symbolic link.  The helpers here close most of it: they open
the *resolved* path one component at a time from ``/`` with ``O_NOFOLLOW``
relative to the previous directory's descriptor (openat-style), so a link
appearing anywhere after the check makes the open fail instead of being
followed; writes go to a temporary file in the checked directory and are
renamed over the target, so a link or hard link planted at the target is
replaced, never written through.  Every file access of a spell goes through
this walk -- the file tools, Tengo's ``os`` module (:mod:`.fileops` acts
relative to the folder descriptor :func:`parent_dir` gives), ``spell.require``
and Tengo's ``import`` (:func:`read_resolved`) -- so no spell path reaches the
system by name after its check.  What remains: a directory that is *moved*
(renamed) out of an allowed folder between the check and the open is still
entered through the descriptor; an existing hard link to a file outside
(only possible where the attacker could already create one) is read as the
file it is; append mode writes through such a hard link; bind mounts are not
detected.  Non-POSIX systems fall back to a plain open after the check.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import stat
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from llmspell.errors import SpellError

if TYPE_CHECKING:
    from .policy import Policy

#: As Linux: more links than this while resolving one path is a loop.
MAX_SYMLINKS = 40
_READ_CHUNK = 1 << 16
_HAS_DIR_FD = os.open in os.supports_dir_fd and hasattr(os, "O_NOFOLLOW") and hasattr(os, "O_DIRECTORY")
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
#: Directories are walked with O_PATH where it exists: it needs only search permission,
#: as the kernel's own walk does.
_DIR_FLAGS = getattr(os, "O_PATH", os.O_RDONLY) | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW | _CLOEXEC


#: Files of a process that hold its environment (API keys) or memory: the spell's worker
#: is a fork of the host, so even a broad ``--allow-read`` must not reach them.
_PROC_SECRET = re.compile(r"^/proc/[^/]+/(?:task/[^/]+/)?(?:environ|mem)$")


def to_path_string(path: str | os.PathLike) -> str:
    """The path as text, refusing what no file name can hold."""
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str):
        raise SpellError("invalid_argument", f"a path must be a string, got {type(path).__name__}")
    if "\x00" in path:
        raise SpellError("invalid_argument", "a path cannot contain a NUL byte")
    if not path:
        raise SpellError("invalid_argument", "a path cannot be empty")
    return path


def resolve_path(path: str | os.PathLike, *, base: str | os.PathLike | None = None,
                 follow_last: bool = True) -> Path:
    """The real absolute path ``path`` names, without requiring it to exist.

    Relative paths start at ``base`` (default: the working directory).  Existing
    components have their symbolic links followed; missing ones are taken as
    written.  With ``follow_last=False`` a link in the last component is the
    name itself (what ``remove``, ``rename`` or ``readlink`` act on), not its
    target.  A link loop is an ``invalid_argument`` error, not a hang."""
    text = to_path_string(path)
    if not os.path.isabs(text):
        root = os.getcwd() if base is None else str(resolve_path(base))
        text = os.path.join(root, text)
    if not follow_last:
        head, _, name = text.rpartition("/")
        if name not in ("", ".", ".."):
            return Path(_realpath(head or "/", text)) / name
    return Path(_realpath(text, text))


def _realpath(text: str, shown: str) -> str:
    pending = deque(text.split("/"))
    resolved: list[str] = []
    links = 0
    while pending:
        name = pending.popleft()
        if name in ("", "."):
            continue
        if name == "..":
            if resolved:
                resolved.pop()
            continue
        candidate = "/" + "/".join([*resolved, name])
        try:
            is_link = stat.S_ISLNK(os.lstat(candidate).st_mode)
        except OSError:
            is_link = False  # missing (or unreadable): taken as written; the open decides
        if not is_link:
            resolved.append(name)
            continue
        links += 1
        if links > MAX_SYMLINKS:
            raise SpellError("invalid_argument", f'too many levels of symbolic links in "{shown}"')
        try:
            target = os.readlink(candidate)
        except OSError:  # changed or gone since the lstat (a race): an ordinary or missing name
            resolved.append(name)
            continue
        if target.startswith("/"):
            resolved = []
        pending.extendleft(reversed(target.split("/")))
    return "/" + "/".join(resolved)


def is_within(path: Path | str, root: Path | str) -> bool:
    """``path`` is ``root`` or below it, compared by whole components."""
    path, root = str(path), str(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


def _matching_entry(entries: tuple[str, ...], target: Path) -> str | None:
    for entry in entries:
        if is_within(target, resolve_path(entry)):
            return entry
    return None


def check_path(policy: Policy, path: str | os.PathLike, mode: str, *, base: str | os.PathLike | None = None,
               denied_only: bool = False, follow_last: bool = True) -> Path:
    """Resolve ``path`` and check it against the policy's ``allow_MODE``/``deny_MODE``
    (``mode`` is ``"read"`` or ``"write"``); returns the resolved path.

    Grant entries are resolved too (relative ones from the working directory), so
    a grant of a folder reached through a link covers the folder it names."""
    if mode not in ("read", "write"):
        raise ValueError(f"unknown access mode {mode!r}")
    shown = to_path_string(path)
    target = resolve_path(shown, base=base, follow_last=follow_last)
    if _PROC_SECRET.match(str(target)):
        raise SpellError("permission_denied", f'{mode} access to "{target}" is never allowed: it exposes a '
                         "process's environment or memory (API keys), whatever --allow-" + mode + " grants")
    deny = getattr(policy, f"deny_{mode}")
    if deny is True:
        raise SpellError("permission_denied", f'{mode} access to "{target}" is denied by --deny-{mode}')
    if deny:
        entry = _matching_entry(deny, target)
        if entry is not None:
            raise SpellError("permission_denied",
                             f'{mode} access to "{target}" is denied by --deny-{mode}={entry}')
    if denied_only:
        return target
    allow = getattr(policy, f"allow_{mode}")
    if allow is True or (allow and _matching_entry(allow, target) is not None):
        return target
    described = f'"{shown}"' if shown == str(target) else f'"{shown}" ({target})'
    raise SpellError("permission_denied",
                     f"{mode} access to {described} is not allowed; run with --allow-{mode}={target}")


# -- opening without following links ------------------------------------------------

def _os_error(exc: OSError, path: Path, action: str) -> SpellError:
    code = exc.errno
    if code == errno.ENOENT:
        return SpellError("not_found", f'"{path}" does not exist')
    if code == errno.ELOOP:
        return SpellError("permission_denied",
                          f'"{path}" contains a symbolic link that appeared after it was checked; '
                          f"refusing to {action} it")
    if code == errno.ENOTDIR:
        return SpellError("not_found", f'a component of "{path}" is not a directory')
    if code == errno.EISDIR:
        return SpellError("invalid_argument", f'"{path}" is a directory')
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return SpellError("permission_denied", f'the system refused to {action} "{path}": {exc.strerror}')
    return SpellError("tool_error", f'could not {action} "{path}": {exc.strerror or exc}')


def _open_dir_chain(parts: list[str], *, create: Policy | None = None, mode: int = 0o777) -> int:
    """A descriptor of the directory ``/parts...``, walked with O_NOFOLLOW.  With
    ``create``, missing directories are made (with ``mode``) if that policy lets the
    spell write them."""
    fd = os.open("/", _DIR_FLAGS)
    try:
        for index, name in enumerate(parts):
            try:
                nfd = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if create is None:
                    raise
                create.check_write(Path("/", *parts[: index + 1]))
                try:
                    os.mkdir(name, mode, dir_fd=fd)
                except FileExistsError:
                    pass
                nfd = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError as exc:
                if exc.errno == errno.ENOTDIR and _is_link(name, fd):
                    raise OSError(errno.ELOOP, "symbolic link in the path") from None
                raise
            os.close(fd)
            fd = nfd
            if not stat.S_ISDIR(os.fstat(fd).st_mode):
                raise OSError(errno.ELOOP, "not a directory")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _is_link(name: str, dir_fd: int) -> bool:
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _split(real: Path) -> tuple[list[str], str]:
    parts = [part for part in str(real).split("/") if part]
    if not parts:
        return [], ""
    return parts[:-1], parts[-1]


@contextmanager
def parent_dir(real: Path, *, create: Policy | None = None, mode: int = 0o777) -> Iterator[tuple[int, str]]:
    """``(fd, name)``: the folder that holds ``real`` (a path already resolved and
    checked), opened by the walk, and the last component, to act on relative to
    that descriptor (``os.*(name, dir_fd=fd)``) -- never by the path string.
    ``/`` itself is ``(fd of /, ".")``.  ``create`` makes missing folders (see
    :func:`_open_dir_chain`).  Raises ``OSError`` as the system reports it."""
    dirs, name = _split(real)
    fd = _open_dir_chain(dirs, create=create, mode=mode)
    try:
        yield fd, name or "."
    finally:
        os.close(fd)


def open_dir(real: Path) -> int:
    """An ``O_PATH`` descriptor of the folder ``real`` (already checked), opened by the walk."""
    return _open_dir_chain([part for part in str(real).split("/") if part])


#: The open flags a spell may pass (Tengo's os constants); anything else is dropped.
OPEN_FLAGS = (os.O_ACCMODE | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_TRUNC | getattr(os, "O_SYNC", 0))


def open_flags_access(flags: int) -> tuple[bool, bool]:
    """``(reads, writes)``: what opening with these flags lets the holder do.
    Creating, truncating and appending are writes, whatever the access mode."""
    access = flags & os.O_ACCMODE
    reads = access in (os.O_RDONLY, os.O_RDWR)
    writes = access != os.O_RDONLY or bool(flags & (os.O_CREAT | os.O_TRUNC | os.O_APPEND))
    return reads, writes


def open_file(policy: Policy, path: str | os.PathLike, flags: int, perm: int = 0o666, *,
              base: str | os.PathLike | None = None) -> tuple[int, Path]:
    """``(fd, real path)``: ``path`` opened with ``flags`` (``os.O_*``), after the checks
    the flags need (read for ``O_RDONLY``, write for ``O_WRONLY``/create/truncate/append,
    both for ``O_RDWR``).  The folders are walked, the file opened without
    following a link and without blocking; only a regular file (or, read-only,
    a folder) is accepted -- a FIFO, socket or device is refused at once.
    ``O_TRUNC`` is applied after that check.  Raises ``SpellError`` for a
    refusal and ``OSError`` for what the system reports."""
    flags &= OPEN_FLAGS
    reads, writes = open_flags_access(flags)
    real = check_path(policy, path, "read", base=base) if reads else None
    if writes:
        real = check_path(policy, path, "write", base=base)
    assert real is not None
    if not _HAS_DIR_FD:  # pragma: no cover - non-POSIX fallback
        return os.open(real, flags | _CLOEXEC, perm), real
    with parent_dir(real) as (dfd, name):
        fd = os.open(name, (flags & ~os.O_TRUNC) | _NOFOLLOW | _CLOEXEC | os.O_NONBLOCK, perm & 0o7777,
                     dir_fd=dfd)
    try:
        kind = os.fstat(fd).st_mode
        if stat.S_ISDIR(kind):
            if writes:
                raise OSError(errno.EISDIR, "is a directory")
        elif not stat.S_ISREG(kind):
            raise SpellError("invalid_argument", f'"{real}" is not a regular file')
        if flags & os.O_TRUNC and flags & os.O_ACCMODE != os.O_RDONLY:
            os.ftruncate(fd, 0)
    except BaseException:
        os.close(fd)
        raise
    return fd, real


def read_bytes(policy: Policy, path: str | os.PathLike, base: str | os.PathLike | None = None, *,
               max_bytes: int | None = None) -> bytes:
    """The contents of a regular file the policy lets the spell read.

    ``max_bytes`` caps what is read (``limit_exceeded`` beyond it), so a spell
    cannot make the host load a huge file into memory."""
    real = policy.check_read(path, base=base)
    try:
        return read_resolved(real, max_bytes=max_bytes)
    except OSError as exc:
        raise _os_error(exc, real, "read") from None


def read_resolved(real: Path, *, max_bytes: int | None = None) -> bytes:
    """The contents of the regular file at ``real``, a path the caller has already
    resolved and checked (``spell.require`` checks with ``Policy.check_import``),
    opened by the same walk.  A folder, FIFO or device is ``invalid_argument`` at
    once; beyond ``max_bytes`` is ``limit_exceeded``; ``OSError`` as the system
    reports it."""
    dirs, name = _split(real)
    if not name:
        raise SpellError("invalid_argument", f'"{real}" is a directory')
    if _HAS_DIR_FD:
        dfd = _open_dir_chain(dirs)
        try:
            fd = os.open(name, os.O_RDONLY | _NOFOLLOW | _CLOEXEC | os.O_NONBLOCK, dir_fd=dfd)
        finally:
            os.close(dfd)
    else:  # pragma: no cover - non-POSIX fallback
        fd = os.open(real, os.O_RDONLY | _CLOEXEC)
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise SpellError("invalid_argument", f'"{real}" is a directory; use file_list to list it')
        if not stat.S_ISREG(info.st_mode):
            raise SpellError("invalid_argument", f'"{real}" is not a regular file')
        if max_bytes is not None and info.st_size > max_bytes:
            raise _too_big(real, max_bytes)
        data = _read_upto(fd, info.st_size, None if max_bytes is None else max_bytes + 1)
    finally:
        os.close(fd)
    if max_bytes is not None and len(data) > max_bytes:
        raise _too_big(real, max_bytes)
    return data


def _read_upto(fd: int, expected: int, cap: int | None) -> bytes:
    """Everything left in ``fd``, at most ``cap`` bytes, in reads sized by what the
    file held (a read's buffer is allocated whole: never the cap itself)."""
    parts: list[bytes] = []
    total = 0
    while cap is None or total < cap:
        size = max(expected - total + 1, _READ_CHUNK)
        chunk = os.read(fd, size if cap is None else min(size, cap - total))
        if not chunk:
            break
        parts.append(chunk)
        total += len(chunk)
    return b"".join(parts)


def _too_big(real: Path, max_bytes: int) -> SpellError:
    return SpellError("limit_exceeded", f'"{real}" is larger than the limit of {max_bytes} bytes')


def write_bytes(policy: Policy, path: str | os.PathLike, data: bytes,
                base: str | os.PathLike | None = None, *,
                make_parents: bool = False, append: bool = False,
                reserve: Callable[[int], None] | None = None) -> Path:
    """Write ``data`` to a file the policy lets the spell write; returns its real path.

    A whole-file write is atomic (temporary file + rename): readers see the old
    or the new contents, never half, and a link at the target is replaced, not
    followed.  ``make_parents`` creates missing folders that are themselves
    writable; ``append`` appends in place (not atomic).  ``reserve(n)`` is
    called with the size once the path is allowed, before anything is written
    (the run's write quota: it raises to refuse)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise SpellError("invalid_argument", "data to write must be bytes")
    real = policy.check_write(path, base=base)
    dirs, name = _split(real)
    if not name:
        raise SpellError("invalid_argument", f'"{real}" is a directory')
    if reserve is not None:
        reserve(len(data))
    try:
        if not _HAS_DIR_FD:  # pragma: no cover - non-POSIX fallback
            with open(real, "ab" if append else "wb") as handle:
                handle.write(data)
            return real
        dfd = _open_dir_chain(dirs, create=policy if make_parents else None)
        try:
            if append:
                _append(dfd, name, data, real)
            else:
                replace_file(dfd, name, data)
        finally:
            os.close(dfd)
    except OSError as exc:
        raise _os_error(exc, real, "write") from None
    return real


def _append(dfd: int, name: str, data: bytes, real: Path) -> None:
    fd = os.open(name, os.O_WRONLY | os.O_APPEND | os.O_CREAT | _NOFOLLOW | _CLOEXEC | os.O_NONBLOCK,
                 0o666, dir_fd=dfd)
    with os.fdopen(fd, "ab") as handle:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise SpellError("invalid_argument", f'"{real}" is not a regular file')
        handle.write(data)


def replace_file(dfd: int, name: str, data: bytes) -> None:
    """Put ``data`` in place of ``name`` in the folder ``dfd`` at once: a temporary file beside it
    (created, never followed), written and fsynced, then renamed over it, so a reader sees the old
    text or the new one, never part of either; an existing file keeps its mode."""
    try:
        existing = os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        existing = None
    if existing is not None and stat.S_ISDIR(existing.st_mode):
        raise OSError(errno.EISDIR, "is a directory")
    temp = f".{name[:200]}.{secrets.token_hex(6)}.tmp"
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o666, dir_fd=dfd)
    try:
        with os.fdopen(fd, "wb") as handle:
            if existing is not None and stat.S_ISREG(existing.st_mode):
                os.fchmod(handle.fileno(), stat.S_IMODE(existing.st_mode))
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
    except BaseException:
        try:
            os.unlink(temp, dir_fd=dfd)
        except OSError:
            pass
        raise


def list_dir(policy: Policy, path: str | os.PathLike, base: str | os.PathLike | None = None) -> list[dict]:
    """Entries of a folder the policy lets the spell read, sorted by name:
    ``{name, type, size}`` with type ``file``, ``dir``, ``symlink`` or ``other``
    (links are reported, not followed; ``size`` only for files)."""
    real = policy.check_read(path, base=base)
    dirs, name = _split(real)
    try:
        if _HAS_DIR_FD:
            dfd = _open_dir_chain(dirs)
            try:
                flags = os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW | _CLOEXEC
                fd = os.open(name, flags, dir_fd=dfd) if name else os.open("/", flags)
            finally:
                os.close(dfd)
            try:
                return _entries(fd)
            finally:
                os.close(fd)
        return _entries(str(real))  # pragma: no cover - non-POSIX fallback
    except OSError as exc:
        if exc.errno == errno.ENOTDIR:
            raise SpellError("invalid_argument", f'"{real}" is not a directory') from None
        raise _os_error(exc, real, "list") from None


def _entries(where: int | str) -> list[dict]:
    result = []
    with os.scandir(where) as scan:
        for entry in scan:
            if entry.is_symlink():
                kind = "symlink"
            elif entry.is_dir(follow_symlinks=False):
                kind = "dir"
            elif entry.is_file(follow_symlinks=False):
                kind = "file"
            else:
                kind = "other"
            item: dict = {"name": entry.name, "type": kind}
            if kind == "file":
                item["size"] = entry.stat(follow_symlinks=False).st_size
            result.append(item)
    result.sort(key=lambda item: item["name"])
    return result
