"""Tengo interpreter speed against CPython running the same algorithms.

Run: ``PYTHONPATH=src python bench/tengo_bench.py``.  Prints, per workload,
the best of a few runs for the Tengo script and for the same algorithm
written in Python, measured in this process, and their ratio (target: <= 10).
The Tengo script runs as a spell does: with an interrupt hook at every tick
(instruction count and deadline, as the engine's) and a 256 MB memory budget.
Times are the process's CPU time (the workloads are single-threaded), so a
busy machine disturbs them less than wall-clock time would.
"""

from __future__ import annotations

import inspect
import sys
import time

from llmspell.engines.tengo.program import compile_program

FIB_TENGO = """
fib := func(n) { if n < 2 { return n }; return fib(n - 1) + fib(n - 2) }
out = fib(27)
"""


def fib_py() -> int:
    def fib(n):
        if n < 2:
            return n
        return fib(n - 1) + fib(n - 2)

    return fib(27)


LOOP_TENGO = """
sum := 0
for i := 1; i <= 1000000; i++ { sum += i }
out = sum
"""


def loop_py() -> int:
    total = 0
    i = 1
    while i <= 1000000:
        total += i
        i += 1
    return total


STRING_TENGO = """
s := ""
for i := 0; i < 100000; i++ { s += string(i % 10) }
parts := []
for i := 0; i < 20000; i++ { parts = append(parts, "x" + string(i)) }
out = len(s) + len(parts)
"""


def string_py() -> int:
    s = ""
    i = 0
    while i < 100000:
        s += str(i % 10)
        i += 1
    parts = []
    i = 0
    while i < 20000:
        parts.append("x" + str(i))
        i += 1
    return len(s) + len(parts)


MAPS_TENGO = """
m := {}
for i := 0; i < 100000; i++ { m["k" + string(i % 1000)] = [i, i * 2] }
total := 0
for k, v in m { total += v[0] + v[1] }
arr := []
for i := 0; i < 50000; i++ { arr = append(arr, {id: i, tags: ["a", "b"]}) }
for x in arr { total += x.id + len(x.tags) }
out = total
"""


def maps_py() -> int:
    m = {}
    i = 0
    while i < 100000:
        m["k" + str(i % 1000)] = [i, i * 2]
        i += 1
    total = 0
    for _k, v in m.items():
        total += v[0] + v[1]
    arr = []
    i = 0
    while i < 50000:
        arr.append({"id": i, "tags": ["a", "b"]})
        i += 1
    for x in arr:
        total += x["id"] + len(x["tags"])
    return total


def _spell_run(prog):
    """Run as the engine runs a spell: the tick hook, and a memory budget."""
    ticks = [0]
    deadline = time.monotonic() + 3600

    def check() -> None:
        ticks[0] += 1
        if ticks[0] * 1024 > 1 << 40 or time.monotonic() > deadline:
            raise RuntimeError("limit")

    kwargs = {"check_interrupt": check}
    if "memory" in inspect.signature(prog.run).parameters:
        from llmspell.engines.tengo.memory import Memory

        kwargs["memory"] = Memory(256 << 20)
    return prog.run({"out": 0}, **kwargs).globals["out"]


def best(fn, repeat: int = 3) -> tuple[float, object]:
    times = []
    result = None
    for _ in range(repeat):
        t0 = time.process_time()
        result = fn()
        times.append(time.process_time() - t0)
    return min(times), result


def main() -> int:
    workloads = [
        ("fib(27) recursive", FIB_TENGO, fib_py),
        ("loop sum 1..1e6", LOOP_TENGO, loop_py),
        ("string building", STRING_TENGO, string_py),
        ("map/array churn", MAPS_TENGO, maps_py),
    ]
    worst = 0.0
    print(f"{'workload':22s} {'tengo s':>9s} {'python s':>9s} {'ratio':>7s}")
    for name, src, py in workloads:
        prog = compile_program(src, "bench", globals_names=["out"])
        t_tengo, out = best(lambda prog=prog: _spell_run(prog))
        t_py, expected = best(py)
        if out != expected:
            print(f"{name}: results differ: tengo {out!r}, python {expected!r}")
            return 1
        ratio = t_tengo / t_py
        worst = max(worst, ratio)
        print(f"{name:22s} {t_tengo:9.3f} {t_py:9.3f} {ratio:7.2f}")
    print(f"worst ratio: {worst:.2f} (target <= 10)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
