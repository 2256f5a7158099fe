"""Tengo's ``os`` module, behind the sandbox policy.

Every file, environment and process function asks the host's policy first
(``check_read``/``check_write``/``check_env``/``check_exec``); nothing is
allowed by default.  A refusal reaches the script as an ``error`` value
("permission_denied: ...") it can test with ``is_error``, exactly like a
failing OS call, which the reference also reports as an error value.
Functions that return only an error give ``true`` on success.

No spell path reaches the system by name: files are opened, made, removed,
renamed and changed through the sandbox's link-safe walk
(:mod:`llmspell.sandbox.paths`, :mod:`llmspell.sandbox.fileops`), so a folder
swapped for a link between the check and the call is refused, not followed.
Only regular files (and folders, read-only) open: a FIFO or device is refused
at once instead of blocking the spell.  An open file keeps what its opening
allowed: ``chmod``/``chown`` through it need it opened for writing.  Bytes
written count against the run's write quota (``max_write``).  Programs run by
the absolute path the policy resolved (never looked up on a PATH the spell
sets), each in a process group of its own that ends with the run.

The environment a spell sees is the host's ``environ`` mapping (or a private
copy of the process environment): ``setenv`` never changes the real process
environment, and child processes get only what the spell passes them.
"""

from __future__ import annotations

import os as _os
import pathlib
import socket
import stat as _stat
import subprocess
import tempfile
from collections.abc import Callable
from typing import Any

from ....errors import SpellError
from ....host import is_run_limit
from ....sandbox import fileops, paths
from ....sandbox.processes import Children
from ..objects import (
    UNDEFINED,
    Char,
    Error,
    ImmutableMap,
    TengoError,
    Time,
    utf8_bytes,
)
from ._args import BytesLimit, SizeLimits, arg_array, arg_bytes, arg_int, arg_str, module, nargs, str_array

TRUE = True

_MODE_BITS = {
    "mode_dir": 1 << 31,
    "mode_append": 1 << 30,
    "mode_exclusive": 1 << 29,
    "mode_temporary": 1 << 28,
    "mode_symlink": 1 << 27,
    "mode_device": 1 << 26,
    "mode_named_pipe": 1 << 25,
    "mode_socket": 1 << 24,
    "mode_setuid": 1 << 23,
    "mode_setgui": 1 << 22,
    "mode_char_device": 1 << 21,
    "mode_sticky": 1 << 20,
    "mode_irregular": 1 << 19,
}
_MODE_TYPE = (_MODE_BITS["mode_dir"] | _MODE_BITS["mode_symlink"] | _MODE_BITS["mode_named_pipe"]
              | _MODE_BITS["mode_socket"] | _MODE_BITS["mode_device"] | _MODE_BITS["mode_char_device"]
              | _MODE_BITS["mode_irregular"])

CONSTANTS: dict[str, Any] = {
    "o_rdonly": _os.O_RDONLY,
    "o_wronly": _os.O_WRONLY,
    "o_rdwr": _os.O_RDWR,
    "o_append": _os.O_APPEND,
    "o_create": _os.O_CREAT,
    "o_excl": _os.O_EXCL,
    "o_sync": getattr(_os, "O_SYNC", 0),
    "o_trunc": _os.O_TRUNC,
    **_MODE_BITS,
    "mode_type": _MODE_TYPE,
    "mode_perm": 0o777,
    "seek_set": 0,
    "seek_cur": 1,
    "seek_end": 2,
    "path_separator": Char(ord("/")),
    "path_list_separator": Char(ord(":")),
    "dev_null": "/dev/null",
}


