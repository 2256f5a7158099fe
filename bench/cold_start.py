"""Cold start: `llmspell run` of an empty spell against `python -c "import lupa"`,
both as fresh processes, measured in the same run.

It measures the install as scripts/setup.sh leaves it: llmspell's modules compiled
to bytecode.  After an edit, an environment with PYTHONDONTWRITEBYTECODE set compiles
the edited modules at every start until setup runs again (about 0.1 s for all of them).

    .venv/bin/python bench/cold_start.py [RUNS]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time


def timed(cmd: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> list[tuple[str, float, float]]:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    py = sys.executable
    base = timed([py, "-c", "import lupa.lua54"], runs)
    print(f"cold start (median of {runs}, ms): python -c 'import lupa' {base * 1000:.0f}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for ext in ("lua", "js", "tengo"):
            path = os.path.join(tmp, f"empty.{ext}")
            open(path, "w").close()
            ours = timed([py, "-m", "llmspell", "run", path], runs)
            rows.append((ext, base, ours))
            print(f"  llmspell run empty.{ext:<6} {ours * 1000:5.0f}   ratio {ours / base:4.1f}x")
    return rows


if __name__ == "__main__":
    main()
