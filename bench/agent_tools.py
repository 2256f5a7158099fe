"""Agent overhead: one agent run with 3 tool calls to the spell's own handlers, against a model with no
latency (a pydantic-ai FunctionModel), in each language, against the same pydantic-ai Agent with Python
tool functions called directly (the floor), measured in the same run.

Each spell makes the agent once and runs it N times; the time of a spell that makes the agent and runs it
0 times is taken off, so the figure is the time of one agent run (model requests, three tool calls on the
spell's VM through the one tool road, the run's record).  Inline isolation: a worker adds the same fork
and the model pipe to every spell, which is not the agent's cost.

    .venv/bin/python bench/agent_tools.py [N]
"""

from __future__ import annotations

import asyncio
import sys
import time

from pydantic_ai import Agent
from pydantic_ai.messages import ModelResponse, TextPart, ToolCallPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

from llmspell import Policy, Runtime

TARGET = 1.5


async def answer(messages: list, info: AgentInfo) -> ModelResponse:
    """Three tool calls at once, then the answer (async: pydantic-ai runs a sync one in a thread)."""
    if len(messages) == 1:
        return ModelResponse(parts=[ToolCallPart("double", {"x": i}, tool_call_id=f"c{i}") for i in range(3)])
    return ModelResponse(parts=[TextPart("done")])


SPELLS = {
    "lua": """
local t = tools.register({name = "double", description = "Double x",
  parameters = {x = {type = "integer", required = true}}, handler = function(p) return p.x * 2 end})
local agent = llm.agent({model = "bench", tools = {t}})
for i = 1, params.n do agent:run("go") end
return params.n
""",
    "javascript": """
const t = await tools.register({name: "double", description: "Double x",
  parameters: {x: {type: "integer", required: true}}, handler: (p) => p.x * 2});
const agent = await llm.agent({model: "bench", tools: [t]});
for (let i = 0; i < params.n; i++) await agent.run("go");
return params.n;
""",
    "tengo": """
t := tools.register({name: "double", description: "Double x",
  parameters: {x: {type: "integer", required: true}}, handler: func(p) { return p.x * 2 }})
agent := llm.agent({model: "bench", tools: [t]})
for i := 0; i < params.n; i++ { agent.run("go") }
export params.n
""",
}


def floor(n: int) -> float:
    """Seconds per run of the same agent on pydantic-ai alone, with a Python tool function."""
    agent = Agent(FunctionModel(answer))

    @agent.tool_plain
    async def double(x: int) -> int:  # async, as a spell's tool is: a sync one would run in a thread
        """Double x."""
        return x * 2

    async def go() -> float:
        await agent.run("go")  # warm
        t = time.perf_counter()
        for _ in range(n):
            await agent.run("go")
        return (time.perf_counter() - t) / n

    return asyncio.run(go())


def spell(n: int, language: str) -> float:
    """Seconds per agent run in a spell of ``language``."""
    rt = Runtime(models={"bench": FunctionModel(answer)}, isolation="inline",
                 policy=Policy(max_bridge_calls=None, max_llm_calls=None, timeout=600))

    def timed(count: int) -> float:
        t = time.perf_counter()
        assert rt.run(source=SPELLS[language], language=language, params={"n": count}) == count
        return time.perf_counter() - t

    timed(1)  # warm: imports, the first Agent
    return (timed(n) - timed(0)) / n


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    rounds = 5
    # Rounds interleave the floor and every language, and the best of each is kept: on a shared machine
    # a burst of load then slows every series alike instead of the one measured at that moment.
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name in ("floor", *SPELLS):
            took = floor(n) if name == "floor" else spell(n, name)
            best[name] = min(best.get(name, took), took)
    base = best["floor"]
    print(f"agent run, 3 tool calls, pydantic-ai with Python tools (floor): {base * 1e3:.2f} ms")
    for language in SPELLS:
        per = best[language]
        print(f"  {language:<10} {per * 1e3:7.2f} ms per run   {per / base:.2f}x the floor (target <= {TARGET}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