class ScriptExit(TengoError):
    """``os.exit(code)``: stops the spell (never the host process)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"exit status {code}")
        self.code = code


def _denied(exc: SpellError) -> Error:
    return Error(str(exc))


def _os_error(op: str, name: str, exc: OSError) -> Error:
    reason = exc.strerror or str(exc)
    reason = reason[:1].lower() + reason[1:]
    return Error(f"{op} {name}: {reason}" if op else f"{name}: {reason}")


def go_file_mode(st_mode: int) -> int:
    """Go's FileMode bits for a stat mode."""
    mode = st_mode & 0o777
    if _stat.S_ISDIR(st_mode):
        mode |= _MODE_BITS["mode_dir"]
    elif _stat.S_ISLNK(st_mode):
        mode |= _MODE_BITS["mode_symlink"]
    elif _stat.S_ISFIFO(st_mode):
        mode |= _MODE_BITS["mode_named_pipe"]
    elif _stat.S_ISSOCK(st_mode):
        mode |= _MODE_BITS["mode_socket"]
    elif _stat.S_ISCHR(st_mode):
        mode |= _MODE_BITS["mode_device"] | _MODE_BITS["mode_char_device"]
    elif _stat.S_ISBLK(st_mode):
        mode |= _MODE_BITS["mode_device"]
    if st_mode & _stat.S_ISUID:
        mode |= _MODE_BITS["mode_setuid"]
    if st_mode & _stat.S_ISGID:
        mode |= _MODE_BITS["mode_setgui"]
    if st_mode & _stat.S_ISVTX:
        mode |= _MODE_BITS["mode_sticky"]
    return mode


def file_info(name: str, st: _os.stat_result) -> ImmutableMap:
    return ImmutableMap(
        name=pathlib.PurePath(name).name,
        mtime=Time(st.st_mtime_ns, 0, "Local"),
        size=st.st_size,
        mode=go_file_mode(st.st_mode),
        directory=_stat.S_ISDIR(st.st_mode),
    )


