"""Red team: ``--max-memory`` holds for Tengo within 2x, every way a spell can grow.

Lua and QuickJS count their own heap; a Tengo spell's values live in the
host's, so the interpreter announces every allocation its data sizes and
reads the process's resident memory at its ticks (engines/tengo/memory.py).
Each spell here runs through the CLI under ``--max-memory 64MB``; the CLI
runs under a small wrapper that reports the peak resident memory of its
descendants (the worker included), compared with the peak of an empty spell.
Peaks are what the kernel recorded, not timings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tests.security.conftest import _LEAKY_VARS, assert_clean, error_kind

LIMIT = 64_000_000  # --max-memory 64MB
_WRAPPER = (
    "import resource, subprocess, sys\n"
    "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "sys.stdout.write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) + '\\n')\n"
    "sys.stdout.write(str(p.returncode) + '\\n' + p.stderr + '\\0' + p.stdout)\n"
)


def measured(tmp_path: Path, source: str, *flags: str) -> tuple[int, str, str, int]:
    """Run a Tengo spell with the CLI: (exit code, stdout, stderr, peak resident KB)."""
    (tmp_path / "spell.tengo").write_text(source, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY_VARS}
    env["HOME"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", _WRAPPER, sys.executable, "-m", "llmspell", "run", "spell.tengo",
         "--max-memory", "64MB", "--timeout", "60", *flags],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180,
    )
    peak, code, rest = proc.stdout.split("\n", 2)
    err, _, out = rest.partition("\0")
    assert int(code) in (0, 1), f"the CLI died (exit {code}): {err}"
    assert_clean(out, err)
    return int(code), out, err, int(peak)


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> int:
    code, out, err, peak = measured(tmp_path_factory.mktemp("empty"), "export 1\n")
    assert code == 0, err
    return peak


DAG = "a := [1, 2, 3]\nfor i := 0; i < 60; i++ { a = [a, a] }\n"

#: Each spell grows without end (or far past the limit) one way.
GROWTH = {
    "concat doubling": 's := "0123456789"\nfor { s = s + s }\n',
    "concat +=": 'text := import("text")\nc := text.repeat("x", 1000000)\ns := ""\nfor { s += c }\n',
    "concat non-ASCII": 'text := import("text")\ns := text.repeat("x", 40000000)\ns += "😀"\nexport len(s)\n',
    "text.repeat": 'text := import("text")\ns := text.repeat("x", 400000000)\nexport len(s)\n',
    "text.replace": 'text := import("text")\ns := text.replace(text.repeat("a", 1000000), "a", '
                    'text.repeat("b", 200), -1)\nexport len(s)\n',
    "text.join": 'text := import("text")\nc := text.repeat("y", 100000)\na := []\n'
                 'for i := 0; i < 300; i++ { a = append(a, c) }\nfor { a = append(a, text.join(a, ",")) }\n',
    "text.split": 'text := import("text")\nx := text.repeat("ab,", 20000000)\nexport len(text.split(x, ","))\n',
    "text.pad": 'text := import("text")\na := []\nfor { a = append(a, text.pad_left("x", 10000000, "ab")) }\n',
    "bytes(n)": "a := []\nfor { a = append(a, bytes(20000000)) }\n",
    "bytes(string)": 'text := import("text")\ns := text.repeat("z", 10000000)\na := []\n'
                     "for { a = append(a, bytes(s)) }\n",
    "append": 'a := []\nfor { a = append(a, "item") }\n',
    "array literals": "a := []\nfor i := 0; ; i++ { a = append(a, [i, i, i, i, i, i, i, i]) }\n",
    "map growth": "m := {}\nfor i := 0; ; i++ { m[string(i)] = {v: i} }\n",
    "spread": "a := [1, 2, 3]\nfor { a = append(a, a...) }\n",
    "slice copies": 'text := import("text")\ns := text.repeat("x", 5000000)\na := []\n'
                    "for { a = append(a, s[1:]) }\n",
    "array slice copies": "b := []\nfor i := 0; i < 1000000; i++ { b = append(b, i) }\na := []\n"
                          "for { a = append(a, b[1:]) }\n",
    "json.decode": 'text := import("text")\njson := import("json")\n'
                   'v := json.decode("[" + text.repeat("[[[1]]],", 3000000) + "1]")\nexport len(v)\n',
    "json.encode": DAG + 'json := import("json")\nexport len(json.encode(a))\n',
    "fmt.sprintf width": 'fmt := import("fmt")\na := []\nfor { a = append(a, fmt.sprintf("%900000d", 1)) }\n',
    "fmt.sprintf %v": DAG + 'fmt := import("fmt")\nexport len(fmt.sprintf("%v", a))\n',
    "string()": DAG + "export len(string(a))\n",
    "string + array": DAG + 'export len("x" + a)\n',
    "copy": DAG + "b := copy(a)\nexport 1\n",
    "range": "a := range(0, 100000000)\nexport len(a)\n",
    "closures": "fs := []\nfor i := 0; ; i++ { x := i; fs = append(fs, func() { return x }) }\n",
    "closures capturing": 'text := import("text")\nfs := []\nfor i := 0; ; i++ {\n'
                          '  big := text.repeat("c", 1000000)\n  fs = append(fs, func() { return big })\n}\n',
    "recursion": 'text := import("text")\nf := func(n) {\n  s := text.repeat("r", 1000000)\n'
                 "  if n == 0 { return len(s) }\n  return f(n - 1) + len(s)\n}\nexport f(1000)\n",
    "immutable copies": "b := []\nfor i := 0; i < 1000000; i++ { b = append(b, i) }\na := []\n"
                        "for { a = append(a, immutable(b)) }\n",
    "for-in snapshot": "b := []\nfor i := 0; i < 1000000; i++ { b = append(b, i) }\na := []\n"
                       "for { for x in b { a = append(a, b) ; break } ; a = append(a, b + b) }\n",
    "base64/hex": 'hex := import("hex")\ntext := import("text")\ns := text.repeat("q", 5000000)\n'
                  "a := []\nfor { s = hex.encode(s); a = append(a, s) }\n",
    "text.re_replace": 'text := import("text")\nexport len(text.re_replace("x", text.repeat("x", 1000), '
                       'text.repeat("b", 100000)))\n',
    "text.re_find": 'text := import("text")\nexport len(text.re_find("b' + "(" * 20 + "a+" + ")" * 20
                    + '", "b" + text.repeat("a", 5000000)))\n',
    "json.indent": 'text := import("text")\njson := import("json")\na := []\n'
                   'for i := 0; i < 2000; i++ { a = [a] }\n'
                   'export len(json.indent(json.encode(a), "", text.repeat(" ", 10000)))\n',
    "bridge argument": DAG + "log.info(a)\nexport 1\n",
    "result": DAG + "export a\n",
    "long loop body": "a := []\nfor i := 0; ; i++ {\n" + "".join(
        f"  a = append(a, {{k{j}: [i, i, i, i, i, i, i, i], m{j}: {{x: i, y: i}}}})\n" for j in range(60)) + "}\n",
}


@pytest.mark.parametrize("name", list(GROWTH))
def test_tengo_growth_ends_with_memory_limit_within_2x(tmp_path, baseline, name):
    code, out, err, peak = measured(tmp_path, GROWTH[name])
    assert code == 1, f"{name}: the spell succeeded: {out!r}"
    assert error_kind(err) == "memory_limit", err
    assert "--max-memory" in err
    assert err.startswith("spell.tengo:"), f"no file and line: {err}"
    grown = (peak - baseline) * 1024
    assert grown < 2 * LIMIT, f"{name}: the worker grew by {grown >> 20} MB under a 64 MB limit"


LEGIT = {
    "20 MB string": 'text := import("text")\ns := text.repeat("x", 20000000)\nexport len(s)\n',
    "200k strings": 'a := []\nfor i := 0; i < 200000; i++ { a = append(a, "item number " + string(i)) }\n'
                    "export len(a)\n",
    "map of 100k": "m := {}\nfor i := 0; i < 100000; i++ { m[string(i)] = [i, i * 2] }\nexport len(m)\n",
    "json round trip": 'json := import("json")\na := []\nfor i := 0; i < 30000; i++ '
                       '{ a = append(a, {id: i, name: "user" + string(i), tags: ["a", "b"]}) }\n'
                       "t := json.encode(a)\nb := json.decode(t)\nexport len(b) + len(t)\n",
    "temporaries": 'text := import("text")\nn := 0\nfor i := 0; i < 200; i++ '
                   '{ s := text.repeat("t", 5000000) + string(i); n += len(s) }\nexport n\n',
    "text work": 'text := import("text")\ns := text.repeat("Hello World, ", 100000)\n'
                 "u := text.to_upper(s)\nw := text.split(s, \" \")\nexport len(u) + len(w)\n",
}


@pytest.mark.parametrize("name", list(LEGIT))
def test_tengo_legitimate_memory_use_still_runs(tmp_path, name):
    code, out, err, _ = measured(tmp_path, LEGIT[name])
    assert code == 0, f"{name}: {err}"


def test_tengo_memory_limit_inline(tmp_path):
    """Inline, the budget is the growth of the host process since the spell
    started (docs/ARCHITECTURE.md): a spell past it still ends with
    memory_limit, and the host goes on."""
    script = (
        "import json, sys\n"
        "from llmspell import Runtime, SpellError\n"
        "rt = Runtime(model='test', isolation='inline', max_memory=64_000_000, timeout=30)\n"
        "out = {}\n"
        "for name, src in json.loads(sys.argv[1]).items():\n"
        "    try:\n"
        "        out[name] = rt.run(source=src, language='tengo')\n"
        "    except SpellError as e:\n"
        "        out[name] = [e.kind, e.line]\n"
        "print(json.dumps(out))\n"
    )
    spells = {"repeat": GROWTH["text.repeat"], "append": GROWTH["append"], "after": "export 42\n"}
    proc = subprocess.run([sys.executable, "-c", script, json.dumps(spells)], capture_output=True, text=True,
                          timeout=180, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert_clean(proc.stdout, proc.stderr)
    out = json.loads(proc.stdout)
    assert out["repeat"] == ["memory_limit", 2]
    assert out["append"] == ["memory_limit", 2]
    assert out["after"] == 42


def test_tengo_bridge_results_count(tmp_path, baseline):
    """What a bridge call gives the spell counts (what the host took to make
    it does not, as in Lua and JavaScript): 30 reads of a 10 MB file kept."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "big.txt").write_text("x" * 10_000_000)
    source = ('a := []\nfor i := 0; i < 30; i++ { a = append(a, tools.file_read({path: "data/big.txt"})) }\n'
              "export len(a)\n")
    code, out, err, peak = measured(tmp_path, source, "--allow-read=data")
    assert code == 1, f"the spell succeeded: {out!r}"
    assert error_kind(err) == "memory_limit", err
    assert (peak - baseline) * 1024 < 2 * LIMIT
