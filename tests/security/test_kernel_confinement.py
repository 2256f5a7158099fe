"""The kernel behind the VM: what a spell's worker can still do if the VM is broken.

Every other red-team test goes through a spell, so it tests the VM's checks.
These act from *inside* the confined worker as a broken VM would: the
test-only hook ``worker._TEST_PROBE`` makes the worker run a Python callable
(after it has confined itself, instead of the spell), and the callable tries
what the policy refuses with plain system calls.  Each attempt must be
refused by the kernel (Landlock: EACCES, seccomp: EPERM), while what the
policy grants still works, for the worker and for threads it starts later.

With ``LLMSPELL_CONFINE=0`` (no confinement) these tests fail: that is how
they were checked to be able to fail.
"""

from __future__ import annotations

import ctypes
import errno
import os
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from tests.security.conftest import run_spell

from llmspell import Policy, Runtime
from llmspell.config import Settings
from llmspell.errors import SpellError
from llmspell.sandbox import kernel, landlock, seccomp, worker

FOUND = kernel.support()
pytestmark = pytest.mark.skipif(
    not (FOUND.landlock_abi >= 6 and FOUND.seccomp),
    reason=f"needs Landlock ABI 6+ and seccomp ({FOUND.landlock_reason or FOUND.seccomp_reason})",
)

_libc = ctypes.CDLL(None, use_errno=True)
_ARCH = seccomp.current_arch()


def syscall(name: str, *args: int) -> int:
    """A raw system call by name (numbers from the filter's own table)."""
    assert _ARCH is not None
    fn = _libc.syscall
    fn.restype = ctypes.c_long
    result = fn(ctypes.c_long(_ARCH.numbers[name]), *(ctypes.c_long(a) for a in args))
    if result < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code))
    return result


def attempt(action: Callable[[], Any]) -> str:
    """``"ok"`` or the errno name the kernel answered with."""
    try:
        action()
    except OSError as exc:
        return errno.errorcode.get(exc.errno or 0, str(exc))
    return "ok"


