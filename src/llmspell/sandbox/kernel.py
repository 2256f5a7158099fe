"""The kernel behind the VM: the spell's worker confines itself before any spell code runs.

Every check in ``policy.py`` runs inside the VM's host calls, so a bug in
lupa, QuickJS or our Tengo interpreter that lets a spell reach Python would
pass them all.  So the worker process (``worker.py``, process isolation)
asks the kernel to hold the same line, right after the fork and before the
spell is read, while it is still one thread:

- **Landlock** (``landlock.py``): the worker may read the runtime's own
  files (Python's prefixes and ``sys.path``, ``/usr``, ``/lib*``, the few
  ``/etc`` files the C library, SSL and DNS read, ``/dev/null``,
  ``/dev/urandom``, its own ``/proc/self``), the spell and the script files
  of its folder (imports need no grant), what ``allow_read`` grants, and write only what ``allow_write`` grants; it
  may execute only the resolved ``allow_run`` programs (and their ELF or
  ``#!`` interpreters); it may bind no TCP port and connect only to the ports
  of the ``allow_net`` hosts and of the configured model providers (model
  requests still leave from the worker); it may not signal processes outside
  itself nor reach abstract unix sockets.
- **seccomp** (``seccomp.py``): no ``execve`` without ``allow_run``, no
  ``ptrace``/``process_vm_*``, no namespaces, no raw, packet, netlink or unix
  sockets (no IPv4/IPv6 socket either when the run has no network at all),
  no ``io_uring``, ``bpf``, ``perf_event_open``, keyrings, mounts, modules,
  kexec or ``memfd_create``.

What Landlock cannot say, and so stays with the VM's checks alone:

- ``deny_read``/``deny_write`` inside a granted folder: Landlock only adds
  rights, so a grant that lies inside a deny entry is dropped, but a deny
  entry inside a grant is enforced by the VM only.
- hosts: Landlock knows TCP ports, not addresses (``allow_net=127.0.0.1:8080``
  lets the kernel connect to port 8080 anywhere); an ``allow_net`` entry
  without a port (Deno's "any port") or ``allow_net=True`` lifts the TCP
  restriction.  UDP is not restricted (the resolver needs it) when the run
  has any network.
- paths that do not exist when the run starts get no rule (a module written
  into the spell's folder during the run cannot be imported).
- a spell folder of more than ``SCAN_LIMIT`` entries is readable whole.
- a program granted by ``allow_run`` runs inside the same confinement, and
  so does whatever it starts: the grant is to run code there, not more.

Where Landlock or seccomp is missing (another OS, an old kernel, an
architecture without a filter here) the run goes on with the VM's checks
alone and the process says so once on stderr; ``llmspell sandbox`` names
what is active.  ``LLMSPELL_CONFINE=0`` turns confinement off, for
debugging.  Inline isolation (``Runtime(isolation="inline")``) runs in the
caller's process and is never confined.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from . import landlock, seccomp
from .netaddr import DEFAULT_PORTS, parse_rule

if TYPE_CHECKING:
    from llmspell.config import Settings

    from .policy import Policy

#: Set to 0 (or off/false/no) to run workers unconfined, for debugging.
ENV_SWITCH = "LLMSPELL_CONFINE"
#: Files outside Python's folders that the C library, SSL and the resolver read.
SYSTEM_READ = (
    "/usr", "/lib", "/lib64", "/lib32", "/libx32",
    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/timezone",
    "/etc/resolv.conf", "/etc/hosts", "/etc/host.conf", "/etc/nsswitch.conf", "/etc/gai.conf",
    "/etc/services", "/etc/protocols", "/etc/mime.types", "/etc/os-release",
    "/etc/ssl", "/etc/ca-certificates", "/etc/ca-certificates.conf", "/etc/pki", "/etc/crypto-policies",
    "/sys/devices/system/cpu", "/proc/cpuinfo",
    "/dev/urandom", "/dev/random", "/dev/zero",
)
#: Devices the worker (and a program it runs) may write.
DEVICES_WRITE = ("/dev/null",)
#: Environment variables an operator uses to point SSL at certificates.
_CERT_VARIABLES = ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
#: Model providers reached over HTTPS when their key is set.
_CLOUD_PROVIDERS = ("openai", "anthropic", "google")
_DNS_PORT = 53
#: Entries of a spell folder listed to grant its script files one by one; past this, the folder is granted.
SCAN_LIMIT = 1000

_READ = landlock.FS_READ_FILE | landlock.FS_READ_DIR
_WRITE = (landlock.FS_WRITE_FILE | landlock.FS_TRUNCATE | landlock.FS_MAKE_REG | landlock.FS_MAKE_DIR
          | landlock.FS_REMOVE_FILE | landlock.FS_REMOVE_DIR | landlock.FS_MAKE_SYM | landlock.FS_REFER)
_DEVICE = landlock.FS_READ_FILE | landlock.FS_WRITE_FILE | landlock.FS_TRUNCATE


class ConfinementError(Exception):
    """The kernel offered confinement but refused to apply it."""


@dataclass(frozen=True)
class Support:
    """What this machine's kernel offers, and why not where it does not."""

    landlock_abi: int
    landlock_reason: str
    seccomp: bool
    seccomp_reason: str
    disabled: bool = False

    @property
    def any(self) -> bool:
        return not self.disabled and (self.landlock_abi > 0 or self.seccomp)


