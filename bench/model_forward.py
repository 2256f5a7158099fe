"""What one model request costs through the worker's pipe to the parent, against the same request in process.

A spell in a worker (process isolation) gets its models from the parent: the
request goes over the pipe as plain data, is validated and served there
(models/remote.py -> models/gateway.py), and the response (or each stream
event) comes back.  An inline run calls the same model directly.  The model
is pydantic-ai's TestModel (``"test"``), so the model itself costs next to
nothing and what differs is the forwarding.

The same Lua spell makes N ``llm.complete`` calls (then N ``llm.stream``
calls, each with a chunk callback) in both isolations, and once with no call,
so that starting a run (a fork, for process isolation) cancels out: a
request costs ``(T(N) - T(0)) / N``.  Rounds are interleaved; medians.
Target: under 1 ms added per request.

    .venv/bin/python bench/model_forward.py [N]
"""

from __future__ import annotations

import statistics
import sys
import time

from llmspell import Policy, Runtime
from llmspell.config import Settings

TARGET_MS = 1.0
ROUNDS = 5
SPELLS = {
    "complete": "for i = 1, params.n do llm.complete({prompt = 'hi'}) end",
    "stream": "for i = 1, params.n do llm.stream({prompt = 'hi'}, function(t) end) end",
}


def seconds(runtime: Runtime, source: str, n: int) -> float:
    start = time.perf_counter()
    runtime.run(source=source, language="lua", params={"n": n})
    return time.perf_counter() - start


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    policy = Policy(max_llm_calls=None, max_bridge_calls=None, timeout=600)
    runtimes = {isolation: Runtime(config=Settings(env={}), model="test", policy=policy, isolation=isolation,
                                   output=lambda text: None) for isolation in ("inline", "process")}
    worst = 0.0
    for kind, source in SPELLS.items():
        for runtime in runtimes.values():
            seconds(runtime, source, 20)  # warm: imports, the first fork, pydantic-ai's caches
        per: dict[str, list[float]] = {"inline": [], "process": []}
        for _ in range(ROUNDS):
            for isolation, runtime in runtimes.items():
                empty = seconds(runtime, source, 0)
                full = seconds(runtime, source, n)
                per[isolation].append((full - empty) / n * 1000)
        inline, process = statistics.median(per["inline"]), statistics.median(per["process"])
        added = process - inline
        worst = max(worst, added)
        print(f"llm.{kind:<8} in process {inline:7.3f} ms/request   through the worker {process:7.3f} ms/request   "
              f"added {added:6.3f} ms ({'under' if added < TARGET_MS else 'OVER'} the {TARGET_MS:g} ms target)")
    print(f"({n} requests a run, median of {ROUNDS} interleaved rounds, TestModel)")
    return 0 if worst < TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