def read(path: Path | str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def write(path: Path | str, data: bytes = b"x") -> None:
    with open(path, "wb") as f:
        f.write(data)


def in_worker(monkeypatch: pytest.MonkeyPatch, probe: Callable[[], Any], policy: Policy, cwd: Path,
              settings: Settings | None = None) -> Any:
    """Run ``probe`` in a confined worker of a Runtime with ``policy``, as its spell would run."""
    monkeypatch.setattr(worker, "_TEST_PROBE", probe)
    runtime = Runtime(policy=policy, cwd=cwd, config=settings or Settings(env={}))
    return runtime.run(source="return 1", language="lua")


@pytest.fixture
def place(tmp_path: Path) -> dict[str, Path]:
    """spells/ (the spell's folder, with a module and a data file), data_r/, data_w/, outside/."""
    spells, data_r, data_w, outside = (tmp_path / n for n in ("spells", "data_r", "data_w", "outside"))
    for folder in (spells, data_r, data_w, outside):
        folder.mkdir()
    (spells / "mod.lua").write_text("return 1")
    (spells / "notes.txt").write_text("not a module")
    (data_r / "in.txt").write_text("granted")
    (outside / "secret.txt").write_text("secret")
    return {"spells": spells, "data_r": data_r, "data_w": data_w, "outside": outside}


def _grants(place: dict[str, Path], **more: Any) -> Policy:
    return Policy(allow_read=(str(place["data_r"]),), allow_write=(str(place["data_w"]),), **more)


# -- files --------------------------------------------------------------------------------------------

def test_reading_outside_the_grants_is_refused_by_the_kernel(monkeypatch, place):
    p = place

    def probe() -> dict[str, str]:
        return {
            "/etc/passwd": attempt(lambda: read("/etc/passwd")),
            "outside": attempt(lambda: read(p["outside"] / "secret.txt")),
            "list /": attempt(lambda: os.listdir("/")),
            "list outside": attempt(lambda: os.listdir(p["outside"])),
            "parent's environ": attempt(lambda: read(f"/proc/{os.getppid()}/environ")),
            "parent's cmdline": attempt(lambda: read(f"/proc/{os.getppid()}/cmdline")),
            "spell folder, not a script": attempt(lambda: read(p["spells"] / "notes.txt")),
            "granted file": attempt(lambda: read(p["data_r"] / "in.txt")),
            "granted folder": attempt(lambda: os.listdir(p["data_r"])),
            "spell folder module": attempt(lambda: read(p["spells"] / "mod.lua")),
            "own /proc": attempt(lambda: read("/proc/self/status")),
            "a Python module not yet imported": attempt(lambda: __import__("wave")),
        }

    got = in_worker(monkeypatch, probe, _grants(p), p["spells"])
    denied = ["/etc/passwd", "outside", "list /", "list outside", "parent's environ", "parent's cmdline",
              "spell folder, not a script"]
    assert {k: got[k] for k in denied} == dict.fromkeys(denied, "EACCES")
    assert {k: v for k, v in got.items() if k not in denied} == dict.fromkeys(set(got) - set(denied), "ok")


def test_writing_outside_the_write_grant_is_refused_by_the_kernel(monkeypatch, place):
    p = place
    (p["data_w"] / "sub").mkdir()
    in_tmp = f"/tmp/llmspell-kernel-test-{uuid.uuid4().hex}"

    def probe() -> dict[str, str]:
        w = p["data_w"]
        return {
            "outside": attempt(lambda: write(p["outside"] / "new.txt")),
            "overwrite outside": attempt(lambda: write(p["outside"] / "secret.txt")),
            "read-only grant": attempt(lambda: write(p["data_r"] / "new.txt")),
            "spell folder": attempt(lambda: write(p["spells"] / "new.lua")),
            "/tmp": attempt(lambda: write(in_tmp)),
            "rename out of the grant": attempt(lambda: (write(w / "a.txt"), os.rename(w / "a.txt",
                                                                                    p["outside"] / "a.txt"))),
            "hard link of an outside file": attempt(lambda: os.link(p["outside"] / "secret.txt", w / "l.txt")),
            "fifo in the grant": attempt(lambda: os.mkfifo(w / "fifo")),
            "write in the grant": attempt(lambda: write(w / "new.txt")),
            "mkdir, rename across folders, remove": attempt(lambda: (
                os.mkdir(w / "d"), write(w / "d" / "f"), os.rename(w / "d" / "f", w / "sub" / "f"),
                os.remove(w / "sub" / "f"), os.rmdir(w / "d"))),
            "read back (write does not grant read)": attempt(lambda: read(w / "new.txt")),
            "/dev/null": attempt(lambda: write("/dev/null")),
        }

    got = in_worker(monkeypatch, probe, _grants(p), p["spells"])
    assert got == {
        "outside": "EACCES", "overwrite outside": "EACCES", "read-only grant": "EACCES", "spell folder": "EACCES",
        "/tmp": "EACCES", "rename out of the grant": "EACCES", "hard link of an outside file": "EXDEV",
        "fifo in the grant": "EACCES",
        "write in the grant": "ok", "mkdir, rename across folders, remove": "ok",
        "read back (write does not grant read)": "EACCES", "/dev/null": "ok",
    }
    assert (p["outside"] / "secret.txt").read_text() == "secret"
    assert sorted(os.listdir(p["outside"])) == ["secret.txt"]
    assert not os.path.exists(in_tmp)


def test_a_symlink_in_the_grant_does_not_reach_outside(monkeypatch, place):
    p = place
    (p["data_w"] / "link").symlink_to(p["outside"] / "secret.txt")
    (p["data_w"] / "dirlink").symlink_to(p["outside"])

    def probe() -> dict[str, str]:
        w = p["data_w"]
        return {
            "read through a link": attempt(lambda: read(w / "link")),
            "write through a link": attempt(lambda: write(w / "link")),
            "create through a folder link": attempt(lambda: write(w / "dirlink" / "new.txt")),
            "new link to /etc/passwd, read": attempt(lambda: (os.symlink("/etc/passwd", w / "pw"), read(w / "pw"))),
        }

    policy = Policy(allow_read=(str(p["data_r"]), str(p["data_w"])), allow_write=(str(p["data_w"]),))
    got = in_worker(monkeypatch, probe, policy, p["spells"])
    assert got == dict.fromkeys(got, "EACCES")
    assert (p["outside"] / "secret.txt").read_text() == "secret"


def test_deny_entries_and_whole_grants(monkeypatch, place):
    """A grant inside a deny entry is not given to the kernel; ``True`` grants the whole file system."""
    p = place

    def probe() -> dict[str, str]:
        return {"denied grant": attempt(lambda: read(p["data_r"] / "in.txt")),
                "read everywhere": attempt(lambda: read(p["outside"] / "secret.txt"))}

    policy = Policy(allow_read=(str(p["data_r"]),), deny_read=(str(p["data_r"]),))
    assert in_worker(monkeypatch, probe, policy, p["spells"])["denied grant"] == "EACCES"
    assert in_worker(monkeypatch, probe, Policy(allow_read=True), p["spells"]) == {"denied grant": "ok",
                                                                                  "read everywhere": "ok"}


def test_threads_started_after_confinement_are_confined(monkeypatch, place):
    """Model calls and the Tengo interpreter run on threads: they inherit the confinement."""

    def probe() -> dict[str, str]:
        out: dict[str, str] = {}
        thread = threading.Thread(target=lambda: out.update(
            passwd=attempt(lambda: read("/etc/passwd")), exec=attempt(lambda: os.execv("/bin/true", ["true"]))))
        thread.start()
        thread.join()
        return out

    assert in_worker(monkeypatch, probe, _grants(place), place["spells"]) == {"passwd": "EACCES", "exec": "EPERM"}


# -- network ------------------------------------------------------------------------------------------

@pytest.fixture
def listeners() -> Any:
    """Two TCP listeners on 127.0.0.1: (allowed port, denied port)."""
    socks = []
    for _ in range(2):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(8)
        socks.append(s)
    yield tuple(s.getsockname()[1] for s in socks)
    for s in socks:
        s.close()


def _connect(port: int, family: int = socket.AF_INET, host: str = "127.0.0.1") -> None:
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(5)
        s.connect((host, port))


def _bind() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)