@dataclass(frozen=True)
class Plan:
    """What one worker may still do once confined (computed by the parent,
    applied by the child)."""

    read: tuple[str, ...]
    write: tuple[str, ...]
    execute: tuple[str, ...]
    #: TCP ports the worker may connect to; ``None``: any port.
    tcp_ports: frozenset[int] | None
    #: Whether IPv4/IPv6 sockets may be created at all.
    inet: bool
    #: Whether programs may be started (``allow_run``).
    exec: bool
    support: Support
    #: The seccomp program, built here in the parent (the child only loads it); ``None``: no seccomp.
    filter: bytes | None = None


@functools.lru_cache(maxsize=1)
def _probe() -> tuple[int, str, bool, str]:
    abi, why = landlock.abi_version()
    ok, what = seccomp.supported()
    return abi, why, ok, what


def support() -> Support:
    """What confinement this process's workers get (the kernel is asked once)."""
    disabled = os.environ.get(ENV_SWITCH, "").strip().lower() in ("0", "off", "false", "no")
    abi, why, ok, what = _probe()
    return Support(abi, why, ok, what, disabled)


_warned: set[str] = set()


def _warn_once(key: str, text: str) -> None:
    if key not in _warned:
        _warned.add(key)
        sys.stderr.write(f"llmspell: warning: {text}\n")
        sys.stderr.flush()


def announce(found: Support) -> None:
    """Say once per process what the workers run without."""
    if found.disabled:
        _warn_once("off", f"kernel confinement is off ({ENV_SWITCH}=0): spells are held by the VM's checks alone")
        return
    if not found.landlock_abi:
        _warn_once("landlock", f"no Landlock ({found.landlock_reason}): files, ports and signals of spell "
                               "workers are guarded by the VM's checks alone")
    if not found.seccomp:
        _warn_once("seccomp", f"no seccomp filter ({found.seccomp_reason}): exec, ptrace, namespaces and raw "
                              "sockets of spell workers are guarded by the VM's checks alone")


def plan_for(policy: Policy | None, settings: Settings | None, spell_dir: str | os.PathLike,
             spell_file: str | os.PathLike | None = None) -> Plan | None:
    """The confinement of a worker that runs ``spell_file`` (or source text)
    with imports from ``spell_dir`` under ``policy``; ``None`` when there is
    nothing to apply (said once on stderr)."""
    found = support()
    announce(found)
    if not found.any or policy is None:
        return None
    spell = [os.fspath(spell_file)] if spell_file is not None else []
    spell += script_files(os.fspath(spell_dir))
    read = [*runtime_paths(), *_outside([*spell, *_grant_paths(policy.allow_read)], policy.deny_read)]
    write = [*DEVICES_WRITE, *_outside(_grant_paths(policy.allow_write), policy.deny_write)]
    # The programs the policy resolved its allow_run entries to when it was made (what the VM runs).
    programs = getattr(policy, "allowed_programs", None) if isinstance(policy.allow_run, tuple) else None
    execute = program_paths(policy.allow_run if programs is None else programs)
    ports = tcp_ports(policy, settings)
    inet = bool(policy.allow_net) or ports is None or bool(ports)
    arch = seccomp.current_arch() if found.seccomp else None
    program = seccomp.build_filter(arch, allow_exec=bool(policy.allow_run), allow_inet=inet) if arch else None
    return Plan(tuple(dict.fromkeys(read)), tuple(dict.fromkeys(write)), tuple(execute), ports, inet,
                bool(policy.allow_run), found, program)


