"""``agent.started`` / ``agent.completed`` reach listeners with name, model, duration and usage, and are
not even built when no one listens; an embedder's own model serves a spell by name and as the default."""

from __future__ import annotations

from typing import Annotated, Any

from tests.agents.conftest import run_spell
from tests.support.scripted_model import Script, calls, text

from llmspell.bridges.base import Bridge, method


class Probe(Bridge):
    """Listens on the run's event bus for the test, and records every event emitted."""

    name = "probe"
    seen: list[dict[str, Any]] = []
    emitted: list[str] = []

    @method
    def listen(self, pattern: Annotated[str, "a pattern"]) -> None:
        """Listen to pattern."""
        bus = self.host.services.events
        if not getattr(bus, "_probed", False):
            emit = bus.emit

            async def spy(name: str, data: Any = None) -> int:
                Probe.emitted.append(name)
                return await emit(name, data)

            bus.emit, bus._probed = spy, True

        async def got(event: dict[str, Any]) -> None:
            Probe.seen.append(event)

        bus.on(pattern, got)


SPELL = {
    "lua": 'probe.listen(params.pattern)\nreturn llm.agent({name = "scout", tools = {"datetime"}}):run("go")',
    "js": 'await probe.listen(params.pattern)\n'
          'return await (await llm.agent({name: "scout", tools: ["datetime"]})).run("go")',
    "tengo": 'probe.listen(params.pattern)\nexport llm.agent({name: "scout", tools: ["datetime"]}).run("go")',
}


def _run(isolated, lang, pattern):
    Probe.seen, Probe.emitted = [], []
    script = Script(calls(("datetime", {})), text("it is now"))
    rt, _ = isolated.runtime(isolation="inline", models={"scripted": script.model()}, model="scripted")
    rt.add_bridge("probe", Probe)
    from tests.agents.conftest import LANGS

    return rt.run(source=SPELL[lang], language=LANGS[lang], filename="spell", params={"pattern": pattern})


def test_agent_events_carry_name_model_duration_and_usage(isolated, lang):
    assert _run(isolated, lang, "agent.*") == "it is now"
    started, completed = Probe.seen
    assert started["name"] == "agent.started" and started["data"] == {"name": "scout", "model": "scripted"}
    data = completed["data"]
    assert completed["name"] == "agent.completed" and data["name"] == "scout" and data["model"] == "scripted"
    assert data["success"] is True and data["duration"] >= 0
    assert data["usage"] == {"input_tokens": 20, "output_tokens": 10, "total_tokens": 30, "requests": 2,
                             "tool_calls": 1, "cost": None}


def test_no_agent_event_is_emitted_when_no_one_listens_to_it(isolated, lang):
    assert _run(isolated, lang, "workflow.*") == "it is now"
    assert Probe.seen == [] and not [n for n in Probe.emitted if n.startswith("agent.")]


def test_an_embedders_model_serves_llm_complete_by_name_in_a_worker(isolated, lang):
    script = Script(text("from the embedder"))
    src = {"lua": 'return llm.complete({model = "scripted", prompt = "hi"})',
           "js": 'return await llm.complete({model: "scripted", prompt: "hi"})',
           "tengo": 'export llm.complete({model: "scripted", prompt: "hi"})'}[lang]
    r, _ = run_spell(isolated, lang, src, script)
    assert r["content"] == "from the embedder" and r["model"] == "scripted"


def test_an_agent_falls_back_along_a_model_list(isolated, lang):
    from pydantic_ai.exceptions import ModelHTTPError
    from pydantic_ai.models.function import FunctionModel

    def down(messages, info):
        raise ModelHTTPError(503, "down-model", {"error": "overloaded"})

    Probe.seen, Probe.emitted = [], []
    script = Script(calls(("datetime", {})), text("answered by the second"))
    rt, _ = isolated.runtime(isolation="inline", models={"down": FunctionModel(down), "scripted": script.model()})
    rt.add_bridge("probe", Probe)
    src = {"lua": 'probe.listen("agent.completed")\n'
                  'return llm.agent({model = {"down", "scripted"}, tools = {"datetime"}}):run("go")',
           "js": 'await probe.listen("agent.completed")\n'
                 'return await (await llm.agent({model: ["down", "scripted"], tools: ["datetime"]})).run("go")',
           "tengo": 'probe.listen("agent.completed")\n'
                    'export llm.agent({model: ["down", "scripted"], tools: ["datetime"]}).run("go")'}[lang]
    from tests.agents.conftest import LANGS

    assert rt.run(source=src, language=LANGS[lang], filename="spell") == "answered by the second"
    assert Probe.seen[0]["data"]["model"] == "scripted"
