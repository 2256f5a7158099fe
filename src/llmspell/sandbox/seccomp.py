"""A seccomp filter for the spell's worker, written as classic BPF with ctypes.

Landlock (``landlock.py``) decides which files and ports the worker reaches;
this filter takes away the system calls that a spell never needs and that
turn a VM bug into a host compromise: starting programs (unless
``--allow-run``), tracing or reading other processes, new namespaces, raw and
netlink sockets, unix sockets to host daemons, io_uring, BPF, perf, keyrings,
mounts, kernel modules, kexec, clock and host-name changes, terminal input
injection (``TIOCSTI``).  A refused call fails with ``EPERM`` (``EACCES`` for a
socket family), so the worker's Python sees an ordinary OSError; a system
call made through another architecture's entry (32-bit ``int 0x80`` on
x86_64) kills the process, since its numbers mean other calls.

Why not libseccomp: its Python bindings are not on PyPI (``pyseccomp`` wraps
the system library with ctypes and was last released in 2021), and the
system library is not on every machine.  The filter is one straight list of
comparisons, so it is written out here, for x86_64 and aarch64; any other
architecture runs without it (``supported()`` says why).

Landlock leaves file metadata alone, so chmod may not set the set-user-ID or
set-group-ID bits and chown may not give a file to another user or group
(a root worker could otherwise plant a set-uid program or hand a file away).

``clone3`` takes its flags in a structure the filter cannot read, so it
fails with ``ENOSYS`` and the C library falls back to ``clone``, whose flags
the filter checks for ``CLONE_NEW*``.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
from dataclasses import dataclass

from . import _libc

# Classic BPF opcodes.
_LD_ABS = 0x20  # BPF_LD | BPF_W | BPF_ABS
_JEQ = 0x15  # BPF_JMP | BPF_JEQ | BPF_K
_JGE = 0x35  # BPF_JMP | BPF_JGE | BPF_K
_JSET = 0x45  # BPF_JMP | BPF_JSET | BPF_K
_AND = 0x54  # BPF_ALU | BPF_AND | BPF_K
_RET = 0x06  # BPF_RET | BPF_K

RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
RET_ALLOW = 0x7FFF0000

_SECCOMP_SET_MODE_FILTER = 1
_SECCOMP_GET_ACTION_AVAIL = 2
_SECCOMP_FILTER_FLAG_TSYNC = 1

# Offsets in struct seccomp_data; arguments are read by their low 32 bits
# (both architectures are little-endian), which is what the kernel uses for
# every argument tested here (int domain/type, unsigned int cmd/persona, the
# CLONE_NEW* bits).
_NR, _ARCH = 0, 4


def _arg(index: int) -> int:
    return 16 + 8 * index


CLONE_NEW_FLAGS = 0x7E020000  # NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10
SOCK_TYPE_MASK, SOCK_RAW, SOCK_PACKET = 0xF, 3, 10
TIOCSTI, TIOCLINUX = 0x5412, 0x541C
PERSONALITY_QUERY, PER_LINUX = 0xFFFFFFFF, 0


@dataclass(frozen=True)
class Arch:
    name: str
    audit: int
    #: System calls numbered above this belong to another ABI on the same entry (x32).
    x32_bit: int | None
    numbers: dict[str, int]


# Each refused call, with its number on x86_64 and on aarch64 (None: the call does not exist there).
_DENIED: dict[str, tuple[int | None, int | None]] = {
    "ptrace": (101, 117), "process_vm_readv": (310, 270), "process_vm_writev": (311, 271),
    "pidfd_getfd": (438, 438), "kcmp": (312, 272), "process_madvise": (440, 440),
    "unshare": (272, 97), "setns": (308, 268),
    "mount": (165, 40), "umount2": (166, 39), "pivot_root": (155, 41), "chroot": (161, 51),
    "fsopen": (430, 430), "fsconfig": (431, 431), "fsmount": (432, 432), "fspick": (433, 433),
    "move_mount": (429, 429), "open_tree": (428, 428), "mount_setattr": (442, 442), "open_tree_attr": (467, 467),
    "open_by_handle_at": (304, 265), "name_to_handle_at": (303, 264), "fanotify_init": (300, 262),
    "bpf": (321, 280), "perf_event_open": (298, 241), "userfaultfd": (323, 282),
    "io_uring_setup": (425, 425), "io_uring_enter": (426, 426), "io_uring_register": (427, 427),
    "keyctl": (250, 219), "add_key": (248, 217), "request_key": (249, 218),
    "kexec_load": (246, 104), "kexec_file_load": (320, 294),
    "init_module": (175, 105), "finit_module": (313, 273), "delete_module": (176, 106),
    "swapon": (167, 224), "swapoff": (168, 225), "reboot": (169, 142), "syslog": (103, 116), "acct": (163, 89),
    "quotactl": (179, 60), "quotactl_fd": (443, 443), "lookup_dcookie": (212, 18), "vhangup": (153, 58),
    "settimeofday": (164, 170), "clock_settime": (227, 112), "clock_adjtime": (305, 266), "adjtimex": (159, 171),
    "sethostname": (170, 161), "setdomainname": (171, 162),
    # An anonymous file would be a program Landlock cannot see (execve of /proc/self/fd/N).
    "memfd_create": (319, 279),
    "iopl": (172, None), "ioperm": (173, None), "modify_ldt": (154, None), "uselib": (134, None),
}
#: Refused unless the policy lets the spell run programs.
_EXEC: dict[str, tuple[int, int]] = {"execve": (59, 221), "execveat": (322, 281)}
#: Calls whose arguments are looked at.
_ARGUMENT_CHECKED: dict[str, tuple[int | None, int | None]] = {
    "clone": (56, 220), "clone3": (435, 435), "socket": (41, 198), "personality": (135, 92), "ioctl": (16, 29),
    "chmod": (90, None), "fchmod": (91, 52), "fchmodat": (268, 53), "fchmodat2": (452, 452),
    "chown": (92, None), "fchown": (93, 55), "lchown": (94, None), "fchownat": (260, 54),
}
#: Where the mode is among a chmod call's arguments; where the owner and group are in a chown call's.
_MODE_ARG = {"chmod": 1, "fchmod": 1, "fchmodat": 2, "fchmodat2": 2}
_OWNER_ARGS = {"chown": 1, "fchown": 1, "lchown": 1, "fchownat": 2}
S_ISUID_ISGID = 0o6000
NO_ID = 0xFFFFFFFF  # -1: leave the owner or group as it is
_SECCOMP_NR = {"x86_64": 317, "aarch64": 277}


def _arch_table(index: int) -> dict[str, int]:
    table: dict[str, int] = {}
    for name, nums in (_DENIED | _EXEC | _ARGUMENT_CHECKED).items():
        if nums[index] is not None:
            table[name] = nums[index]  # type: ignore[assignment]
    return table


ARCHES = {
    "x86_64": Arch("x86_64", 0xC000003E, 0x40000000, _arch_table(0)),
    "aarch64": Arch("aarch64", 0xC00000B7, None, _arch_table(1)),
}


def current_arch() -> Arch | None:
    machine = platform.machine().lower()
    name = {"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine)
    if ctypes.sizeof(ctypes.c_void_p) != 8:
        return None
    return ARCHES.get(name)


class SeccompError(OSError):
    """Installing the filter failed (``errno`` says why)."""


# -- a tiny assembler: instructions with symbolic jump targets --------------------------------------
class _Program:
    def __init__(self) -> None:
        self.code: list[tuple[int, object, object, int]] = []
        self.labels: dict[str, int] = {}

    def ld(self, offset: int) -> None:
        self.code.append((_LD_ABS, 0, 0, offset))

    def jump(self, op: int, k: int, true: str | int = 0, false: str | int = 0) -> None:
        self.code.append((op, true, false, k))

    def and_(self, k: int) -> None:
        self.code.append((_AND, 0, 0, k))

    def ret(self, value: int) -> None:
        self.code.append((_RET, 0, 0, value))

    def label(self, name: str) -> None:
        self.labels[name] = len(self.code)

    def assemble(self) -> bytes:
        out = bytearray()
        for index, (op, true, false, k) in enumerate(self.code):
            jt, jf = (self._offset(index, t) for t in (true, false))
            out += op.to_bytes(2, "little") + bytes((jt, jf)) + k.to_bytes(4, "little")
        return bytes(out)

    def _offset(self, index: int, target: object) -> int:
        if isinstance(target, int):
            return target
        offset = self.labels[str(target)] - index - 1
        if not 0 <= offset < 256:
            raise ValueError(f"BPF jump to {target} out of range")
        return offset


def build_filter(arch: Arch, *, allow_exec: bool, allow_inet: bool, uid: int | None = None,
                 gid: int | None = None) -> bytes:
    """The filter as sock_filter instructions (8 bytes each).

    ``allow_exec``: execve/execveat are allowed (the policy grants
    ``allow_run``; Landlock still limits which files may be executed).
    ``allow_inet``: IPv4/IPv6 sockets may be created (the spell or its
    models use the network); otherwise every socket family is refused.
    Landlock does not cover file metadata, so chmod may not set the set-user-ID
    or set-group-ID bit, and chown may give a file only to ``uid``/``gid``
    (this process's, by default)."""
    uid = os.geteuid() if uid is None else uid
    gid = os.getegid() if gid is None else gid
    p = _Program()
    p.ld(_ARCH)
    p.jump(_JEQ, arch.audit, 0, "kill")
    p.ld(_NR)
    if arch.x32_bit is not None:
        p.jump(_JGE, arch.x32_bit, "enosys", 0)
    n = arch.numbers
    denied = [nr for name, nr in n.items() if name in _DENIED]
    if not allow_exec:
        denied += [n["execve"], n["execveat"]]
    for nr in sorted(denied):
        p.jump(_JEQ, nr, "eperm", 0)
    p.jump(_JEQ, n["clone3"], "enosys", 0)
    p.jump(_JEQ, n["clone"], "clone", 0)
    p.jump(_JEQ, n["socket"], "socket", 0)
    p.jump(_JEQ, n["personality"], "personality", 0)
    p.jump(_JEQ, n["ioctl"], "ioctl", 0)
    for name in _MODE_ARG:
        if name in n:
            p.jump(_JEQ, n[name], "mode_" + name, 0)
    for name in _OWNER_ARGS:
        if name in n:
            p.jump(_JEQ, n[name], "owner_" + name, 0)
    p.ret(RET_ALLOW)

    for name, index in _MODE_ARG.items():
        if name in n:
            p.label("mode_" + name)
            p.ld(_arg(index))
            p.jump(_JSET, S_ISUID_ISGID, "eperm", "allow")
    for name, index in _OWNER_ARGS.items():
        if name in n:
            p.label("owner_" + name)
            p.ld(_arg(index))
            p.jump(_JEQ, NO_ID, "group_" + name, 0)
            p.jump(_JEQ, uid & NO_ID, "group_" + name, "eperm")
            p.label("group_" + name)
            p.ld(_arg(index + 1))
            p.jump(_JEQ, NO_ID, "allow", 0)
            p.jump(_JEQ, gid & NO_ID, "allow", "eperm")

    p.label("clone")
    p.ld(_arg(0))
    p.jump(_JSET, CLONE_NEW_FLAGS, "eperm", "allow")

    p.label("socket")
    if allow_inet:
        p.ld(_arg(0))
        p.jump(_JEQ, AF_INET, "socket_type", 0)
        p.jump(_JEQ, AF_INET6, "socket_type", "eacces")
        p.label("socket_type")
        p.ld(_arg(1))
        p.and_(SOCK_TYPE_MASK)
        p.jump(_JEQ, SOCK_RAW, "eperm", 0)
        p.jump(_JEQ, SOCK_PACKET, "eperm", "allow")
    else:
        p.ret(RET_ERRNO | errno.EACCES)

    p.label("personality")
    p.ld(_arg(0))
    p.jump(_JEQ, PERSONALITY_QUERY, "allow", 0)
    p.jump(_JEQ, PER_LINUX, "allow", "eperm")

    p.label("ioctl")
    p.ld(_arg(1))
    p.jump(_JEQ, TIOCSTI, "eperm", 0)
    p.jump(_JEQ, TIOCLINUX, "eperm", "allow")

    p.label("allow")
    p.ret(RET_ALLOW)
    p.label("eperm")
    p.ret(RET_ERRNO | errno.EPERM)
    p.label("eacces")
    p.ret(RET_ERRNO | errno.EACCES)
    p.label("enosys")
    p.ret(RET_ERRNO | errno.ENOSYS)
    p.label("kill")
    p.ret(RET_KILL_PROCESS)
    return p.assemble()


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _seccomp(arch: Arch, operation: int, flags: int, arg: object) -> int:
    return _libc.syscall(SeccompError, ctypes.c_long(_SECCOMP_NR[arch.name]), ctypes.c_uint(operation),
                         ctypes.c_uint(flags), arg)


def supported() -> tuple[bool, str]:
    """Whether this process can install the filter, and why not if it cannot."""
    if _libc.LIBC is None:
        return False, "not Linux"
    arch = current_arch()
    if arch is None:
        bits = 8 * ctypes.sizeof(ctypes.c_void_p)
        return False, f"no filter for this architecture ({platform.machine()}, {bits}-bit)"
    action = ctypes.c_uint32(RET_ERRNO)
    try:
        _seccomp(arch, _SECCOMP_GET_ACTION_AVAIL, 0, ctypes.byref(action))
    except SeccompError as exc:
        if exc.errno == errno.ENOSYS:
            return False, "the kernel has no seccomp filters"
        return False, f"seccomp is not usable: {exc.strerror}"
    return True, arch.name


def install(program: bytes, arch: Arch) -> None:
    """Load the filter on every thread of this process (TSYNC), for good.
    The caller has set NO_NEW_PRIVS (``landlock.set_no_new_privs``)."""
    buffer = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    _seccomp(arch, _SECCOMP_SET_MODE_FILTER, _SECCOMP_FILTER_FLAG_TSYNC, ctypes.byref(prog))
