"""A Runtime that serves many runs (a server): the time of one more run of a small spell that uses the
run's services (a tool call, an event), in process isolation, against the same spell inline in the same
process (the baseline: no fork, no worker, no pipe).

What a worker imports at its start, it imports again every run: `llmspell/_preload.py` imports it once
in the runtime's process instead, so the difference is forking, confining and talking to the worker.

    .venv/bin/python bench/warm_runs.py [RUNS]
"""

from __future__ import annotations

import statistics
import sys
import time

from llmspell import Runtime

SPELLS = {
    "lua": 'events.on("app.x", function(e) end)\nevents.emit("app.x", {n = 1})\nreturn tools.calculator("6*7")',
    "javascript": 'await events.on("app.x", (e) => {});\nawait events.emit("app.x", {n: 1});\n'
                  'return await tools.calculator("6*7");',
    "tengo": 'events.on("app.x", func(e) {})\nevents.emit("app.x", {n: 1})\nexport tools.calculator("6*7")',
}


def per_run(rt: Runtime, language: str, runs: int) -> float:
    """The median time of one run, after a first run that warms the runtime."""
    rt.run(source=SPELLS[language], language=language)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        rt.run(source=SPELLS[language], language=language)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    print(f"one more run of a small spell in a Runtime that serves many (median of {runs}, ms)")
    for language in SPELLS:
        inline = per_run(Runtime(isolation="inline"), language, runs)
        worker = per_run(Runtime(), language, runs)
        print(f"  {language:<11} inline {inline * 1e3:6.1f}   in a worker {worker * 1e3:6.1f}   "
              f"(+{(worker - inline) * 1e3:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
