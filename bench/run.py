"""Run every benchmark, each against its baseline measured in the same run.

    .venv/bin/python bench/run.py            # all
    .venv/bin/python bench/run.py bridge     # those whose file name contains "bridge"

The machines are shared and noisy: read the ratios, not the absolute times.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
BENCHES = ["bridge_overhead.py", "cold_start.py", "sandbox_cost.py", "tengo_bench.py", "http_throughput.py",
           "confine_cost.py", "model_forward.py", "state_ops.py", "agent_tools.py", "hooks_cost.py",
           "mcp_calls.py", "workflow_parallel.py", "warm_runs.py", "local_agent.py"]


def main() -> int:
    wanted = sys.argv[1:]
    failed = 0
    for name in BENCHES:
        if wanted and not any(w in name for w in wanted):
            continue
        print(f"== {name}", flush=True)
        failed += subprocess.run([sys.executable, str(HERE / name)]).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
