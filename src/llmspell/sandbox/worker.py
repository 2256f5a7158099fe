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
Its models are not its own: it asks the parent for each model request
(models/remote.py in the child, models/gateway.py here), so the spell's
memory limit caps the spell alone, a model loads once per process, and the
provider keys, which the child drops before the spell runs (keys.py), stay
here.

Once a spell runs, the child is untrusted: a spell that broke out of its VM
writes what it likes on the pipe.  So this side reads the child only as
framed plain data (wire.py: no class a pickle names is ever loaded, sizes
are checked from the header, nothing blocks this process's event loop), and
a message no honest worker sends stops the child with a clean error.

Before any of that, while it is still one thread, the child confines itself
with Landlock and seccomp (``kernel.py``), so that what the policy refuses
the kernel refuses too, even to a spell that broke out of its VM.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import re
import resource
import signal
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ..errors import Frame, SpellError, host_error
from . import kernel, processes, wire

if TYPE_CHECKING:
    from ..models.gateway import ModelGateway

log = logging.getLogger("llmspell")

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
#: Answers to the worker (model responses, stream events) it may leave unread before it is stopped.
_MAX_UNREAD = 64 << 20
#: How long a dead worker's last messages may take to be read when a program it started
#: still holds its pipe open (so no end of the pipe says it is gone).
_LAST_WORDS = 2.0
#: The largest message a worker without a memory cap may send.
_NO_CAP_MESSAGE = 1 << 30
_KIND = re.compile(r"[a-z_]{1,40}")


def _vm_size() -> int:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _child(fds: tuple[int, int, int, int], job: Callable[[Callable[[str], None]], Awaitable[Any]],
           max_memory: int | None, cpu_seconds: float | None, reserved: int, confinement: kernel.Plan | None,
           models: bool, on_start: Callable[[], None] | None) -> None:
    """The body of the worker: limits, kernel confinement, then the in-process run."""
    up_read, up_write, down_read, down_write = fds
    send = _Sender(up_write)
    try:
        os.close(up_read)
        os.close(down_write)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        processes.lead_session()  # what the spell starts stays findable if this process is killed
        try:
            if on_start is not None:
                on_start()  # the runtime drops the provider keys it holds (sandbox/keys.py)
            if models:
                from ..models import remote

                remote.install(send, down_read)  # models are the parent's from now on
            else:
                os.close(down_read)
        except Exception as exc:  # noqa: BLE001 - no spell has run: this is the runtime's own failure
            send(("error", _error_state(host_error(exc))))
            return
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
                send(("error", _error_state(SpellError(
                    "internal", str(exc), hint=f"set {kernel.ENV_SWITCH}=0 to run with the VM's checks alone"))))
                return
        def emit(text: str) -> None:
            send(("out", text))

        try:
            value = _TEST_PROBE() if _TEST_PROBE is not None else asyncio.run(job(emit))
            send(("ok", value))
        except SpellError as exc:
            send(("error", _error_state(exc)))
        except MemoryError:
            send(("error", _error_state(SpellError(
                "memory_limit", "the spell used more memory than its limit allows",
                hint="raise it with --max-memory SIZE"))))
        except BaseException as exc:  # noqa: BLE001 - everything must become data
            send(("error", _error_state(host_error(exc))))
    finally:
        os._exit(0)


class _Sender:
    """The worker's writer of whole messages to its parent (``fd``: the pipe).

    One message at a time: a Tengo spell prints from its own thread while the
    event loop's thread sends model requests, and a write larger than the
    pipe's atomic size could otherwise interleave with another."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._lock = threading.Lock()

    def __call__(self, message: Any) -> None:
        data = wire.frame(message)
        with self._lock:
            wire.write_all(self.fd, data)


def _error_state(exc: SpellError) -> dict:
    return {
        "kind": exc.kind, "message": exc.message, "file": exc.file, "line": exc.line, "column": exc.column,
        "source_line": exc.source_line, "hint": exc.hint, "run_limit": exc.run_limit,
        "stack": [(f.file, f.line, f.name) for f in exc.stack],
    }


_STATE_TYPES: dict[str, tuple[type, ...]] = {
    "kind": (str,), "message": (str,), "file": (str, type(None)), "line": (int, type(None)),
    "column": (int, type(None)), "source_line": (str, type(None)), "hint": (str, type(None)),
    "run_limit": (bool,),
}
_FRAME_TYPES = ((str, type(None)), (int, type(None)), (str, type(None)))


def _error_from_state(state: Any) -> SpellError:
    """The worker's error, from data the worker sent (untrusted: every field is checked)."""
    if not isinstance(state, dict) or not set(state) <= {*_STATE_TYPES, "stack"}:
        raise _protocol_error("an error that is not an error's fields")
    fields = {}
    for name, types in _STATE_TYPES.items():
        value = state.get(name, False if name == "run_limit" else None)
        if type(value) not in types or (name in ("kind", "message") and value is None):
            raise _protocol_error(f"an error whose {name} is a {type(value).__name__}")
        fields[name] = value
    if not _KIND.fullmatch(fields["kind"]):
        raise _protocol_error("an error of no known kind")
    stack = state.get("stack", [])
    if not isinstance(stack, list | tuple) or not all(_frame_ok(f) for f in stack):
        raise _protocol_error("an error with a malformed stack")
    return SpellError(**fields, stack=[Frame(*f) for f in stack])


def _frame_ok(frame: Any) -> bool:
    return (isinstance(frame, list | tuple) and len(frame) == 3
            and all(type(v) in t for v, t in zip(frame, _FRAME_TYPES, strict=True)))


class _ProtocolError(Exception):
    """The worker sent what no honest worker sends: the run ends and the worker is stopped."""


def _protocol_error(what: str) -> _ProtocolError:
    return _ProtocolError(what)


async def run_in_worker(job: Callable[[Callable[[str], None]], Awaitable[Any]], *, write: Callable[[str], Any],
                        timeout: float | None, max_memory: int | None, filename: str, reserved: int = 0,
                        confinement: kernel.Plan | None = None, models: ModelGateway | None = None,
                        on_start: Callable[[], None] | None = None, max_output: int | None = None) -> Any:
    """Run ``job(emit)`` in a forked child; ``emit`` carries printed text to
    ``write`` in this process.  Returns the job's result (plain data).
    ``reserved``: address space the engine takes besides the spell's memory
    (see Engine.reserved_memory), added to the cap.  ``confinement``: what
    the child may still do once it confines itself (``kernel.plan_for``).
    ``models``: serves the child's model requests here (models/gateway.py);
    ``on_start``: run first in the child (the runtime drops its keys there).
    ``max_output``: the spell's output limit, which the child enforces; this
    side stops a child that sends far more (one that no longer enforces it).

    What the child sends is read as untrusted plain data (sandbox/wire.py):
    a message that is not one an honest worker sends stops the worker and
    ends the run with an ``internal`` error, and this process carries on."""
    if models is not None:
        # Imported here, once per process, not in each forked child (3 ms a run).
        from ..models import remote, source  # noqa: F401
    ctx = multiprocessing.get_context("fork")
    up_read, up_write = os.pipe()
    down_read, down_write = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    proc = ctx.Process(target=_child, args=((up_read, up_write, down_read, down_write), job, max_memory, timeout,
                                            reserved, confinement, models is not None, on_start), daemon=True)
    try:
        proc.start()
    finally:
        os.close(up_write)
        os.close(down_read)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 20)
    up_transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader),
                                                   os.fdopen(up_read, "rb", buffering=0))
    down_transport, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(down_write, "wb", buffering=0))
    limit = _message_limit(max_memory)
    overflow: list[SpellError] = []
    output_left = [None if max_output is None else 2 * max_output + (1 << 20)]

    def out(text: str) -> None:
        if output_left[0] is not None:
            output_left[0] -= len(text)
            if output_left[0] < 0:
                raise _protocol_error("more output than the spell's limit allows")
        write(text)

    def reply(message: Any) -> None:
        if down_transport.is_closing():
            return
        down_transport.write(wire.frame(message))
        if down_transport.get_write_buffer_size() > _MAX_UNREAD:  # the child stopped reading its answers
            overflow.append(_stopped(filename, "the spell's worker stopped reading the answers sent to it"))
            proc.kill()

    deadline = None if timeout is None else loop.time() + timeout + GRACE_SECONDS

    async def pump() -> tuple[bool, Any]:
        """Act on the worker's messages until the run is over: ``(True, result)``, or ``(False, None)``
        when the pipe ends.  Frames already read are handled one after another without waiting (a
        burst of model requests from a parallel workflow costs no turn of the event loop each)."""
        while True:
            body = await wire.read_frame(reader, limit)
            if body is None:
                return False, None
            finished, value = _receive(wire.read_plain(body), out, models, reply)
            if finished:
                return True, value

    pending = asyncio.ensure_future(pump())
    try:
        while True:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                proc.kill()
                raise SpellError("timeout", f"the spell ran longer than its time limit of {timeout:g}s and was "
                                 "stopped by force", file=filename,
                                 hint="raise it with --timeout SECONDS if the spell needs longer")
            done, _ = await asyncio.wait({pending}, timeout=0.25 if remaining is None else min(remaining, 0.25))
            if overflow:
                raise overflow[0]
            if not done and not proc.is_alive():  # dead, and a process it started may hold its pipe open
                done, _ = await asyncio.wait({pending}, timeout=_LAST_WORDS)
                if not done:
                    return _died(proc, filename, max_memory)
            if not done:
                continue
            try:
                finished, value = pending.result()
            except (wire.WireError, _ProtocolError) as exc:
                proc.kill()
                log.warning("stopped a worker that sent a message it may not send: %s", exc)
                raise _stopped(filename, "the spell's worker sent a message the runtime does not accept") from None
            return value if finished else _died(proc, filename, max_memory)
    finally:
        pending.cancel()
        if models is not None:
            await models.close()
        up_transport.close()
        down_transport.close()
        if proc.is_alive():
            proc.kill()
        proc.join(timeout=5)
        if proc.exitcode != 0:  # killed or crashed: it could not end the programs the spell started
            processes.end_session(proc.pid)