def test_tcp_only_to_the_ports_of_allowed_hosts(monkeypatch, place, listeners):
    ok_port, denied_port = listeners

    def probe() -> dict[str, str]:
        return {
            "allowed port": attempt(lambda: _connect(ok_port)),
            "denied port": attempt(lambda: _connect(denied_port)),
            "bind": attempt(_bind),
            "raw socket": attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)),
            "packet socket": attempt(lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW)),
            "netlink socket": attempt(lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW)),
            "unix socket": attempt(lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)),
            "socketpair": attempt(lambda: [s.close() for s in socket.socketpair()]),
        }

    policy = Policy(allow_net=(f"127.0.0.1:{ok_port}",))
    assert in_worker(monkeypatch, probe, policy, place["spells"]) == {
        "allowed port": "ok", "denied port": "EACCES", "bind": "EACCES", "raw socket": "EPERM",
        "packet socket": "EACCES", "netlink socket": "EACCES", "unix socket": "EACCES", "socketpair": "ok",
    }


def test_configured_model_providers_ports_are_reachable(monkeypatch, place, listeners):
    """Model requests still leave from the worker: the configured providers' ports are open, no others."""
    provider_port, other_port = listeners
    settings = Settings(env={"OPENAI_BASE_URL": f"http://127.0.0.1:{provider_port}/v1"})

    def probe() -> dict[str, str]:
        return {"provider": attempt(lambda: _connect(provider_port)), "other": attempt(lambda: _connect(other_port))}

    assert in_worker(monkeypatch, probe, Policy(), place["spells"], settings) == {"provider": "ok", "other": "EACCES"}


