"""What kernel confinement (Landlock + seccomp) costs a spell's worker.

1. The plan (parent, per run): which paths and ports the worker keeps (µs).
2. Confining (child, per run): NO_NEW_PRIVS, the Landlock ruleset, the
   seccomp filter, in a freshly forked child as the worker does it (µs).
3. A system call under the filter: getppid() in a confined child against an
   unconfined one (ns per call).
4. A whole run: sandbox_cost.py's spell in each language through Runtime
   (process isolation, strict profile plus grants), confined and with
   LLMSPELL_CONFINE=0, interleaved (median ms).

    .venv/bin/python bench/confine_cost.py [RUNS]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from llmspell import Policy, Runtime
from llmspell.config import Settings
from llmspell.sandbox import kernel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sandbox_cost import WORK  # noqa: E402 - the same spells as the sandbox's own bench


def in_child(work) -> float:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        try:
            os.write(write, repr(work()).encode())
        finally:
            os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 4096):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    return float(data)


def syscall_ns(confine_plan: kernel.Plan | None, calls: int = 200_000) -> float:
    def work() -> float:
        if confine_plan is not None:
            kernel.confine(confine_plan)
        start = time.perf_counter_ns()
        for _ in range(calls):
            os.getppid()
        return (time.perf_counter_ns() - start) / calls

    return in_child(work)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    if not kernel.support().any:
        print("no confinement on this machine:", kernel.describe())
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "data").mkdir()
        policy = Policy.profile("strict").replace(allow_read=(str(folder / "data"),),
                                                  allow_write=(str(folder / "data"),),
                                                  allow_net=("127.0.0.1:8080",), allow_run=("true",))
        settings = Settings(env={})
        plans = []
        for _ in range(runs):
            start = time.perf_counter()
            plans.append(kernel.plan_for(policy, settings, folder))
            plans[-1] = (plans[-1], (time.perf_counter() - start) * 1e6)
        plan = plans[0][0]
        assert plan is not None
        print(f"kernel confinement cost (median of {runs})")
        print(f"  plan in the parent        {statistics.median(t for _, t in plans):8.0f} µs  "
              f"({len(plan.read)} read, {len(plan.write)} write, {len(plan.execute)} execute rules)")
        confine = [in_child(lambda: kernel.confine(plan)) for _ in range(runs)]
        print(f"  confine in the child      {statistics.median(confine):8.0f} µs")
        bare = statistics.median(syscall_ns(None) for _ in range(5))
        filtered = statistics.median(syscall_ns(plan) for _ in range(5))
        print(f"  getppid() unconfined      {bare:8.0f} ns")
        print(f"  getppid() confined        {filtered:8.0f} ns")

        runtime = Runtime(policy=policy, cwd=folder, config=settings)
        for lang, source in WORK.items():
            times: dict[str, list[float]] = {"confined": [], "unconfined": []}
            for _ in range(runs):
                for label in times:
                    if label == "unconfined":
                        os.environ[kernel.ENV_SWITCH] = "0"
                    start = time.perf_counter()
                    runtime.run(source=source, language=lang)
                    times[label].append((time.perf_counter() - start) * 1000)
                    os.environ.pop(kernel.ENV_SWITCH, None)
            on, off = statistics.median(times["confined"]), statistics.median(times["unconfined"])
            print(f"  a {lang:10} run           {on:8.1f} ms confined, {off:.1f} ms unconfined "
                  f"({on - off:+.1f} ms)")


if __name__ == "__main__":
    main()
