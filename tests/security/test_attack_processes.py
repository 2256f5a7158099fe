"""Programs a spell may run (``--allow-run``, Tengo's ``os.exec``/``os.start_process``).

Two promises.  What runs is exactly the program the operator allowed: a name
is resolved on PATH once, when the policy is made (Deno's rule), so a spell
that writes its own ``DATA/echo`` and makes it executable cannot run it, and
a ``PATH`` the spell sets for the child changes nothing.  And every program a
spell starts ends with its run: returned, failed, timed out, in a worker or
inline, with whatever the program started in turn.

The worker's kernel confinement (Landlock would refuse to execute DATA/echo
by itself) is off here (``LLMSPELL_CONFINE=0``): these hold the VM's line.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import pytest
from tests.security.conftest import Tree, run_spell

VM_ONLY = {"LLMSPELL_CONFINE": "0"}


@pytest.fixture
def spell(tree: Tree):
    """As conftest's ``spell``, with the worker's kernel confinement off (its warning dropped)."""

    def run(lang: str, source: str, *flags: str, **kwargs):
        result = run_spell(lang, source, *flags, cwd=tree.root, env=VM_ONLY, **kwargs)
        result.err = "".join(line for line in result.err.splitlines(keepends=True)
                             if "kernel confinement is off" not in line)
        return result

    return run


# -- the program that runs is the one allowed ----------------------------------------------

_FAKE_ECHO = 'os := import("os")\n' \
    'f := os.create("allowed/echo")\nf.write_string("#!/bin/sh\\necho PWNED\\n")\nf.close()\n' \
    'os.chmod("allowed/echo", 0755)\n'


@pytest.mark.parametrize("attempt", [
    'c := os.exec(os.getwd() + "/allowed/echo", "hi")\nx := is_error(c) ? c : c.output()',
    'c := os.exec("./allowed/echo", "hi")\nx := is_error(c) ? c : c.output()',
    'c := os.exec("allowed/echo", "hi")\nx := is_error(c) ? c : c.output()',
    'c := os.exec("echo", "hi")\ny := c.set_path(os.getwd() + "/allowed/echo")\nx := is_error(y) ? y : c.output()',
    'p := os.start_process(os.getwd() + "/allowed/echo", ["echo", "hi"], "", [])\nx := is_error(p) ? p : "ran"',
], ids=["absolute", "dot_relative", "relative", "set_path", "start_process"])
def test_allow_run_echo_is_not_any_program_called_echo(spell, tree, attempt):
    before = tree.snapshot()
    source = _FAKE_ECHO + attempt + "\nexport x\n"
    result = spell("tengo", source, "--allow-run=echo", "--allow-read=allowed", "--allow-write=allowed")
    assert "PWNED" not in result.out + result.err
    assert "permission_denied" in result.out + result.err, result
    assert "--allow-run=" in result.out + result.err
    assert (tree.allowed / "echo").exists()  # the fake was written: only running it was refused
    assert tree.snapshot() == before


def test_a_path_the_spell_sets_does_not_choose_the_program(spell, tree):
    """The child gets the spell's environment, PATH included, but what runs is the
    program the policy resolved: PATH is never searched at exec time."""
    source = _FAKE_ECHO + 'cmd := os.exec("echo", "hi")\ncmd.set_env(["PATH=" + os.getwd() + "/allowed"])\n' \
        'x := string(cmd.output())\nexport x\n'
    result = spell("tengo", source, "--allow-run=echo", "--allow-read=allowed", "--allow-write=allowed")
    assert result.code == 0, result.err
    assert "PWNED" not in result.out
    assert result.out.strip() == "hi"


def test_exec_look_path_answers_the_resolved_program(spell):
    import shutil

    result = spell("tengo", 'os := import("os")\nx := os.exec_look_path("echo")\nexport x\n', "--allow-run=echo")
    assert result.code == 0, result.err
    assert result.out.strip() == shutil.which("echo")


def test_allow_run_path_entry_means_that_file_only(spell, tree):
    (tree.allowed / "tool").write_text("#!/bin/sh\necho tool ran\n")
    (tree.allowed / "tool").chmod(0o755)
    ok = spell("tengo", 'os := import("os")\nx := string(os.exec("allowed/tool").output())\nexport x\n',
               "--allow-run=allowed/tool")
    assert ok.code == 0, ok.err
    assert ok.out.strip() == "tool ran"
    denied = spell("tengo", 'os := import("os")\nx := os.exec("tool")\nexport x\n', "--allow-run=allowed/tool")
    assert "permission_denied" in denied.out + denied.err


# -- programs end with the run ---------------------------------------------------------------

def _marker() -> str:
    """A sleep duration no other process has: found again in /proc/*/cmdline."""
    return f"{3000 + secrets.randbelow(600)}.{secrets.randbelow(10**6):06d}"


def _alive(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in args and state != "Z":
            found.append(int(entry.name))
    return found


def _gone(marker: str, within: float = 5.0) -> bool:
    deadline = time.monotonic() + within
    while _alive(marker):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def leftovers():
    """Markers a test used; whatever still runs with one is killed afterwards (and the test failed)."""
    markers: list[str] = []
    yield markers
    for marker in markers:
        for pid in _alive(marker):
            try:
                os.kill(pid, 9)
            except OSError:
                pass


ENDINGS = {
    "returns": ('cmd := os.exec("sleep", "{m}")\ncmd.start()\nexport "started"\n', ()),
    "start_process": ('p := os.start_process("/usr/bin/env", ["env", "sleep", "{m}"], "", [])\nexport "started"\n',
                      ("--allow-run=/usr/bin/env",)),
    "fails": ('cmd := os.exec("sleep", "{m}")\ncmd.start()\nx := error("on purpose")\nexport x\n', ()),
    "runtime_error": ('cmd := os.exec("sleep", "{m}")\ncmd.start()\nx := 1 / 0\n', ()),
    "times_out": ('cmd := os.exec("sleep", "{m}")\ncmd.start()\nfor {{}}\n', ("--timeout", "1")),
    "blocked_in_wait": ('cmd := os.exec("sleep", "{m}")\ncmd.start()\nos.exec("sleep", "600").run()\n',
                        ("--timeout", "1")),
    "grandchild": ('cmd := os.exec("sh", "-c", "sleep {m} & sleep {m} & wait")\ncmd.start()\nexport 1\n',
                   ("--allow-run=sh",)),
}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_programs_end_with_the_run(spell, leftovers, ending):
    marker = _marker()
    leftovers.append(marker)
    body, flags = ENDINGS[ending]
    source = 'os := import("os")\n' + body.format(m=marker)
    result = spell("tengo", source, "--allow-run=sleep", *flags)
    assert result.code in (0, 1)
    assert _gone(marker), f"the spell's program outlived the run ({ending}): {result}"


@pytest.mark.parametrize("ending", ["returns", "times_out", "grandchild"])
def test_programs_end_with_an_inline_run(tmp_path, leftovers, ending):
    from llmspell import Runtime
    from llmspell.errors import SpellError
    from llmspell.sandbox.policy import Policy

    marker = _marker()
    leftovers.append(marker)
    body, flags = ENDINGS[ending]
    policy = Policy(allow_run=("sleep", "sh"), timeout=1 if "--timeout" in flags else 30)
    runtime = Runtime(policy=policy, isolation="inline", cwd=tmp_path, output=lambda _: None)
    try:
        runtime.run(source='os := import("os")\n' + body.format(m=marker), language="tengo")
    except SpellError as exc:
        assert exc.kind == "timeout"
    assert _gone(marker), f"the spell's program outlived the inline run ({ending})"


def _start_and_hang(marker: str):
    """A worker job that starts a program and never lets its run end: the event loop
    stuck in one native call, as a spell stuck inside the VM would be."""

    async def job(emit):
        from llmspell.sandbox.processes import Children

        Children().start(["sleep", marker], executable="/usr/bin/sleep" if os.path.exists("/usr/bin/sleep")
                         else "/bin/sleep")
        time.sleep(600)

    return job


def test_programs_end_when_the_worker_is_killed(leftovers):
    """The worker killed by its parent past its time limit cannot end what the spell
    started; the parent does (the worker leads a session of its own)."""
    import asyncio

    from llmspell.errors import SpellError
    from llmspell.sandbox.worker import run_in_worker

    marker = _marker()
    leftovers.append(marker)
    with pytest.raises(SpellError) as excinfo:
        asyncio.run(run_in_worker(_start_and_hang(marker), write=lambda _: None, timeout=0.5, max_memory=None,
                                  filename="stuck.tengo"))
    assert excinfo.value.kind == "timeout"
    assert _gone(marker)