def test_no_network_grant_means_no_internet_sockets_at_all(monkeypatch, place, listeners):
    """Landlock only knows TCP; with nothing to reach, seccomp refuses IPv4/IPv6 sockets (UDP too)."""

    def probe() -> dict[str, str]:
        return {"tcp": attempt(lambda: _connect(listeners[0])),
                "udp": attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(
                    b"x", ("127.0.0.1", listeners[1]))),
                "udp6": attempt(lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))}

    assert in_worker(monkeypatch, probe, Policy(), place["spells"]) == dict.fromkeys(("tcp", "udp", "udp6"), "EACCES")


def test_allow_net_true_lifts_the_tcp_restriction(monkeypatch, place, listeners):
    def probe() -> dict[str, str]:
        return {"any port": attempt(lambda: _connect(listeners[1])), "bind": attempt(_bind)}

    assert in_worker(monkeypatch, probe, Policy(allow_net=True), place["spells"]) == {"any port": "ok",
                                                                                      "bind": "EACCES"}


# -- processes ----------------------------------------------------------------------------------------

def test_no_programs_without_allow_run(monkeypatch, place):
    def probe() -> dict[str, str]:
        return {
            "subprocess": attempt(lambda: subprocess.run(["/bin/true"], check=True)),
            "execv": attempt(lambda: os.execv("/bin/sh", ["sh", "-c", "true"])),
            "memfd_create": attempt(lambda: os.memfd_create("x")),
        }

    assert in_worker(monkeypatch, probe, _grants(place), place["spells"]) == dict.fromkeys(
        ("subprocess", "execv", "memfd_create"), "EPERM")


def test_allow_run_executes_exactly_the_resolved_programs(monkeypatch, place):
    """``--allow-run=true``: /bin/true runs; another program, or a copy of the granted one
    written into the write grant, does not."""
    w = place["data_w"]
    true = shutil.which("true")
    assert true

    def probe() -> dict[str, str]:
        def copy_and_run() -> None:
            write(w / "true", read(true))
            os.chmod(w / "true", 0o755)
            subprocess.run([str(w / "true")], check=True)

        def start_and_kill() -> None:
            proc = subprocess.Popen([true])
            os.kill(proc.pid, 9)  # its own child: same domain, may be signalled
            proc.wait()

        return {
            "granted": attempt(lambda: subprocess.run([true], check=True)),
            "its child may be killed": attempt(start_and_kill),
            "another program": attempt(lambda: subprocess.run([shutil.which("id") or "/usr/bin/id"], check=True)),
            "a copy in the write grant": attempt(copy_and_run),
            "shell": attempt(lambda: subprocess.run(["/bin/sh", "-c", "true"], check=True)),
        }

    got = in_worker(monkeypatch, probe, _grants(place, allow_run=("true",)), place["spells"])
    assert got == {"granted": "ok", "its child may be killed": "ok", "another program": "EACCES",
                   "a copy in the write grant": "EACCES", "shell": "EACCES"}


