"""The programs a spell starts, ended with its run.

A spell allowed to run a program (``--allow-run``) may start it and return
(Tengo's ``os.exec(...).start()``): nothing in the VM waits for it.  So every
program is started here, in a process group of its own (whatever it starts in
turn stays in that group), and :meth:`Children.end` kills each group with
``SIGKILL`` when the run ends -- normally, on an error or on its time limit.
Once the run has ended no program may start (a thread of the run that goes on
cannot leave one behind).

When the worker process that runs a spell is itself killed (it overran its
time limit, or died), it cannot end anything; its parent does, with
:func:`end_session`: the worker is the leader of a session of its own
(:func:`lead_session`), which every program it starts belongs to, and the
parent kills whatever is still in that session.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from typing import Any

from llmspell.errors import SpellError

#: How long to wait for a killed program to be reaped before leaving it to init.
_REAP_SECONDS = 2.0


class Children:
    """The programs one run started; :meth:`end` kills them all (once)."""

    def __init__(self) -> None:
        self._running: list[subprocess.Popen] = []
        self._lock = threading.Lock()
        self.ended = False

    def start(self, argv: list[str], *, executable: str, **options: Any) -> subprocess.Popen:
        """``subprocess.Popen(argv, executable=..., **options)`` in a new process
        group, tracked until the run ends.  ``executable`` must be the absolute
        path the policy resolved: nothing is looked up on a ``PATH``."""
        if not os.path.isabs(executable):
            raise SpellError("invalid_argument", f"not an absolute program path: {executable!r}")
        with self._lock:
            if self.ended:
                raise SpellError("cancelled", "the run has ended: no program may start now")
            proc = subprocess.Popen(argv, executable=executable, process_group=0, close_fds=True, **options)
            self._running = [p for p in self._running if p.returncode is None]
            self._running.append(proc)
            return proc

    def kill(self, proc: subprocess.Popen) -> None:
        """Kill one program this run started, with what it started (its process group), and reap it."""
        _kill_group(proc.pid)
        try:
            proc.wait(timeout=_REAP_SECONDS)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not ignored
            pass

    def end(self) -> None:
        """Kill every program this run started, with what each started, and reap them."""
        with self._lock:
            self.ended = True
            running, self._running = self._running, []
        for proc in running:
            _kill_group(proc.pid)
        for proc in running:
            try:
                proc.wait(timeout=_REAP_SECONDS)
            except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not ignored
                pass


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def lead_session() -> None:
    """Make this process (a fresh worker) the leader of a new session, so that
    :func:`end_session` can find what it starts."""
    try:
        os.setsid()
    except OSError:  # already a session leader
        pass


def end_session(sid: int, rounds: int = 5) -> int:
    """Kill every process (group) of session ``sid`` -- a worker's, after the
    worker has ended.  Returns how many groups were found (a group still dying
    when the next round looks is counted once).  Linux only (``/proc``);
    elsewhere nothing is found."""
    found: set[int] = set()
    for _ in range(rounds):
        groups = _session_groups(sid)
        if not groups:
            break
        found |= groups
        for pgid in groups:
            _kill_group(pgid)
    return len(found)


def _session_groups(sid: int) -> set[int]:
    groups: set[int] = set()
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return groups
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                fields = f.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # After "pid (comm)": state, ppid, pgrp, session, ...
        if len(fields) > 3 and int(fields[3]) == sid and fields[0] != b"Z":
            groups.add(int(fields[2]))
    return groups