def _receive(message: Any, write: Callable[[str], Any], models: ModelGateway | None,
             reply: Callable[[Any], None]) -> tuple[bool, Any]:
    """Act on one message from the worker: ``(True, result)`` when the run is over."""
    if not isinstance(message, tuple) or not message or type(message[0]) is not str:
        raise _protocol_error("a message without a tag")
    tag = message[0]
    if tag == "out" and len(message) == 2 and type(message[1]) is str:
        write(message[1])
        return False, None
    if tag == "ok" and len(message) == 2:
        return True, message[1]
    if tag == "error" and len(message) == 2:
        raise _error_from_state(message[1])
    if tag == "model" and models is not None:
        try:
            models.handle(message, reply)
        except ValueError as exc:
            raise _protocol_error(str(exc)) from None
        return False, None
    raise _protocol_error(f"a message tagged {tag[:20]!r}")


def _message_limit(max_memory: int | None) -> int:
    """The largest message a worker may send: nothing honest is larger than the spell's memory."""
    return min(wire.MAX_FRAME, (max_memory or _NO_CAP_MESSAGE) + (16 << 20))


def _stopped(filename: str, what: str) -> SpellError:
    return SpellError("internal", f"{what}; it was stopped", file=filename,
                      hint="run with LLMSPELL_DEBUG=1 for details")


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
