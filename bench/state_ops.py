"""State throughput: set+get pairs through a spell (Lua, JavaScript, Tengo) against the same operations
done directly in Python on the state service, in the same run, for ``memory`` and ``sqlite``.

The spell's side pays the bridge (conversion, validation, dispatch, the engine's round trip); the
Python side pays the service alone (checking the value, the dotted key, the store: for SQLite one
fsynced transaction per set).  Both use the same store code, so the ratio is what the spell API costs
on top; for SQLite the disk dominates and the ratio should be near 1.

    .venv/bin/python bench/state_ops.py [N]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from llmspell import Policy, Runtime
from llmspell.state import StateService

SPELLS = {
    "lua": """
local st = state.create({persistence = params.persistence, path = params.path})
for i = 1, params.n do
  st:set("k" .. i, {i = i, name = "item"})
  st:get("k" .. i)
end
""",
    "javascript": """
const st = await state.create({persistence: params.persistence, path: params.path});
for (let i = 1; i <= params.n; i++) {
  await st.set("k" + i, {i, name: "item"});
  await st.get("k" + i);
}
""",
    "tengo": """
st := state.create({persistence: params.persistence, path: params.path})
for i := 1; i <= params.n; i++ {
  st.set("k" + string(i), {i: i, name: "item"})
  st.get("k" + string(i))
}
""",
}


def fresh(folder: Path, persistence: str, tag: str) -> str | None:
    return None if persistence == "memory" else str(folder / f"{tag}.db")


def in_spell(folder: Path, language: str, persistence: str, n: int, tag: str) -> float:
    # Inline: a worker's fork would be spread over the operations; the per-call path is the same.
    policy = Policy(allow_read=(str(folder),), allow_write=(str(folder),), max_bridge_calls=None, timeout=600,
                    max_write=None)
    rt = Runtime(model="test", policy=policy, isolation="inline")
    params = {"persistence": persistence, "path": fresh(folder, persistence, tag), "n": n}
    t = time.perf_counter()
    rt.run(source=SPELLS[language], language=language, params=params)
    return time.perf_counter() - t


def in_python(folder: Path, persistence: str, n: int, tag: str) -> float:
    async def main() -> float:
        policy = Policy(allow_read=(str(folder),), allow_write=(str(folder),))
        service = StateService(policy)
        t = time.perf_counter()
        st = await service.create(persistence, fresh(folder, persistence, tag))
        for i in range(1, n + 1):
            await st.set(f"k{i}", {"i": i, "name": "item"})
            await st.get(f"k{i}")
        elapsed = time.perf_counter() - t
        service.close()
        return elapsed

    return asyncio.run(main())


def main() -> None:
    n_memory = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    sizes = {"memory": n_memory, "sqlite": max(n_memory // 20, 100)}
    print("state set+get pairs: spell vs the state service called from Python (best of 3, interleaved)")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        runs = 0
        for persistence, n in sizes.items():
            base = []
            spell: dict[str, list[float]] = {lang: [] for lang in SPELLS}
            for _ in range(3):
                runs += 1
                base.append(in_python(folder, persistence, n, f"py{runs}"))
                for lang in SPELLS:
                    spell[lang].append(in_spell(folder, lang, persistence, n, f"{lang}{runs}"))
            b = min(base)
            print(f"  {persistence:6} n={n:6}  python {n / b:9.0f} pairs/s ({b / n * 1e6:7.1f} µs)")
            for lang, times in spell.items():
                s = min(times)
                print(f"  {persistence:6} n={n:6}  {lang:10} {n / s:9.0f} pairs/s ({s / n * 1e6:7.1f} µs)"
                      f"  ratio {s / b:5.2f}x")


if __name__ == "__main__":
    main()
