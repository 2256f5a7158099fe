"""Workflow events reach a spell's listeners with the workflow's and the steps' names and timings, and the
spell's time limit cancels the steps still running, in Lua, JavaScript and Tengo."""

from __future__ import annotations

import time

import pytest
from tests.workflows.conftest import Echo, run_spell

from llmspell.errors import SpellError

EVENTS = {
    "lua": '''
local seen = {}
events.on("workflow.*", function(e)
  table.insert(seen, {name = e.name, workflow = e.workflow, step = e.step, status = e.status,
                      timed = e.duration_ms ~= nil and e.duration_ms >= 0})
end)
local inner = workflow.create({name = "inner"})
inner:addStep({name = "deep", fn = function() return 1 end})
local wf = workflow.create({name = "outer", type = "conditional"})
wf:addStep({name = "first", fn = function() return 1 end})
wf:addStep({name = "never", fn = function() return 2 end, condition = function() return false end})
wf:addStep({name = "nested", workflow = inner})
wf:run({})
return seen
''',
    "js": '''
const seen = [];
events.on("workflow.*", (e) => { seen.push({name: e.name, workflow: e.workflow, step: e.step, status: e.status,
                                             timed: e.duration_ms != null && e.duration_ms >= 0}) });
const inner = await workflow.create({name: "inner"});
await inner.addStep({name: "deep", fn: () => 1});
const wf = await workflow.create({name: "outer", type: "conditional"});
await wf.addStep({name: "first", fn: () => 1});
await wf.addStep({name: "never", fn: () => 2, condition: () => false});
await wf.addStep({name: "nested", workflow: inner});
await wf.run({});
return seen;
''',
    "tengo": '''
seen := []
events.on("workflow.*", func(e) {
  seen = append(seen, {name: e.name, workflow: e.workflow, step: e.step, status: e.status,
                       timed: !is_undefined(e.duration_ms) && e.duration_ms >= 0})
})
inner := workflow.create({name: "inner"})
inner.addStep({name: "deep", fn: func(ctx) { return 1 }})
wf := workflow.create({name: "outer", type: "conditional"})
wf.addStep({name: "first", fn: func(ctx) { return 1 }})
wf.addStep({name: "never", fn: func(ctx) { return 2 }, condition: func(ctx) { return false }})
wf.addStep({name: "nested", workflow: inner})
wf.run({})
export seen
''',
}


def test_workflow_events_carry_names_statuses_and_timings(isolated, lang):
    result, _ = run_spell(isolated, lang, EVENTS[lang])
    got = [(e["name"], e["workflow"], e.get("step"), e.get("status"), e["timed"]) for e in result]
    assert got == [
        ("workflow.started", "outer", None, None, False),
        ("workflow.step.started", "outer", "first", None, False),
        ("workflow.step.completed", "outer", "first", "completed", True),
        ("workflow.step.completed", "outer", "never", "skipped", True),
        ("workflow.step.started", "outer", "nested", None, False),
        ("workflow.started", "inner", None, None, False),
        ("workflow.step.started", "inner", "deep", None, False),
        ("workflow.step.completed", "inner", "deep", "completed", True),
        ("workflow.completed", "inner", None, "completed", True),
        ("workflow.step.completed", "outer", "nested", "completed", True),
        ("workflow.completed", "outer", None, "completed", True),
    ]


SLOW = {
    "lua": '''
local wf = workflow.create({name = "slow", type = "parallel"})
local agent = llm.agent({})
for i = 1, 3 do wf:addStep({name = "s" .. i, agent = agent, prompt = "take your time"}) end
return wf:run({})
''',
    "js": '''
const wf = await workflow.create({name: "slow", type: "parallel"});
const agent = await llm.agent({});
for (let i = 1; i <= 3; i++) await wf.addStep({name: "s" + i, agent, prompt: "take your time"});
return await wf.run({});
''',
    "tengo": '''
wf := workflow.create({name: "slow", type: "parallel"})
agent := llm.agent({})
for i := 1; i <= 3; i++ { wf.addStep({name: "s" + string(i), agent: agent, prompt: "take your time"}) }
export wf.run({})
''',
}


@pytest.mark.parametrize("isolation", ["process", "inline"])
def test_the_time_limit_cancels_running_steps(isolated, lang, isolation):
    echo = Echo(delay=60)
    started = time.perf_counter()
    with pytest.raises(SpellError) as err:
        run_spell(isolated, lang, SLOW[lang], echo=echo, timeout=1.0, isolation=isolation)
    assert time.perf_counter() - started < 20  # not the 60 s of a step
    assert err.value.kind == "timeout"
    assert echo.most_in_flight == 3
    assert echo.finished == 0
    if isolation == "inline":  # in a worker the parent's requests end when the worker is stopped
        assert echo.cancelled == 3
