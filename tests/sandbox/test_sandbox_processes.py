"""sandbox/processes.py: a run's programs, ended with it, whatever they started."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import pytest

from llmspell.errors import SpellError
from llmspell.sandbox.processes import Children, end_session

SH = shutil.which("sh") or "/bin/sh"


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_gone(pid: int) -> bool:
    deadline = time.monotonic() + 5
    while _running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_end_kills_each_program_and_what_it_started(tmp_path):
    children = Children()
    pidfile = tmp_path / "pid"
    proc = children.start(["sh", "-c", f"sleep 300 & echo $! > {pidfile}; wait"], executable=SH)
    deadline = time.monotonic() + 5
    while not pidfile.exists() or not pidfile.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.02)
    grandchild = int(pidfile.read_text())
    assert os.getpgid(proc.pid) == proc.pid  # a process group of its own
    children.end()
    assert proc.returncode is not None
    assert _wait_gone(grandchild)


def test_nothing_starts_after_the_end():
    children = Children()
    children.end()
    with pytest.raises(SpellError) as excinfo:
        children.start(["true"], executable=shutil.which("true") or "/bin/true")
    assert excinfo.value.kind == "cancelled"


def test_only_absolute_programs_start():
    with pytest.raises(SpellError) as excinfo:
        Children().start(["true"], executable="true")
    assert excinfo.value.kind == "invalid_argument"


def test_end_session_kills_a_session_left_behind():
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        assert end_session(proc.pid) == 1
        proc.wait(timeout=5)
        assert proc.returncode == -9
        assert end_session(proc.pid) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
