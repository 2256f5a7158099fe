"""Red team: an inline Tengo run ends its thread when it returns.

A Tengo spell runs on a thread of its own.  With ``isolation="inline"`` there
is no worker to kill, so when a run ends (its time is up) its thread must stop
too: nothing it does after ``run`` returned may reach a file or stderr, and no
Python traceback may appear.  The spell below writes a line to a file, then
takes one long step (comparing two huge shared-structure arrays: seconds of
Python work inside one operation, past the 1 s timeout), over and over.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.security.conftest import assert_clean

_DRIVER = r"""
import json, os, sys, time
from llmspell import Runtime, SpellError
from llmspell.sandbox.policy import Policy

data = sys.argv[1]
src = sys.argv[2]
rt = Runtime(model="test", isolation="inline", timeout=1, policy=Policy(allow_read=(data,), allow_write=(data,)))
t0 = time.monotonic()
try:
    rt.run(source=src.replace("DATA", data), language="tengo")
    kind = None
except SpellError as e:
    kind = e.kind
returned = time.monotonic() - t0
path = os.path.join(data, "out.txt")
size = lambda: os.path.getsize(path) if os.path.exists(path) else 0
at_return = size()
time.sleep(4)
print(json.dumps({"kind": kind, "returned": returned, "at_return": at_return, "later": size()}))
"""

SLOW_STEP = """
os := import("os")
a := [1]
b := [1]
for i := 0; i < 20; i++ { a = [a, a]; b = [b, b] }
for {
  f := os.open_file("DATA/out.txt", os.o_append|os.o_create|os.o_wronly, 420)
  f.write_string("line\\n")
  f.close()
  same := a == b
}
"""

TIGHT_LOOP = """
os := import("os")
for {
  f := os.open_file("DATA/out.txt", os.o_append|os.o_create|os.o_wronly, 420)
  f.write_string("line\\n")
  f.close()
}
"""


def _inline(tmp_path, source: str) -> dict:
    data = tmp_path / "data"
    data.mkdir()
    proc = subprocess.run([sys.executable, "-c", _DRIVER, str(data), source], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert_clean(proc.stdout, proc.stderr)
    assert proc.stderr == "", proc.stderr
    return json.loads(proc.stdout)


def test_inline_tengo_thread_stops_after_a_long_step(tmp_path):
    result = _inline(tmp_path, SLOW_STEP)
    assert result["kind"] == "timeout"
    assert result["at_return"] > 0, "the spell never wrote"
    assert result["later"] == result["at_return"], "the spell's thread wrote after its run returned"


def test_inline_tengo_thread_stops_in_a_tight_loop(tmp_path):
    result = _inline(tmp_path, TIGHT_LOOP)
    assert result["kind"] == "timeout"
    assert result["at_return"] > 0
    assert result["later"] == result["at_return"]


_NATIVE = r"""
import json, resource, sys, time
from llmspell import Runtime, SpellError

rt = Runtime(model="test", isolation="inline", timeout=1, max_memory=64_000_000)
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = {}
for name, src in json.loads(sys.argv[1]).items():
    t0 = time.monotonic()
    try:
        out[name] = [rt.run(source=src, language="tengo")]
    except SpellError as e:
        out[name] = [e.kind, e.line]
    out[name].append(time.monotonic() - t0)
out["grown_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
print(json.dumps(out))
"""


def test_inline_refuses_a_native_step_it_could_not_stop(tmp_path):
    """One native call (a huge ``text.repeat``, a ``bytes(n)``) cannot be
    interrupted, inline or not: it is refused before it starts when it does
    not fit the memory budget, so it neither runs on past the timeout nor
    grows the host.  Regular expressions are RE2's: linear time, no
    catastrophic backtracking to be stuck in."""
    spells = {
        "repeat": 'text := import("text")\nexport len(text.repeat("x", 2000000000))\n',
        "bytes": "export len(bytes(2000000000))\n",
        "regexp": 'text := import("text")\nexport text.re_match("(a+)+$", text.repeat("a", 5000) + "b")\n',
    }
    proc = subprocess.run([sys.executable, "-c", _NATIVE, json.dumps(spells)], capture_output=True, text=True,
                          timeout=120, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert_clean(proc.stdout, proc.stderr)
    assert proc.stderr == ""
    out = json.loads(proc.stdout)
    assert out["repeat"][:2] == ["memory_limit", 2]
    assert out["bytes"][:2] == ["memory_limit", 1]
    assert out["regexp"][0] is False
    assert out["regexp"][1] < 1
    assert out["grown_kb"] * 1024 < 2 * 64_000_000, f"the host grew by {out['grown_kb'] >> 10} MB"