def test_no_ptrace_namespaces_or_kernel_interfaces(monkeypatch, place):
    # Arguments chosen so that, unconfined, each call fails or does no harm to the test process
    # (PTRACE_SEIZE does not stop the parent; CLONE_THREAD with CLONE_NEWUSER is invalid).
    CLONE_NEWUSER, CLONE_NEWNET, CLONE_THREAD, CLONE_VM, CLONE_SIGHAND = 0x10000000, 0x40000000, 0x10000, 0x100, 0x800
    PTRACE_SEIZE = 0x4206

    def probe() -> dict[str, str]:
        parent = os.getppid()
        return {
            "ptrace the parent": attempt(lambda: syscall("ptrace", PTRACE_SEIZE, parent, 0, 0)),
            "process_vm_readv": attempt(lambda: syscall("process_vm_readv", parent, 0, 0, 0, 0, 0)),
            "unshare user": attempt(lambda: syscall("unshare", CLONE_NEWUSER)),
            "unshare net": attempt(lambda: syscall("unshare", CLONE_NEWNET)),
            "setns": attempt(lambda: syscall("setns", 0, 0)),
            "clone new user": attempt(lambda: syscall(
                "clone", CLONE_NEWUSER | CLONE_THREAD | CLONE_VM | CLONE_SIGHAND, 0, 0, 0, 0)),
            "clone3": attempt(lambda: syscall("clone3", 0, 0)),
            "mount": attempt(lambda: syscall("mount", 0, 0, 0, 0, 0)),
            "bpf": attempt(lambda: syscall("bpf", 0, 0, 0)),
            "perf_event_open": attempt(lambda: syscall("perf_event_open", 0, 0, -1, -1, 0)),
            "keyctl": attempt(lambda: syscall("keyctl", 0, 0)),
            "io_uring_setup": attempt(lambda: syscall("io_uring_setup", 1, 0)),
            "userfaultfd": attempt(lambda: syscall("userfaultfd", 0)),
            "personality change": attempt(lambda: syscall("personality", 0x0040000)),  # ADDR_NO_RANDOMIZE
            "TIOCSTI": attempt(lambda: syscall("ioctl", 0, 0x5412, 0)),
            "setuid bit": attempt(lambda: os.chmod(place["data_w"], 0o4755)),
            "give a file away": attempt(lambda: os.chown(place["data_w"], os.geteuid() + 1, -1)),
            "kill parent": attempt(lambda: os.kill(parent, 0)),
            "kill init": attempt(lambda: os.kill(1, 0)),
            "a thread (clone falls back from clone3)": attempt(lambda: _thread_runs()),
            "fork": attempt(lambda: _fork_runs()),
        }

    got = in_worker(monkeypatch, probe, _grants(place), place["spells"])
    expected = dict.fromkeys(got, "EPERM")
    expected.update({"clone3": "ENOSYS", "a thread (clone falls back from clone3)": "ok", "fork": "ok"})
    assert got == expected


def _thread_runs() -> None:
    done: list[int] = []
    t = threading.Thread(target=lambda: done.append(1))
    t.start()
    t.join()
    if done != [1]:
        raise OSError(errno.EIO, "the thread did not run")


def _fork_runs() -> None:
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 7:
        raise OSError(errno.EIO, "the forked child did not run")


# -- what must keep working ----------------------------------------------------------------------------

GRANTED_SPELL = {
    "lua": """
local text = tools.file_read({path = DIR_R .. "/in.txt"})
tools.file_write({path = DIR_W .. "/out.txt", content = text .. "!"})
local mod = spell.require("./mod.lua")
return text .. " " .. tostring(mod)
""",
    "js": """
const text = await tools.file_read({path: DIR_R + "/in.txt"});
await tools.file_write({path: DIR_W + "/out.txt", content: text + "!"});
const mod = await spell.require("./mod.js");
return text + " " + mod;
""",
    "tengo": """
os := import("os")
text := string(os.read_file(DIR_R + "/in.txt"))
f := os.open_file(DIR_W + "/out.txt", os.o_wronly|os.o_create|os.o_trunc, 0644)
f.write_string(text + "!")
f.close()
mod := import("./mod")
export text + " " + string(mod)
""",
}


@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
def test_an_ordinary_spell_with_grants_works_confined(place, lang):
    p = place
    (p["spells"] / "mod.js").write_text("return 1;")
    (p["spells"] / "mod.tengo").write_text("export 1")
    head = {"lua": 'local DIR_R, DIR_W = "{r}", "{w}"\n', "js": 'const DIR_R = "{r}", DIR_W = "{w}";\n',
            "tengo": 'DIR_R := "{r}"\nDIR_W := "{w}"\n'}[lang].format(r=p["data_r"], w=p["data_w"])
    result = run_spell(lang, head + GRANTED_SPELL[lang], f"--allow-read={p['data_r']}",
                       f"--allow-write={p['data_w']}", cwd=p["spells"])
    assert (result.code, result.out.strip()) == (0, "granted 1"), result.err
    assert (p["data_w"] / "out.txt").read_text() == "granted!"
    assert "warning" not in result.err


