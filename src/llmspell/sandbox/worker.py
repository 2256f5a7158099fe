"""Running a spell in a worker process that can be killed.

The VM-level limits (count hooks, QuickJS's interrupt, the Tengo
interpreter's checks) stop almost everything, but not a spell stuck inside one
long native call, such as a Lua pattern match with catastrophic backtracking.
So each isolated run happens in a forked child with OS limits on memory and
CPU, watched by the parent: when the child overruns its time limit by the
grace period, or dies, the parent kills it and reports a clean error.  The
caller (a CLI, a server handling other spells) never goes down with it.

The child is a fork of the parent, so it has the same Runtime, bridges and
configuration; it runs the spell with the ordinary in-process path, sends what
the spell prints as it prints it, and sends back the result or the error.

Before any of that, while it is still one thread, the child confines itself
with Landlock and seccomp (``kernel.py``), so that what the policy refuses
the kernel refuses too, even to a spell that broke out of its VM.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import resource
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import Frame, SpellError, host_error
from . import kernel, processes

#: How long past its time limit a spell may take before its process is killed.
GRACE_SECONDS = 0.5
#: Address space a worker may use beyond what it had when forked, on top of
#: the spell's own memory limit (Python objects, buffers, thread stacks).
_HEADROOM = 512 << 20
#: TEST-ONLY: a callable the confined worker runs instead of the spell, whose
#: (picklable) result becomes the run's result.  Tests set it to act from
#: inside the worker as a broken VM would (tests/security/test_kernel_confinement.py);
#: nothing else sets it, and a spell cannot reach Python module state.
_TEST_PROBE: Callable[[], Any] | None = None


def _vm_size() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _child(conn: Any, job: Callable[[Callable[[str], None]], Awaitable[Any]], max_memory: int | None,
           cpu_seconds: float | None, reserved: int, confinement: kernel.Plan | None = None) -> None:
    """The body of the worker: limits, kernel confinement, then the in-process run."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        processes.lead_session()  # what the spell starts stays findable if this process is killed
        if max_memory:
            limit = _vm_size() + max_memory + _HEADROOM + reserved
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        if cpu_seconds:
            secs = int(cpu_seconds) + 2
            resource.setrlimit(resource.RLIMIT_CPU, (secs, secs + 1))
        # The fork copied the parent's running-loop marker; this is a new process.
        asyncio.events._set_running_loop(None)
        if confinement is not None:
            try:
                kernel.confine(confinement)  # before any thread: every later one inherits it
            except kernel.ConfinementError as exc:
                conn.send(("error", _error_state(SpellError(
                    "internal", str(exc), hint=f"set {kernel.ENV_SWITCH}=0 to run with the VM's checks alone"))))
                return
        if _TEST_PROBE is not None:
            conn.send(("ok", _TEST_PROBE()))
            return

        def emit(text: str) -> None:
            conn.send(("out", text))

        try:
            value = asyncio.run(job(emit))
            conn.send(("ok", value))
        except SpellError as exc:
            conn.send(("error", _error_state(exc)))
        except MemoryError:
            conn.send(("error", _error_state(SpellError(
                "memory_limit", "the spell used more memory than its limit allows",
                hint="raise it with --max-memory SIZE"))))
        except BaseException as exc:  # noqa: BLE001 - everything must become data
            conn.send(("error", _error_state(host_error(exc))))
    finally:
        try:
            conn.close()
        finally:
            os._exit(0)


def _error_state(exc: SpellError) -> dict:
    return {
        "kind": exc.kind, "message": exc.message, "file": exc.file, "line": exc.line, "column": exc.column,
        "source_line": exc.source_line, "hint": exc.hint,
        "stack": [(f.file, f.line, f.name) for f in exc.stack],
    }


def _error_from_state(state: dict) -> SpellError:
    stack = [Frame(*f) for f in state.pop("stack", [])]
    return SpellError(**state, stack=stack)


async def run_in_worker(job: Callable[[Callable[[str], None]], Awaitable[Any]], *, write: Callable[[str], Any],
                        timeout: float | None, max_memory: int | None, filename: str, reserved: int = 0,
                        confinement: kernel.Plan | None = None) -> Any:
    """Run ``job(emit)`` in a forked child; ``emit`` carries printed text to
    ``write`` in this process.  Returns the job's (picklable) result.
    ``reserved``: address space the engine takes besides the spell's memory
    (see Engine.reserved_memory), added to the cap.  ``confinement``: what
    the child may still do once it confines itself (``kernel.plan_for``)."""
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    sys.stdout.flush()
    sys.stderr.flush()
    proc = ctx.Process(target=_child, args=(child, job, max_memory, timeout, reserved, confinement),
                       daemon=True)
    proc.start()
    child.close()
    loop = asyncio.get_running_loop()
    readable = asyncio.Event()
    loop.add_reader(parent.fileno(), readable.set)
    deadline = None if timeout is None else loop.time() + timeout + GRACE_SECONDS
    try:
        while True:
            while parent.poll():
                try:
                    tag, value = parent.recv()
                except EOFError:
                    return _died(proc, filename, max_memory)
                if tag == "out":
                    write(value)
                elif tag == "ok":
                    return value
                else:
                    raise _error_from_state(value)
            if not proc.is_alive() and not parent.poll():
                return _died(proc, filename, max_memory)
            readable.clear()
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                proc.kill()
                raise SpellError("timeout", f"the spell ran longer than its time limit of {timeout:g}s and was "
                                 "stopped by force", file=filename,
                                 hint="raise it with --timeout SECONDS if the spell needs longer")
            try:
                await asyncio.wait_for(readable.wait(), timeout=min(remaining, 0.25) if remaining else 0.25)
            except TimeoutError:
                pass
    finally:
        loop.remove_reader(parent.fileno())
        parent.close()
        if proc.is_alive():
            proc.kill()
        proc.join(timeout=5)
        if proc.exitcode != 0:  # killed or crashed: it could not end the programs the spell started
            processes.end_session(proc.pid)


def _died(proc: Any, filename: str, max_memory: int | None) -> Any:
    proc.join(timeout=5)
    code = proc.exitcode
    if code is not None and code < 0 and -code in (signal.SIGKILL, signal.SIGSEGV, signal.SIGABRT) and max_memory:
        raise SpellError("memory_limit", "the spell's process ran out of memory and was stopped", file=filename,
                         hint="raise it with --max-memory SIZE")
    if code is not None and code < 0 and -code == signal.SIGXCPU:
        raise SpellError("timeout", "the spell used more CPU time than its limit and was stopped", file=filename)
    raise SpellError("internal", f"the spell's worker process ended unexpectedly (exit code {code})",
                     file=filename, hint="run with LLMSPELL_DEBUG=1 for details")
