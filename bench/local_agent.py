"""One agent run with one tool call on the embedded model (SmolLM2-135M under its grammar), in a spell and in Python.

The spell (Lua, run by ``Runtime`` with nothing configured, so the worker's
agent gets local:smollm2 from the parent) registers ``get_weather`` and asks
about Paris: one request that must call the tool, the handler on the spell's
VM, one request for the answer.  The floor is the same agent, tool and prompt
run by pydantic-ai directly in this process with a Python function.  At
temperature 0 both make the same two generations, so the ratio is what the
spell machinery (worker, pipe, handler on the VM) adds to the model's own time.

Also: what the grammar costs per generated token, from one plain text answer
generated with and without the grammar that holds text once tools are in play.

The machine is shared and noisy: rounds are interleaved, medians reported.

    .venv/bin/python bench/local_agent.py [ROUNDS]
"""

from __future__ import annotations

import statistics
import sys
import time

from pydantic_ai import Agent, Tool

from llmspell import Runtime
from llmspell.config import Settings

SCHEMA = {"type": "object", "properties": {"city": {"type": "string", "description": "the city's name"}},
          "required": ["city"]}
SYSTEM = "You answer questions about the weather. Call get_weather for the city you are asked about."
PROMPT = "What is the weather like in Paris today?"
SETTINGS = {"temperature": 0.0, "max_tokens": 96}

SPELL = """
local weather = tools.register({
  name = "get_weather", description = "Get the current weather for a city",
  parameters = params.schema,
  handler = function(args) return {city = args.city, temperature_c = 21, sky = "sunny"} end,
})
local agent = llm.agent({system = params.system, tools = {weather}, max_tokens = 96, temperature = 0})
local r = agent:run_full(params.prompt)
return {calls = #r.tool_calls, requests = r.usage.requests}
"""


def spell_run(runtime: Runtime) -> float:
    start = time.perf_counter()
    result = runtime.run(source=SPELL, language="lua", params={"schema": SCHEMA, "system": SYSTEM, "prompt": PROMPT})
    took = time.perf_counter() - start
    assert result == {"calls": 1, "requests": 2}, result
    return took


def python_run(agent: Agent) -> float:
    start = time.perf_counter()
    result = agent.run_sync(PROMPT, model_settings=SETTINGS)
    took = time.perf_counter() - start
    assert result.usage.requests == 2
    return took


def grammar_cost(rounds: int) -> tuple[float, float]:
    """Seconds per generated token for one text answer, without and with the text grammar."""
    from llama_cpp import LlamaGrammar

    from llmspell.models._local_grammar import _TEXT
    from llmspell.models.local import load_llama

    llama = load_llama()
    grammar = LlamaGrammar.from_string(f"root ::= {_TEXT}", verbose=False)
    chat = [{"role": "user", "content": "Tell me about Paris in a few sentences."}]
    per: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(rounds):
        for held in (False, True):
            start = time.perf_counter()
            out = llama.create_chat_completion(messages=chat, temperature=0.0, max_tokens=64,
                                               grammar=grammar if held else None)
            per[held].append((time.perf_counter() - start) / out["usage"]["completion_tokens"])
    return statistics.median(per[False]), statistics.median(per[True])


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    runtime = Runtime(config=Settings(env={}), output=lambda text: None)
    from llmspell.models.local import local_model

    calls: list[str] = []

    def get_weather(city: str) -> dict:
        calls.append(city)
        # The keys in the order the spell's table crosses in (sorted), so the model reads the same prompt.
        return {"city": city, "sky": "sunny", "temperature_c": 21}

    tool = Tool.from_schema(get_weather, name="get_weather", description="Get the current weather for a city",
                            json_schema=SCHEMA)
    agent = Agent(local_model(), tools=[tool], instructions=SYSTEM)
    spell_run(runtime)  # warm: the model's weights, the worker, pydantic-ai's caches
    python_run(agent)
    spells, floors = [], []
    for _ in range(rounds):
        spells.append(spell_run(runtime))
        floors.append(python_run(agent))
    spell, floor = statistics.median(spells), statistics.median(floors)
    print(f"agent run, one tool call, local:smollm2: spell (Lua, worker) {spell:6.2f} s   "
          f"pydantic-ai in process {floor:6.2f} s   ratio {spell / floor:4.2f}x")
    plain, held = grammar_cost(rounds)
    print(f"text generation per token: free {plain * 1000:6.1f} ms   under the grammar {held * 1000:6.1f} ms   "
          f"ratio {held / plain:4.2f}x")
    print(f"(median of {rounds} interleaved rounds)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