def test_the_local_model_loads_in_the_confined_worker(monkeypatch, place):
    """The embedded model's weights are in site-packages: readable; llama.cpp starts its threads confined."""
    pytest.importorskip("llama_cpp")

    def probe() -> Any:
        from llmspell.models.local import load_llama

        llama = load_llama()
        out = llama.create_completion("Hello", max_tokens=2)
        return {"text": isinstance(out["choices"][0]["text"], str), "passwd": attempt(lambda: read("/etc/passwd"))}

    got = in_worker(monkeypatch, probe, Policy(max_memory=None, timeout=120), place["spells"])
    assert got == {"text": True, "passwd": "EACCES"}


# -- when the kernel has nothing to offer ------------------------------------------------------------

def test_without_landlock_the_run_goes_on_and_says_so_once(monkeypatch, place, capsys):
    """An old kernel: seccomp alone applies, the run works, one warning line per process."""
    monkeypatch.setattr(kernel, "_probe", lambda: (0, "the kernel has no Landlock (older than 5.13)", True, "x86_64"))
    monkeypatch.setattr(kernel, "_warned", set())

    def probe() -> dict[str, str]:
        return {"passwd": attempt(lambda: read("/etc/passwd")),
                "exec": attempt(lambda: os.execv("/bin/true", ["true"]))}

    first = in_worker(monkeypatch, probe, _grants(place), place["spells"])
    second = in_worker(monkeypatch, probe, _grants(place), place["spells"])
    assert first == second == {"passwd": "ok", "exec": "EPERM"}
    err = capsys.readouterr().err
    assert err.count("llmspell: warning:") == 1 and "no Landlock" in err, err
    rows = {r["name"]: r for r in kernel.describe()}
    assert not rows["landlock"]["active"] and "older than 5.13" in rows["landlock"]["detail"]
    assert rows["seccomp"]["active"]


def test_confinement_can_be_turned_off_for_debugging(tmp_path):
    """LLMSPELL_CONFINE=0: the spell runs unconfined, and the CLI says so once on stderr."""
    result = run_spell("lua", "return 1", cwd=tmp_path, env={"LLMSPELL_CONFINE": "0"})
    assert result.code == 0, result.err
    assert result.err.count("llmspell: warning:") == 1 and "LLMSPELL_CONFINE=0" in result.err


def test_a_refused_confinement_fails_the_run_cleanly(monkeypatch, place):
    """If the kernel offers Landlock but refuses the ruleset, the spell does not run unconfined."""

    def refuse(self: Any, path: str, access: int) -> bool:
        raise landlock.LandlockError(errno.E2BIG, "Argument list too long")

    monkeypatch.setattr(landlock.Ruleset, "allow_path", refuse)
    with pytest.raises(SpellError) as err:
        Runtime(policy=Policy(), cwd=place["spells"], config=Settings(env={})).run(source="return 1", language="lua")
    assert err.value.kind == "internal" and "could not confine" in err.value.message
    assert "LLMSPELL_CONFINE=0" in (err.value.hint or "")


def test_the_sandbox_command_names_what_is_active(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "LLMSPELL_CONFINE"}
    out = subprocess.run([sys.executable, "-m", "llmspell", "sandbox"], capture_output=True, text=True, env=env,
                         cwd=tmp_path, check=True).stdout
    assert f"landlock: active (ABI {FOUND.landlock_abi})" in out
    assert "signals and abstract unix sockets" in out
    assert f"seccomp: active: {_ARCH.name if _ARCH else ''} filter" in out
    assert "inline isolation" in out and "not confined" in out
    off = subprocess.run([sys.executable, "-m", "llmspell", "sandbox", "--json"], capture_output=True, text=True,
                         env={**env, "LLMSPELL_CONFINE": "0"}, cwd=tmp_path, check=True).stdout
    assert '"active": false' in off and "LLMSPELL_CONFINE=0" in off


# -- the plan ------------------------------------------------------------------------------------------

