"""The cost of the sandbox, and how fast it stops a runaway spell.

1. The same spell (arithmetic, string building, 2 000 bridge calls) run with
   the strict profile in an isolated worker process, against no policy at all
   (no limits, everything allowed, run inline): the ratio is what safety costs.
2. Runaway spells of every kind, each run with `--timeout 1` through the CLI:
   the wall time until the process reports `timeout` (target: under 2 s, the
   timeout plus one second, in every case).

    .venv/bin/python bench/sandbox_cost.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from llmspell import Policy, Runtime

WORK = {
    "lua": """
local s, parts = 0, {}
for i = 1, 200000 do s = s + i % 7 end
for i = 1, 2000 do parts[#parts + 1] = json.encode({i = i}) end
return #table.concat(parts) + s
""",
    "javascript": """
let s = 0; const parts = [];
for (let i = 1; i <= 200000; i++) s += i % 7;
for (let i = 1; i <= 2000; i++) parts.push(await json.decode("[" + i + "]"));
return parts.length + s;
""",
    "tengo": """
s := 0
parts := []
for i := 1; i <= 200000; i++ { s += i % 7 }
for i := 1; i <= 2000; i++ { parts = append(parts, json.encode({i: i})) }
result := len(parts) + s
""",
}

RUNAWAY = {
    "lua busy loop": ("lua", "while true do end"),
    "lua pattern backtracking": ("lua", 'local s = string.rep("a", 100000) return s:find(".-.-.-.-b")'),
    "lua pcall loop": ("lua", "while true do pcall(function() while true do end end) end"),
    "lua coroutine loop": ("lua", "local co = coroutine.wrap(function() while true do end end) co()"),
    "lua memory bomb": ("lua", 'local t = {} local s = "x" while true do s = s .. s t[#t+1] = s end'),
    "js busy loop": ("js", "while (true) {}"),
    "js regex backtracking": ("js", '/(a+)+c/.test("a".repeat(40) + "b")'),
    "js microtask loop": ("js", "async function f() { while (true) await null } await f()"),
    "js try/catch loop": ("js", "while (true) { try { while (true) {} } catch (e) {} }"),
    "js arraybuffer bomb": ("js", "const a = []; while (true) a.push(new ArrayBuffer(1 << 20))"),
    "tengo busy loop": ("tengo", "for {}"),
    "tengo recursion": ("tengo", "f := func(n) { return f(n + 1) }\nf(0)"),
}


def workload(language: str, policy: Policy, isolation: str, runs: int = 5) -> float:
    rt = Runtime(model="test", policy=policy, isolation=isolation, output=lambda _t: None)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        rt.run(source=WORK[language], language=language)
        times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]


def main() -> None:
    none = Policy(allow_read=True, allow_write=True, allow_net=True, allow_env=True, timeout=None, max_memory=None,
                  max_llm_calls=None, max_bridge_calls=None, max_concurrent=None, max_output=None)
    strict = Policy.profile("strict")
    print("sandbox cost: the same spell, strict profile in a worker vs no policy inline (median ms)")
    for language in WORK:
        base = workload(language, none, "inline")
        ours = workload(language, strict, "process")
        print(f"  {language:<10} no policy {base * 1000:7.1f}   strict {ours * 1000:7.1f}   ratio {ours / base:5.2f}x")
    print("time to stop a runaway spell with --timeout 1, from the spell's start (target < 2.0 s)")
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        empty = os.path.join(tmp, "empty.lua")
        open(empty, "w").close()
        starts = []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "llmspell", "run", empty], check=True, capture_output=True)
            starts.append(time.perf_counter() - t)
        startup = min(starts)
        print(f"  (process start-up, subtracted: {startup:.2f} s)")
        for name, (ext, src) in RUNAWAY.items():
            path = os.path.join(tmp, f"spell.{ext}")
            with open(path, "w") as f:
                f.write(src)
            t = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "llmspell", "run", path, "--timeout", "1",
                                   "--max-memory", "64MB"], capture_output=True, text=True, timeout=60)
            elapsed = time.perf_counter() - t - startup
            worst = max(worst, elapsed)
            kind = next((k for k in ("timeout", "memory_limit", "runtime_error", "limit_exceeded")
                         if k in proc.stderr), proc.stderr.strip()[:60])
            print(f"  {name:<26} {elapsed:5.2f} s  exit {proc.returncode}  {kind}")
    print(f"  worst: {worst:.2f} s ({'within' if worst < 2.0 else 'OVER'} the 2 s target)")


if __name__ == "__main__":
    main()
