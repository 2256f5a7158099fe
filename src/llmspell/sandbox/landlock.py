"""Landlock, spoken through its three system calls with ctypes.

Landlock lets an unprivileged process drop its own access to the file system,
to TCP ports and to other processes, for itself and everything it starts,
with no way back.  llmspell's worker uses it so that a bug in a VM (lupa,
QuickJS, our Tengo) does not hand a spell the whole machine.

Why raw system calls and not a library: the Python packages that wrap
Landlock (``landlock`` is a development release, the others are young
single-author projects) add a dependency for three system calls and two
structures, and none of them knew ABI 6 scoping when this was written.  The
calls and their numbers are the same on every architecture (444-446), so
this file is short and has nothing to keep up with but the ABI table below.

Everything here is mechanism; what a spell may touch is decided in
``kernel.py``.
"""

from __future__ import annotations

import ctypes
import errno
import os
import stat
from collections.abc import Iterable

from . import _libc

_SYS_CREATE_RULESET, _SYS_ADD_RULE, _SYS_RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1 << 0
_RULE_PATH_BENEATH, _RULE_NET_PORT = 1, 2
_PR_SET_NO_NEW_PRIVS = 38

# File system rights (ABI 1 unless noted).
FS_EXECUTE = 1 << 0
FS_WRITE_FILE = 1 << 1
FS_READ_FILE = 1 << 2
FS_READ_DIR = 1 << 3
FS_REMOVE_DIR = 1 << 4
FS_REMOVE_FILE = 1 << 5
FS_MAKE_CHAR = 1 << 6
FS_MAKE_DIR = 1 << 7
FS_MAKE_REG = 1 << 8
FS_MAKE_SOCK = 1 << 9
FS_MAKE_FIFO = 1 << 10
FS_MAKE_BLOCK = 1 << 11
FS_MAKE_SYM = 1 << 12
FS_REFER = 1 << 13  # ABI 2
FS_TRUNCATE = 1 << 14  # ABI 3
FS_IOCTL_DEV = 1 << 15  # ABI 5
# TCP (ABI 4).
NET_BIND_TCP = 1 << 0
NET_CONNECT_TCP = 1 << 1
# Scopes (ABI 6): what the process may reach outside its own Landlock domain.
SCOPE_ABSTRACT_UNIX_SOCKET = 1 << 0
SCOPE_SIGNAL = 1 << 1

#: Rights that make sense on a file (the kernel refuses the others on a non-directory).
FILE_RIGHTS = FS_EXECUTE | FS_WRITE_FILE | FS_READ_FILE | FS_TRUNCATE | FS_IOCTL_DEV


def fs_rights(abi: int) -> int:
    """Every file system right the kernel of this ABI knows (all of them are handled)."""
    rights = (1 << 13) - 1
    if abi >= 2:
        rights |= FS_REFER
    if abi >= 3:
        rights |= FS_TRUNCATE
    if abi >= 5:
        rights |= FS_IOCTL_DEV
    return rights


class LandlockError(OSError):
    """A Landlock call failed (``errno`` says why)."""


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


class _NetPortAttr(ctypes.Structure):
    _fields_ = [("allowed_access", ctypes.c_uint64), ("port", ctypes.c_uint64)]


def _call(*args: object) -> int:
    return _libc.syscall(LandlockError, *args)


def abi_version() -> tuple[int, str]:
    """The Landlock ABI this kernel offers (0 if none) and, when 0, why."""
    if _libc.LIBC is None:
        return 0, "not Linux"
    try:
        return _call(ctypes.c_long(_SYS_CREATE_RULESET), None, ctypes.c_size_t(0),
                     ctypes.c_uint32(_CREATE_RULESET_VERSION)), ""
    except LandlockError as exc:
        if exc.errno == errno.ENOSYS:
            return 0, "the kernel has no Landlock (older than 5.13)"
        if exc.errno == errno.EOPNOTSUPP:
            return 0, "Landlock is disabled in this kernel (boot with lsm=...,landlock)"
        return 0, f"Landlock is not usable: {exc.strerror}"


def _attr_size(abi: int) -> int:
    return 24 if abi >= 6 else 16 if abi >= 4 else 8


class Ruleset:
    """A Landlock ruleset being built: add rules, then :meth:`restrict_self`.

    ``tcp``: whether TCP bind/connect are handled (then only the ports
    added with :meth:`allow_port` may be connected to, and none bound);
    ``scoped``: whether signals and abstract unix sockets stay inside the
    domain (ABI 6)."""

    def __init__(self, abi: int, *, tcp_connect: bool, scoped: bool) -> None:
        self.abi = abi
        self.handled_fs = fs_rights(abi)
        net = 0
        if abi >= 4:
            net = NET_BIND_TCP | (NET_CONNECT_TCP if tcp_connect else 0)
        self.handled_net = net
        scope = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if scoped and abi >= 6 else 0
        attr = _RulesetAttr(self.handled_fs, net, scope)
        self.fd = _call(ctypes.c_long(_SYS_CREATE_RULESET), ctypes.byref(attr), ctypes.c_size_t(_attr_size(abi)),
                        ctypes.c_uint32(0))

    def allow_path(self, path: str, access: int) -> bool:
        """Grant ``access`` beneath ``path`` (or on it, for a file); False if the
        path does not exist (nothing to grant).  Rights a file cannot carry are
        dropped for a file, and rights this ABI does not know are dropped."""
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return False
        try:
            if not stat.S_ISDIR(os.fstat(fd).st_mode):
                access &= FILE_RIGHTS
            access &= self.handled_fs
            if not access:
                return True
            rule = _PathBeneathAttr(access, fd)
            _call(ctypes.c_long(_SYS_ADD_RULE), ctypes.c_int(self.fd), ctypes.c_int(_RULE_PATH_BENEATH),
                  ctypes.byref(rule), ctypes.c_uint32(0))
        finally:
            os.close(fd)
        return True

    def allow_port(self, port: int) -> None:
        """Allow connecting to TCP ``port`` (on any host: Landlock knows ports, not addresses)."""
        if not self.handled_net & NET_CONNECT_TCP:
            return
        rule = _NetPortAttr(NET_CONNECT_TCP, port)
        _call(ctypes.c_long(_SYS_ADD_RULE), ctypes.c_int(self.fd), ctypes.c_int(_RULE_NET_PORT),
              ctypes.byref(rule), ctypes.c_uint32(0))

    def allow_ports(self, ports: Iterable[int]) -> None:
        for port in sorted(set(ports)):
            self.allow_port(port)

    def restrict_self(self) -> None:
        """Enforce the ruleset on this thread and everything it starts from now on."""
        try:
            set_no_new_privs()
            _call(ctypes.c_long(_SYS_RESTRICT_SELF), ctypes.c_int(self.fd), ctypes.c_uint32(0))
        finally:
            self.close()

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def set_no_new_privs() -> None:
    """``PR_SET_NO_NEW_PRIVS``: no exec may gain privileges (set-uid, file
    capabilities) from here on; Landlock and seccomp both require it."""
    _libc.prctl(LandlockError, ctypes.c_int(_PR_SET_NO_NEW_PRIVS), ctypes.c_ulong(1), ctypes.c_ulong(0),
                ctypes.c_ulong(0), ctypes.c_ulong(0))