def test_allow_net_ports_from_entries_and_providers():
    settings = Settings(env={"OPENAI_API_KEY": "sk-x", "OLLAMA_BASE_URL": "http://127.0.0.1:11434/v1"})
    assert kernel.tcp_ports(Policy(allow_net=("127.0.0.1:8080", "https://api.example.com")), None) == {8080, 443, 53}
    assert kernel.tcp_ports(Policy(), settings) == {443, 11434, 53}
    assert kernel.tcp_ports(Policy(), Settings(env={})) == frozenset()
    assert kernel.tcp_ports(Policy(allow_net=("example.com",)), None) is None  # any port, as in Deno
    assert kernel.tcp_ports(Policy(allow_net=True), None) is None


def test_program_paths_include_the_loader_and_the_script_interpreter(tmp_path):
    true = os.path.realpath(shutil.which("true") or "")
    script = tmp_path / "tool.sh"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o755)
    found = kernel.program_paths(("true", str(script), "no-such-program-here"))
    assert true in found and os.path.realpath("/bin/sh") in found and str(script) in found
    assert any("ld-" in os.path.basename(p) for p in found), found  # the ELF interpreter
    assert kernel.program_paths(True) == ["/"]
    assert kernel.program_paths(None) == []


def test_the_filter_refuses_foreign_system_call_entries():
    """An x86_64 process can enter the kernel through the 32-bit table, whose numbers mean
    other calls: the filter kills on any other architecture and refuses x32 numbers."""
    program = seccomp.build_filter(seccomp.ARCHES["x86_64"], allow_exec=False, allow_inet=False)
    first = [program[i:i + 8] for i in range(0, 32, 8)]
    assert int.from_bytes(first[0][4:], "little") == 4  # load arch
    assert int.from_bytes(first[1][4:], "little") == seccomp.ARCHES["x86_64"].audit
    assert int.from_bytes(first[3][4:], "little") == 0x40000000  # x32 bit
    assert int.from_bytes(program[-8:][4:], "little") == seccomp.RET_KILL_PROCESS


@pytest.mark.parametrize("arch", sorted(seccomp.ARCHES))
def test_the_filter_builds_for_each_architecture(arch):
    """Every variant assembles (jumps in range) and ends in its fixed return blocks."""
    for allow_exec in (True, False):
        for allow_inet in (True, False):
            program = seccomp.build_filter(seccomp.ARCHES[arch], allow_exec=allow_exec, allow_inet=allow_inet)
            assert len(program) % 8 == 0 and len(program) // 8 < 4096
            numbers = seccomp.ARCHES[arch].numbers
            assert ("execve" in numbers) and numbers["execve"] == {"x86_64": 59, "aarch64": 221}[arch]


def test_a_worker_with_a_second_thread_is_not_half_confined():
    """Landlock binds the calling thread only: confine() refuses to run once another thread exists."""
    plan = kernel.plan_for(Policy(), Settings(env={}), "/nonexistent-spell-folder")
    assert plan is not None
    read, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: start a thread, then try
        try:
            stop = threading.Event()
            threading.Thread(target=stop.wait, daemon=True).start()
            try:
                kernel.confine(plan)
                os.write(write_end, b"confined")
            except kernel.ConfinementError as exc:
                os.write(write_end, str(exc).encode())
            stop.set()
        finally:
            os._exit(0)
    os.close(write_end)
    message = os.read(read, 1000).decode()
    os.close(read)
    os.waitpid(pid, 0)
    assert "already runs 2 threads" in message


def test_the_spell_folder_gives_its_scripts_only_unless_it_is_too_large(tmp_path):
    (tmp_path / "lib").mkdir()
    for name in ("a.lua", "lib/b.js", "lib/c.tengo", "notes.txt", ".env"):
        (tmp_path / name).write_text("x")
    (tmp_path / "link.lua").symlink_to("/etc/passwd")
    assert sorted(kernel.script_files(str(tmp_path))) == [str(tmp_path / "a.lua"), str(tmp_path / "lib/b.js"),
                                                          str(tmp_path / "lib/c.tengo")]
    for i in range(kernel.SCAN_LIMIT):
        (tmp_path / "lib" / f"f{i}.txt").touch()
    assert kernel.script_files(str(tmp_path)) == [str(tmp_path)]