class _Os:
    """The module's state for one script run: host, policy, environment."""

    def __init__(self, host: Any) -> None:
        self.host = host
        self.policy = host.policy
        self.limits = SizeLimits.of(host)
        env = getattr(host, "environ", None)
        self.env: dict[str, str] = env if env is not None else dict(_os.environ)
        #: The run's write quota (SpellRun.count_write) and its programs (ended with the run).
        self.count_write: Callable[[int], None] | None = getattr(host, "count_write", None)
        self.children: Children = getattr(host, "children", None) or Children()

    # --- checks -------------------------------------------------------------
    def base(self) -> pathlib.Path:
        """Where relative paths start: the spell's folder."""
        return pathlib.Path(self.host.cwd())

    def reserve(self, size: int) -> None:
        """Take ``size`` bytes about to be written from the write quota (or end the run)."""
        if self.count_write is not None and size:
            self.count_write(size)

    def guarded(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Turn policy refusals into error values; a limit of the run ends it."""

        def call(*args: Any) -> Any:
            try:
                return fn(*args)
            except SpellError as exc:
                if is_run_limit(exc):
                    raise
                return _denied(exc)

        return call

    def op(self, op: str, name: str, action: Callable[[], Any]) -> Any:
        try:
            result = action()
        except OSError as exc:
            return _os_error(op, name, exc)
        return TRUE if result is None else result

    # --- environment -------------------------------------------------------------
    def getenv(self, key: str) -> str:
        self.policy.check_env(key)
        return self.env.get(key, "")

    def expand(self, s: str) -> str:
        """Go's os.ExpandEnv, each variable checked by the policy."""
        out: list[str] = []
        i = 0
        j = 0
        while j < len(s):
            if s[j] == "$" and j + 1 < len(s):
                out.append(s[i:j])
                name, width = _shell_name(s[j + 1:])
                if name:
                    out.append(self.getenv(name))
                elif width == 0:
                    out.append("$")
                j += width
                i = j + 1
                self.limits.string("".join(out))
            j += 1
        out.append(s[i:])
        return "".join(out)

    def visible_env(self) -> list[str]:
        out = []
        for key, value in self.env.items():
            try:
                self.policy.check_env(key)
            except SpellError:
                continue
            out.append(f"{key}={value}")
        return out

    # --- processes -------------------------------------------------------------
    def program(self, name: str) -> str:
        """The absolute path the policy allows for ``name`` (permission_denied otherwise)."""
        return self.policy.check_exec(name, base=self.base())

    def work_dir(self, name: str) -> pathlib.Path:
        """A folder a program may start in: the spell must be able to read it."""
        real = paths.check_path(self.policy, name, "read", base=self.base())
        _os.close(paths.open_dir(real))  # it is a folder, reached without a link
        return real

    def spawn(self, argv: list[str], program: str, cwd: pathlib.Path | None, env: list[str] | None,
              **options: Any) -> subprocess.Popen:
        """Start ``program`` (an absolute path the policy resolved) with ``argv``, in
        ``cwd`` opened by the link-safe walk, as a child the run ends."""
        if cwd is None:
            return self.children.start(argv, executable=program, env=self.child_env(env),
                                       stdin=subprocess.DEVNULL, **options)
        fd = paths.open_dir(cwd)
        try:
            return self.children.start(argv, executable=program, env=self.child_env(env),
                                       stdin=subprocess.DEVNULL, cwd=f"/proc/self/fd/{fd}", pass_fds=(fd,),
                                       **options)
        finally:
            _os.close(fd)

    def child_env(self, env: list[str] | None) -> dict[str, str]:
        if env is None:
            return {"PATH": _os.environ.get("PATH", _os.defpath)}
        out = {}
        for item in env:
            key, _, value = item.partition("=")
            out[key] = value
        return out


_SPECIAL = set("*#$@!?-0123456789")


def _shell_name(s: str) -> tuple[str, int]:
    if s[0] == "{":
        if len(s) > 2 and s[1] in _SPECIAL and s[2] == "}":
            return s[1], 3
        for i in range(1, len(s)):
            if s[i] == "}":
                if i == 1:
                    return "", 2
                return s[1:i], i + 1
        return "", 1
    if s[0] in _SPECIAL:
        return s[0], 1
    i = 0
    while i < len(s) and (s[i] == "_" or (s[i].isascii() and s[i].isalnum())):
        i += 1
    return s[:i], i


# --- File ----------------------------------------------------------------------------


def _file_object(state: _Os, name: str, fd: int, writable: bool) -> ImmutableMap:
    """An open file.  ``writable``: opened for writing after a write check; what
    changes the file (write, chmod, chown) needs it, as the open allowed."""

    def wrap_os(op: str, action: Callable[[], Any]) -> Any:
        return state.op(op, name, action)

    def read_only(op: str) -> Error:
        return Error(f"permission_denied: {op} {name}: the file was opened for reading only; "
                     "open it for writing (with --allow-write) to change it")

    def close(*args: Any) -> Any:
        nargs(args, 0)
        return wrap_os("close", lambda: _os.close(fd))

    def name_(*args: Any) -> str:
        nargs(args, 0)
        return name

    def write_bytes(data: bytes) -> Any:
        if not writable:
            return Error(f"write {name}: bad file descriptor")
        state.reserve(len(data))
        return wrap_os("write", lambda: _os.write(fd, data))

    def write(*args: Any) -> Any:
        nargs(args, 1)
        return write_bytes(arg_bytes(args, 0))

    def write_string(*args: Any) -> Any:
        nargs(args, 1)
        return write_bytes(utf8_bytes(arg_str(args, 0)))

    def read(*args: Any) -> Any:
        nargs(args, 1)
        buf = arg_bytes(args, 0)  # Go's ToByteSlice: a string is read into a copy

        def do() -> int:
            data = _os.read(fd, len(buf))
            if type(buf) is bytearray:  # the caller's bytes are filled in place, as in Go
                buf[: len(data)] = data
            if not data and len(buf):
                raise EOFError
            return len(data)

        try:
            return wrap_os("read", do)
        except EOFError:
            return Error("EOF")

    def seek(*args: Any) -> Any:
        nargs(args, 2)
        offset, whence = arg_int(args, 0), arg_int(args, 1)
        return wrap_os("seek", lambda: _os.lseek(fd, offset, whence))

    def stat(*args: Any) -> Any:
        nargs(args, 0)
        return wrap_os("stat", lambda: file_info(name, _os.fstat(fd)))

    def sync(*args: Any) -> Any:
        nargs(args, 0)
        return wrap_os("sync", lambda: _os.fsync(fd))

    def chmod(*args: Any) -> Any:
        nargs(args, 1)
        mode = arg_int(args, 0)
        if not writable:
            return read_only("chmod")
        return wrap_os("chmod", lambda: _os.fchmod(fd, mode & 0o7777))

    def chown(*args: Any) -> Any:
        nargs(args, 2)
        uid, gid = arg_int(args, 0), arg_int(args, 1)
        if not writable:
            return read_only("chown")
        return wrap_os("chown", lambda: _os.fchown(fd, uid, gid))

    def readdirnames(*args: Any) -> Any:
        nargs(args, 1)
        n = arg_int(args, 0)

        def do() -> list[str]:
            names = sorted(_os.listdir(fd))
            return names[:n] if n > 0 else names

        return wrap_os("readdirent", do)

    def chdir(*args: Any) -> Any:
        nargs(args, 0)
        return Error("permission_denied: changing the working directory is not allowed")

    return module(
        {"chdir": chdir, "chown": state.guarded(chown), "close": close, "name": name_,
         "readdirnames": readdirnames, "sync": sync, "write": state.guarded(write),
         "write_string": state.guarded(write_string), "read": read, "stat": stat,
         "chmod": state.guarded(chmod), "seek": seek},
        state.limits,
    )


# --- processes -------------------------------------------------------------------


def _process_state(proc: subprocess.Popen) -> ImmutableMap:
    code = proc.returncode

    def exited(*args: Any) -> bool:
        return code is not None and code >= 0

    def pid(*args: Any) -> int:
        return proc.pid

    def string(*args: Any) -> str:
        if code is None:
            return "running"
        return f"exit status {code}" if code >= 0 else f"signal: {-code}"

    def success(*args: Any) -> bool:
        return code == 0

    return module({"exited": exited, "pid": pid, "string": string, "success": success})


def _process_object(proc: subprocess.Popen) -> ImmutableMap:
    def kill(*args: Any) -> Any:
        nargs(args, 0)
        proc.kill()
        return TRUE

    def release(*args: Any) -> Any:
        nargs(args, 0)
        return TRUE

    def signal(*args: Any) -> Any:
        nargs(args, 1)
        proc.send_signal(arg_int(args, 0))
        return TRUE

    def wait(*args: Any) -> Any:
        nargs(args, 0)
        proc.wait()
        return _process_state(proc)

    return module({"kill": kill, "release": release, "signal": signal, "wait": wait})


def _command_object(state: _Os, argv: list[str], program: str) -> ImmutableMap:
    """Go's exec.Cmd.  ``program``: the absolute path the policy resolved for argv[0]."""
    settings: dict[str, Any] = {"cwd": None, "env": None, "program": program}
    running: dict[str, subprocess.Popen] = {}

    def popen(**kw: Any) -> subprocess.Popen:
        return state.spawn(list(argv), settings["program"], settings["cwd"], settings["env"], **kw)

    def failed(exc: OSError) -> Error:
        return _os_error("exec:", argv[0], exc)

    def exit_error(code: int) -> Error:
        return Error(f"exit status {code}" if code >= 0 else f"signal: {-code}")

    def output(*args: Any) -> Any:
        nargs(args, 0)
        try:
            proc = popen(stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except OSError as exc:
            return failed(exc)
        out, _ = proc.communicate()
        return state.limits.bytes(out) if proc.returncode == 0 else exit_error(proc.returncode)

    def combined_output(*args: Any) -> Any:
        nargs(args, 0)
        try:
            proc = popen(stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        except OSError as exc:
            return failed(exc)
        out, _ = proc.communicate()
        return state.limits.bytes(out) if proc.returncode == 0 else exit_error(proc.returncode)

    def run(*args: Any) -> Any:
        nargs(args, 0)
        try:
            proc = popen(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError as exc:
            return failed(exc)
        proc.wait()
        return TRUE if proc.returncode == 0 else exit_error(proc.returncode)

    def start(*args: Any) -> Any:
        nargs(args, 0)
        if "proc" in running:
            return Error("exec: already started")
        try:
            running["proc"] = popen(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except OSError as exc:
            return failed(exc)
        return TRUE

    def wait(*args: Any) -> Any:
        nargs(args, 0)
        proc = running.get("proc")
        if proc is None:
            return Error("exec: not started")
        proc.wait()
        return TRUE if proc.returncode == 0 else exit_error(proc.returncode)

    def set_path(*args: Any) -> Any:
        nargs(args, 1)
        settings["program"] = state.program(arg_str(args, 0))
        return UNDEFINED

    def set_dir(*args: Any) -> Any:
        nargs(args, 1)
        settings["cwd"] = state.work_dir(arg_str(args, 0))
        return UNDEFINED

    def set_env(*args: Any) -> Any:
        nargs(args, 1)
        settings["env"] = str_array(args, 0)
        return UNDEFINED

    def process(*args: Any) -> Any:
        nargs(args, 0)
        proc = running.get("proc")
        return _process_object(proc) if proc is not None else UNDEFINED

    return module(
        {"combined_output": state.guarded(combined_output), "output": state.guarded(output),
         "run": state.guarded(run), "start": state.guarded(start), "wait": wait,
         "set_path": state.guarded(set_path), "set_dir": state.guarded(set_dir), "set_env": set_env,
         "process": process},
        state.limits,
    )


# --- the module ----------------------------------------------------------------------


def build(host: Any) -> ImmutableMap:
    s = _Os(host)
    policy = s.policy

    def f0(fn: Callable[[], Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            nargs(args, 0)
            return fn()

        return call

    def path_op(op: str, action: Callable[..., Any], *getters: Callable[[tuple, int], Any]) -> Callable[..., Any]:
        """A function of (name, extra args...): ``action(name, *extra)`` does the
        check and the call (sandbox.fileops); a system error becomes Go's message."""

        def call(*args: Any) -> Any:
            nargs(args, 1 + len(getters))
            name = arg_str(args, 0)
            extra = [g(args, i + 1) for i, g in enumerate(getters)]
            return s.op(op, name, lambda: action(name, *extra))

        return s.guarded(call)

    def two_paths(op: str, action: Callable[[str, str], Any]) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            nargs(args, 2)
            old, new = arg_str(args, 0), arg_str(args, 1)
            return s.op(op, f"{old} {new}", lambda: action(old, new))

        return s.guarded(call)

    def open_file(name: str, flags: int, perm: int) -> Any:
        try:
            fd, _ = paths.open_file(policy, name, flags, perm, base=s.base())
        except OSError as exc:
            return _os_error("open", name, exc)
        return _file_object(s, name, fd, writable=flags & _os.O_ACCMODE != _os.O_RDONLY)

    def create(*args: Any) -> Any:
        nargs(args, 1)
        return open_file(arg_str(args, 0), _os.O_RDWR | _os.O_CREAT | _os.O_TRUNC, 0o666)

    def open_(*args: Any) -> Any:
        nargs(args, 1)
        return open_file(arg_str(args, 0), _os.O_RDONLY, 0)

    def open_file_(*args: Any) -> Any:
        nargs(args, 3)
        return open_file(arg_str(args, 0), arg_int(args, 1), arg_int(args, 2))

    def read_file(name: str) -> bytearray:
        real = paths.check_path(policy, name, "read", base=s.base())
        limit = s.limits.max_bytes_len
        try:
            data = paths.read_resolved(real, max_bytes=limit)
        except SpellError as exc:
            if exc.kind == "limit_exceeded":  # bigger than a bytes value may be: as text.repeat would
                raise BytesLimit() from None
            raise
        return s.limits.bytes(data)

    def stat(name: str) -> ImmutableMap:
        return file_info(name, fileops.stat_path(policy, name, base=s.base()))

    def getenv(*args: Any) -> Any:
        nargs(args, 1)
        return s.getenv(arg_str(args, 0))

    def lookup_env(*args: Any) -> Any:
        nargs(args, 1)
        key = arg_str(args, 0)
        s.policy.check_env(key)
        return s.env[key] if key in s.env else False

    def setenv(*args: Any) -> Any:
        nargs(args, 2)
        key, value = arg_str(args, 0), arg_str(args, 1)
        s.policy.check_env(key)
        s.env[key] = value
        return TRUE

    def unsetenv(*args: Any) -> Any:
        nargs(args, 1)
        key = arg_str(args, 0)
        s.policy.check_env(key)
        s.env.pop(key, None)
        return TRUE

    def clearenv(*args: Any) -> Any:
        nargs(args, 0)
        for entry in s.visible_env():
            s.env.pop(entry.partition("=")[0], None)
        return UNDEFINED

    def expand_env(*args: Any) -> Any:
        nargs(args, 1)
        return s.expand(arg_str(args, 0))

    def exit_(*args: Any) -> Any:
        nargs(args, 1)
        raise ScriptExit(arg_int(args, 0))

    def chdir(*args: Any) -> Any:
        nargs(args, 1)
        arg_str(args, 0)
        return Error("permission_denied: changing the working directory is not allowed")

    def exec_(*args: Any) -> Any:
        if not args:
            raise WrongArgs()
        argv = [arg_str(args, i) for i in range(len(args))]
        return _command_object(s, argv, s.program(argv[0]))

    def exec_look_path(*args: Any) -> Any:
        nargs(args, 1)
        return s.program(arg_str(args, 0))

    def start_process(*args: Any) -> Any:
        nargs(args, 4)
        name = arg_str(args, 0)
        argv = str_array(args, 1)
        directory = arg_str(args, 2)
        env = str_array(args, 3)
        arg_array(args, 3)
        program = s.program(name)
        cwd = s.work_dir(directory) if directory else None
        try:
            proc = s.spawn([name, *argv[1:]], program, cwd, env, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        except OSError as exc:
            return _os_error("fork/exec", name, exc)
        return _process_object(proc)

    def find_process(*args: Any) -> Any:
        nargs(args, 1)
        arg_int(args, 0)
        s.policy.check_exec("find_process")
        return Error("permission_denied: attaching to other processes is not supported")

    def temp_dir(*args: Any) -> str:
        nargs(args, 0)
        return tempfile.gettempdir()

    def truncate(name: str, size: int) -> None:
        fileops.truncate(policy, name, size, base=s.base(), reserve=s.reserve)

    b = s.base
    g = s.guarded
    return module(
        {
            **CONSTANTS,
            "args": f0(lambda: list(getattr(host, "args", None) or [])),
            "chdir": g(chdir),
            "chmod": path_op("chmod", lambda p, m: fileops.chmod(policy, p, m, base=b()), arg_int),
            "chown": path_op("chown", lambda p, u, gr: fileops.chown(policy, p, u, gr, base=b()), arg_int, arg_int),
            "clearenv": g(clearenv),
            "environ": f0(s.visible_env),
            "exit": exit_,
            "expand_env": g(expand_env),
            "getegid": f0(_os.getegid),
            "getenv": g(getenv),
            "geteuid": f0(_os.geteuid),
            "getgid": f0(_os.getgid),
            "getgroups": f0(lambda: list(_os.getgroups())),
            "getpagesize": f0(lambda: _os.sysconf("SC_PAGE_SIZE")),
            "getpid": f0(_os.getpid),
            "getppid": f0(_os.getppid),
            "getuid": f0(_os.getuid),
            "getwd": f0(lambda: str(host.cwd())),
            "hostname": f0(socket.gethostname),
            "lchown": path_op("lchown", lambda p, u, gr: fileops.chown(policy, p, u, gr, base=b(), follow_last=False),
                              arg_int, arg_int),
            "link": two_paths("link", lambda a, c: fileops.hard_link(policy, a, c, base=b())),
            "lookup_env": g(lookup_env),
            "mkdir": path_op("mkdir", lambda p, m: fileops.make_dir(policy, p, m, base=b()), arg_int),
            "mkdir_all": path_op("mkdir", lambda p, m: fileops.make_dir(policy, p, m, base=b(), parents=True),
                                 arg_int),
            "read_file": path_op("open", read_file),
            "readlink": path_op("readlink", lambda p: fileops.readlink_path(policy, p, base=b())),
            "remove": path_op("remove", lambda p: fileops.remove(policy, p, base=b())),
            "remove_all": path_op("unlinkat", lambda p: fileops.remove(policy, p, base=b(), recursive=True)),
            "rename": two_paths("rename", lambda a, c: fileops.rename(policy, a, c, base=b())),
            "setenv": g(setenv),
            "stat": path_op("stat", stat),
            "symlink": two_paths("symlink", lambda a, c: fileops.symlink(policy, a, c, base=b())),
            "temp_dir": temp_dir,
            "truncate": path_op("truncate", truncate, arg_int),
            "unsetenv": g(unsetenv),
            "create": g(create),
            "open": g(open_),
            "open_file": g(open_file_),
            "find_process": g(find_process),
            "start_process": g(start_process),
            "exec_look_path": g(exec_look_path),
            "exec": g(exec_),
        },
        s.limits,
    )


class WrongArgs(TengoError):
    def __init__(self) -> None:
        super().__init__("wrong number of arguments")
