"""What hooks, guardrails and events cost a model request and a tool call, against the same calls in
the same run with nothing watching them.

A Lua spell makes N ``llm.complete`` calls (TestModel: the model costs next to nothing) and N
``tools.calculator`` calls, inline, in four set-ups: nothing registered (the plain path, where the
only cost is asking whether anything watches); a listener of an unrelated event (``app.*``: still
the plain path); listeners of every event (``*``: the request is wrapped, the events are built and
delivered to a spell function); and all four hooks, returning nothing.  A call costs
``(T(N) - T(0)) / N``; rounds are interleaved, medians.  Run it on the tree before hooks existed too
(``PYTHONPATH=OLD/src``): the first set-up runs there as well, the others are skipped.

    .venv/bin/python bench/hooks_cost.py [N]
"""

from __future__ import annotations

import statistics
import sys
import time

from llmspell import Policy, Runtime, SpellError
from llmspell.config import Settings

ROUNDS = 5
SETUPS = {
    "nothing watches": "",
    "listener of app.*": "events.on('app.*', function() end)\n",
    "listener of *": "events.on('*', function() end)\n",
    "four no-op hooks": "hooks.register({beforeGenerate = function() end, afterGenerate = function() end, "
                        "beforeToolCall = function() end, afterToolCall = function() end})\n",
}
CALLS = {
    "llm.complete": "for i = 1, params.n do llm.complete({prompt = 'hi'}) end",
    "tools.calculator": "for i = 1, params.n do tools.calculator('1 + 1') end",
}


def seconds(runtime: Runtime, source: str, n: int) -> float:
    start = time.perf_counter()
    runtime.run(source=source, language="lua", params={"n": n})
    return time.perf_counter() - start


def check_cost() -> float | None:
    """Microseconds the plain path adds to a call: asking whether anything watches (one model request
    asks the model observers, one tool call the tool observers), measured directly."""
    try:
        from llmspell.events import EventBus
        from llmspell.guardrails import Guardrails
        from llmspell.hooks import HookRegistry
        from llmspell.models.observers import Observers
        from llmspell.tools.observed import ToolObservers
    except ImportError:
        return None
    import timeit

    bus, hooks = EventBus(), HookRegistry()
    models, tools = Observers(hooks, Guardrails(), bus), ToolObservers(hooks, bus)
    loops = 200_000
    return min(timeit.repeat(lambda: models.watching() or tools.watching(), number=loops, repeat=5)) / loops * 1e6


def main() -> int:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    policy = Policy(max_llm_calls=None, max_bridge_calls=None, timeout=600)
    runtime = Runtime(config=Settings(env={}), model="test", policy=policy, isolation="inline",
                      output=lambda text: None)
    setups = dict(SETUPS)
    try:
        runtime.run(source=SETUPS["listener of *"], language="lua")
    except SpellError:  # a tree without events: only the plain path
        setups = {"nothing watches": ""}
    for call, body in CALLS.items():
        per: dict[str, list[float]] = {name: [] for name in setups}
        for prefix in setups.values():
            seconds(runtime, prefix + body, 20)  # warm
        for _ in range(ROUNDS):
            for name, prefix in setups.items():
                empty = seconds(runtime, prefix + body, 0)
                full = seconds(runtime, prefix + body, n)
                per[name].append((full - empty) / n * 1000)
        base = statistics.median(per["nothing watches"])
        for name in setups:
            ms = statistics.median(per[name])
            print(f"{call:<17} {name:<18} {ms:7.3f} ms/call   {ms / base:5.2f}x the plain path")
    print(f"({n} calls a run, median of {ROUNDS} interleaved rounds, inline, TestModel)")
    added = check_cost()
    if added is not None:
        print(f"the plain path's one added step (does anything watch?): {added:.3f} us per call")
    return 0


if __name__ == "__main__":
    sys.exit(main())