@functools.lru_cache(maxsize=1)
def runtime_paths() -> tuple[str, ...]:
    """Everything the interpreter and its libraries load from, read-only."""
    paths = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
    paths += [entry for entry in sys.path if entry and os.path.isabs(entry)]
    package = Path(__file__).resolve().parents[1]  # llmspell itself (an editable install lives elsewhere)
    paths.append(str(package))
    import ssl  # here: the CLI's cold start does not pay for it

    verify = ssl.get_default_verify_paths()
    paths += [p for p in (verify.cafile, verify.capath, *(os.environ.get(v) for v in _CERT_VARIABLES)) if p]
    paths += SYSTEM_READ
    return tuple(dict.fromkeys(paths))


def script_files(folder: str) -> list[str]:
    """The spell folder's script files (what ``spell.require`` and Tengo
    ``import`` load without a grant), read-only; symbolic links are left to
    the VM's checks.  A folder too large to list (more than SCAN_LIMIT
    entries, counted as they are read) is granted whole instead."""
    from ..engines.languages import EXTENSIONS

    found: list[str] = []
    pending, seen = [folder], 0
    while pending:
        try:
            entries = os.scandir(pending.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                seen += 1
                if seen > SCAN_LIMIT:
                    return [folder]
                if entry.is_dir(follow_symlinks=False):
                    pending.append(entry.path)
                elif entry.name.endswith(EXTENSIONS) and entry.is_file(follow_symlinks=False):
                    found.append(entry.path)
    return found


def _grant_paths(grant: Any) -> list[str]:
    if grant is True:
        return ["/"]
    return [os.path.abspath(os.fspath(entry)) for entry in grant or ()]


def _within(path: str, root: str) -> bool:
    path, root = os.path.realpath(path), os.path.realpath(root)
    return path == root or path.startswith(root.rstrip("/") + "/")


def _outside(paths: list[str], deny: Any) -> list[str]:
    """The grants that do not lie inside a deny entry (Landlock cannot take a
    part back out of a grant, so a deny inside a grant stays the VM's job)."""
    denied = _grant_paths(deny)
    return [p for p in paths if not any(_within(p, d) for d in denied)]


def program_paths(allow_run: Any) -> list[str]:
    """The files ``allow_run`` lets the worker execute: each program resolved
    as at start (a bare name on ``PATH``), with the interpreter the kernel
    loads for it (``#!`` line, ELF ``PT_INTERP``)."""
    if allow_run is True:
        return ["/"]
    found: list[str] = []
    for entry in allow_run or ():
        path = entry if "/" in entry else shutil.which(entry)
        if not path or not os.path.isfile(path):
            continue
        for program in (path, *_interpreters(path)):
            real = os.path.realpath(program)
            if real not in found:
                found.append(real)
    return found


def _interpreters(path: str, depth: int = 0) -> list[str]:
    try:
        with open(path, "rb") as f:
            head = f.read(256)
            if head.startswith(b"#!") and depth < 2:
                line = head[2:].split(b"\n", 1)[0].strip().split()
                if line:
                    shell = os.fsdecode(line[0])
                    return [shell, *_interpreters(shell, depth + 1)]
                return []
            elf = _elf_interpreter(f, head)
    except OSError:
        return []
    return [elf] if elf else []


def _elf_interpreter(f: Any, head: bytes) -> str | None:
    """The ``PT_INTERP`` of an ELF file (the dynamic loader the kernel runs it with)."""
    if head[:4] != b"\x7fELF" or len(head) < 64:
        return None
    wide = head[4] == 2
    order = "little" if head[5] == 1 else "big"

    def num(data: bytes, at: int, size: int) -> int:
        return int.from_bytes(data[at:at + size], order)

    phoff = num(head, 0x20, 8) if wide else num(head, 0x1C, 4)
    entsize, count = (num(head, 0x36, 2), num(head, 0x38, 2)) if wide else (num(head, 0x2A, 2), num(head, 0x2C, 2))
    f.seek(phoff)
    table = f.read(entsize * min(count, 64))
    for i in range(min(count, 64)):
        entry = table[i * entsize:(i + 1) * entsize]
        if len(entry) < (56 if wide else 32) or num(entry, 0, 4) != 3:  # PT_INTERP
            continue
        offset, size = (num(entry, 8, 8), num(entry, 32, 8)) if wide else (num(entry, 4, 4), num(entry, 16, 4))
        f.seek(offset)
        return os.fsdecode(f.read(min(size, 4096)).rstrip(b"\x00"))
    return None


def tcp_ports(policy: Policy, settings: Settings | None) -> frozenset[int] | None:
    """The TCP ports the worker may connect to (``None``: any).

    The ports of the ``allow_net`` entries (a URL entry's scheme gives its
    default port; an entry without one means any port, as in Deno), the
    ports of the configured model providers and search endpoint, and DNS's
    port 53 (the resolver falls back to TCP for long answers)."""
    grant = policy.allow_net
    if grant is True:
        return None
    ports: set[int] = set()
    for entry in grant or ():
        rule = parse_rule(entry)
        if rule.port is not None:
            ports.add(rule.port)
            continue
        scheme = entry.split("://", 1)[0].lower() if "://" in entry else None
        if scheme not in DEFAULT_PORTS:
            return None
        ports.add(DEFAULT_PORTS[scheme])
    ports |= provider_ports(settings)
    if ports:
        ports.add(_DNS_PORT)
    return frozenset(ports)


def provider_ports(settings: Settings | None) -> set[int]:
    """Ports of the model providers and endpoints the operator configured."""
    if settings is None:
        return set()
    urls = [p.base_url for p in settings.providers.values() if p.base_url]
    urls += [settings.env.get(v) for v in ("OPENAI_BASE_URL", "OLLAMA_BASE_URL")]
    urls.append(settings.search_endpoint)
    ports = {_url_port(u) for u in urls if u}
    if any(settings.api_key(name) for name in _CLOUD_PROVIDERS):
        ports.add(DEFAULT_PORTS["https"])
    return {p for p in ports if p}


def _url_port(url: str) -> int | None:
    try:
        parts = urlsplit(url)
        return parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return None


def confine(plan: Plan) -> float:
    """Confine this process (the freshly forked, single-threaded worker) for
    good; returns the microseconds it took.  Raises ConfinementError if the
    kernel offers confinement but refuses it."""
    start = time.perf_counter()
    try:
        # Landlock binds the calling thread (and what it starts later): another
        # thread alive now would stay free, so refuse rather than half-confine.
        threads = len(os.listdir("/proc/self/task"))
        if threads > 1:
            raise ConfinementError(f"could not confine the spell's worker: it already runs {threads} threads")
        landlock.set_no_new_privs()
        if plan.support.landlock_abi:
            _landlock(plan)
        arch = seccomp.current_arch()
        if plan.filter is not None and arch is not None:
            seccomp.install(plan.filter, arch)
    except OSError as exc:
        raise ConfinementError(f"could not confine the spell's worker: {exc.strerror or exc}") from None
    return (time.perf_counter() - start) * 1e6


def _landlock(plan: Plan) -> None:
    ruleset = landlock.Ruleset(plan.support.landlock_abi, tcp_connect=plan.tcp_ports is not None, scoped=True)
    try:
        for path in plan.read:
            ruleset.allow_path(path, _READ)
        ruleset.allow_path("/proc/self", _READ)  # the worker's own /proc/PID, resolved after the fork
        for path in plan.write:
            ruleset.allow_path(path, _DEVICE if path in DEVICES_WRITE else _WRITE)
        for path in plan.execute:
            ruleset.allow_path(path, landlock.FS_EXECUTE)
        ruleset.allow_ports(plan.tcp_ports or ())
    except BaseException:
        ruleset.close()
        raise
    ruleset.restrict_self()


def describe(found: Support | None = None) -> list[dict[str, Any]]:
    """What confinement spell workers get on this machine, for ``llmspell sandbox``."""
    found = found or support()
    abi = found.landlock_abi
    if found.disabled:
        off = f"off ({ENV_SWITCH}=0)"
        return [{"name": "landlock", "active": False, "abi": abi, "detail": off},
                {"name": "seccomp", "active": False, "detail": off}]
    if abi:
        parts = ["files (read, write, execute)"]
        parts.append("TCP ports (bind, connect)" if abi >= 4 else "no TCP ports (needs ABI 4, VM checks only)")
        parts.append("signals and abstract unix sockets" if abi >= 6
                     else "no signal scoping (needs ABI 6, VM checks only)")
        landlock_row = {"name": "landlock", "active": True, "abi": abi, "detail": ", ".join(parts)}
    else:
        landlock_row = {"name": "landlock", "active": False, "abi": 0,
                        "detail": f"{found.landlock_reason}; the VM's checks alone guard files and ports"}
    if found.seccomp:
        seccomp_row = {"name": "seccomp", "active": True, "detail": f"{found.seccomp_reason} filter: no exec "
                       "without --allow-run, no ptrace, namespaces, raw or unix sockets, bpf, io_uring, mounts"}
    else:
        seccomp_row = {"name": "seccomp", "active": False,
                       "detail": f"{found.seccomp_reason}; the VM's checks alone guard exec and processes"}
    return [landlock_row, seccomp_row]
