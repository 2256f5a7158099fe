"""MCP tool calls: a spell calling a stdio MCP server's tool N times through ``tools.NAME``, in each
language, against pydantic-ai's MCPToolset calling the same tool of the same server directly from
Python (the floor: FastMCP's own StdioTransport, no spell, no sandbox), measured in the same run.

Each spell connects the server (``tools.mcp``) and calls ``m_add`` N times; the time of a spell that
connects and calls 0 times is taken off, so the figure is the time of one call (the tool road, argument
validation against the server's schema, the SDK's session over the pipes, the result back into the VM).
The connect time (start the program, initialize, list its tools) is shown beside the floor's.  Inline
isolation: a worker adds its fork to every spell, which is not a call's cost.

    .venv/bin/python bench/mcp_calls.py [N]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

from fastmcp.client.transports import StdioTransport
from pydantic_ai.mcp import MCPToolset

from llmspell import Policy, Runtime

SERVER = Path(__file__).resolve().parents[1] / "tests" / "support" / "mcp_server.py"
PY = sys.executable

SPELLS = {
    "lua": "tools.mcp(params.server)\nfor i = 1, params.n do tools.m_add(i, 1) end\nreturn params.n",
    "js": "await tools.mcp(params.server);\nfor (let i = 0; i < params.n; i++) await tools.m_add(i, 1);\n"
          "return params.n;",
    "tengo": "tools.mcp(params.server)\nfor i := 0; i < params.n; i++ { tools.m_add(i, 1) }\nexport params.n",
}
LANGS = {"lua": "lua", "js": "javascript", "tengo": "tengo"}


async def floor(n: int) -> tuple[float, float]:
    """(seconds to connect and list, seconds per call) with MCPToolset over FastMCP's StdioTransport."""
    start = time.perf_counter()
    toolset = MCPToolset(StdioTransport(PY, [str(SERVER), "stdio", "bench"], keep_alive=False))
    async with toolset:
        await toolset.list_tools()
        connected = time.perf_counter()
        for i in range(n):
            await toolset.direct_call_tool("add", {"a": i, "b": 1})
        done = time.perf_counter()
    return connected - start, (done - connected) / n


def spell_time(rt: Runtime, lang: str, n: int) -> float:
    params = {"n": n, "server": {"command": PY, "args": [str(SERVER), "stdio", "bench"], "prefix": "m"}}
    start = time.perf_counter()
    rt.run(source=SPELLS[lang], language=LANGS[lang], filename=f"bench.{lang}", params=params)
    return time.perf_counter() - start


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rounds = 3
    floors = [asyncio.run(floor(n)) for _ in range(rounds)]
    base_connect = statistics.median(f[0] for f in floors)
    base_call = statistics.median(f[1] for f in floors)
    print(f"floor (MCPToolset, Python): connect {base_connect * 1e3:.0f} ms, {base_call * 1e6:.0f} us per call")
    rt = Runtime(policy=Policy(allow_run=(PY,), allow_read=(str(SERVER),)), isolation="inline")
    for lang in SPELLS:
        empty = statistics.median(spell_time(rt, lang, 0) for _ in range(rounds))
        full = statistics.median(spell_time(rt, lang, n) for _ in range(rounds))
        per_call = (full - empty) / n
        print(f"{lang:6} connect+run {empty * 1e3:.0f} ms, {per_call * 1e6:.0f} us per call "
              f"({per_call / base_call:.2f}x the floor)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
