"""``state.changed``: every write of a state reaches the run's event bus with its key, action, old and new
values, persistence and path, in every language; with no listener nothing is built or emitted."""

from __future__ import annotations

import asyncio

import pytest
from tests.state.conftest import LANGS, grant

from llmspell.dispatch import Interceptor
from llmspell.events import EventBus
from llmspell.sandbox import Policy
from llmspell.state import StateService


class Listen(Interceptor):
    """Subscribes a recorder to the run's bus at its first bridge call (what ``events.on`` does for a spell)."""

    def __init__(self) -> None:
        self.seen: list[dict] = []
        self.hosts: set[int] = set()

    def before(self, call):
        if id(call.run) not in self.hosts:
            self.hosts.add(id(call.run))

            async def record(event: dict) -> None:
                self.seen.append({k: event[k] for k in ("name", "key", "action", "old", "new", "persistence",
                                                         "path")})

            call.run.services.events.on("state.*", record)


SPELL = {
    "lua": """
local st = state.create({path = params.path})
st:set("a.b", 1); st:set("a.b", 2); st:delete("a.b"); st:delete("a.b"); st:set("c", nil)
""",
    "js": """
const st = await state.create({path: params.path});
await st.set("a.b", 1); await st.set("a.b", 2); await st.delete("a.b"); await st.delete("a.b");
await st.set("c", null);
""",
    "tengo": """
st := state.create({path: params.path})
st.set("a.b", 1); st.set("a.b", 2); st.delete("a.b"); st.delete("a.b"); st.set("c", undefined)
""",
}


@pytest.mark.parametrize("name", [None, "s.json", "s.db"])
@pytest.mark.parametrize("lang", LANGS)
def test_every_change_is_a_state_changed_event(isolated, run_spell, lang, name):
    folder = isolated.cwd / "data"
    folder.mkdir()
    path = None if name is None else folder / name
    listen = Listen()
    run_spell(lang, SPELL[lang], policy=grant(folder), interceptors=[listen],
              params={"path": None if path is None else str(path)})
    persistence = "memory" if name is None else "sqlite" if name.endswith(".db") else "file"
    where = None if path is None else str(path)
    base = {"name": "state.changed", "key": "a.b", "persistence": persistence, "path": where}
    assert listen.seen == [  # the second delete and setting nil where nothing is change nothing
        {**base, "action": "set", "old": None, "new": 1},
        {**base, "action": "set", "old": 1, "new": 2},
        {**base, "action": "delete", "old": 2, "new": None},
    ]


class Deaf(EventBus):
    """A bus no one listens to, that fails if an event is built for it anyway."""

    async def emit(self, name, data=None):  # pragma: no cover - reached only by the bug this test is for
        raise AssertionError(f"{name} emitted with no listener")


def test_with_no_listener_no_event_is_built():
    async def main():
        service = StateService(Policy(), events=Deaf())
        st = await service.create()
        for i in range(100):
            await st.set(f"k{i}.x", i)
            await st.delete(f"k{i}")
        return await st.all()

    assert asyncio.run(main()) == {}


LISTENED = {
    "lua": """
local seen = {}
events.on("state.*", function(e)
  seen[#seen + 1] = {name = e.name, action = e.action, key = e.key, old = e.old, new = e.new}
end)
local st = state.create()
st:set("a.b", 1); st:set("a.b", 2); st:delete("a")
return seen
""",
    "js": """
const seen = [];
events.on("state.*", (e) => { seen.push({name: e.name, action: e.action, key: e.key, old: e.old, new: e.new}); });
const st = await state.create();
await st.set("a.b", 1); await st.set("a.b", 2); await st.delete("a");
return seen;
""",
    "tengo": """
seen := []
events.on("state.*", func(e) {
  seen = append(seen, {name: e.name, action: e.action, key: e.key, old: e.old, new: e.new})
})
st := state.create()
st.set("a.b", 1); st.set("a.b", 2); st.delete("a")
export seen
""",
}


@pytest.mark.parametrize("lang", LANGS)
def test_a_spell_listens_to_its_states_with_events_on(run_spell, lang):
    r, _ = run_spell(lang, LISTENED[lang])
    r = [{k: v for k, v in e.items() if v is not None} for e in r]  # Lua's tables hold no nil
    assert r == [
        {"name": "state.changed", "action": "set", "key": "a.b", "new": 1},
        {"name": "state.changed", "action": "set", "key": "a.b", "old": 1, "new": 2},
        {"name": "state.changed", "action": "delete", "key": "a", "old": {"b": 2}},
    ]
