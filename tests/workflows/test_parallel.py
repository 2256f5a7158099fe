"""Parallel workflows: steps run at once (at most max_concurrency, and never more than the sandbox's
max_concurrent), every output in the result, the first failure cancels the others (or is recorded, with
on_error = "continue"), in Lua, JavaScript and Tengo."""

from __future__ import annotations

import time

import pytest
from tests.workflows.conftest import Echo, run_spell

from llmspell.errors import SpellError
from llmspell.sandbox.policy import Policy

TEN = {
    "lua": '''
local wf = workflow.create({name = "fan", type = "parallel", max_concurrency = params.cap})
local agent = llm.agent({})
for i = 1, params.n do wf:addStep({name = "s" .. i, agent = agent, prompt = "part " .. i .. " of {{topic}}"}) end
local r = wf:run({topic = "cats"})
local statuses = {}
for name, step in pairs(r.steps) do statuses[name] = step.status end
return {output = r.output, statuses = statuses}
''',
    "js": '''
const wf = await workflow.create({name: "fan", type: "parallel", max_concurrency: params.cap});
const agent = await llm.agent({});
for (let i = 1; i <= params.n; i++) await wf.addStep({name: "s" + i, agent, prompt: "part " + i + " of {{topic}}"});
const r = await wf.run({topic: "cats"});
const statuses = {};
for (const [name, step] of Object.entries(r.steps)) statuses[name] = step.status;
return {output: r.output, statuses};
''',
    "tengo": '''
wf := workflow.create({name: "fan", type: "parallel", max_concurrency: params.cap})
agent := llm.agent({})
for i := 1; i <= params.n; i++ {
  wf.addStep({name: "s" + string(i), agent: agent, prompt: "part " + string(i) + " of {{topic}}"})
}
r := wf.run({topic: "cats"})
statuses := {}
for name, step in r.steps { statuses[name] = step.status }
export {output: r.output, statuses: statuses}
''',
}


def _expected(n: int) -> dict:
    return {"output": {f"s{i}": f"echo: part {i} of cats" for i in range(1, n + 1)},
            "statuses": {f"s{i}": "completed" for i in range(1, n + 1)}}


def test_ten_steps_of_a_slow_model_overlap(isolated, lang):
    def timed(n: int) -> tuple[float, Echo]:
        echo = Echo(delay=0.2)
        started = time.perf_counter()
        result, _ = run_spell(isolated, lang, TEN[lang], echo=echo, params={"n": n, "cap": None})
        assert result == _expected(n)
        return time.perf_counter() - started, echo

    one, _ = timed(1)  # the same run with one step: starting the spell is not the steps' time
    ten, echo = timed(10)
    assert echo.most_in_flight == 10
    assert ten - one < 9 * 0.2 / 2  # one after another, nine more steps would add 1.8 s; together about 0


@pytest.mark.parametrize("cap", [1, 3])
def test_max_concurrency_caps_the_steps_at_once(isolated, lang, cap):
    echo = Echo(delay=0.05)
    result, _ = run_spell(isolated, lang, TEN[lang], echo=echo, params={"n": 6, "cap": cap})
    assert result == _expected(6)
    assert echo.most_in_flight == cap


def test_the_sandbox_caps_the_steps_at_once_whatever_the_spell_asks(isolated, lang):
    # max_concurrent less one: the agents service keeps one call for the tools' handlers (agents/run.py)
    echo = Echo(delay=0.05)
    result, _ = run_spell(isolated, lang, TEN[lang], echo=echo, params={"n": 8, "cap": 8},
                          policy=Policy(max_concurrent=3))
    assert result == _expected(8)
    assert echo.most_in_flight == 2


def test_more_agent_steps_than_the_sandbox_runs_at_once_wait_for_their_turn(isolated, lang):
    echo = Echo(delay=0.05)
    result, _ = run_spell(isolated, lang, TEN[lang], echo=echo, params={"n": 40, "cap": None})
    assert result == _expected(40)
    assert echo.most_in_flight == Policy().max_concurrent - 1


FAILING = {
    "lua": '''
local wf = workflow.create({name = "fan", type = "parallel"})
local agent = llm.agent({})
for i = 1, 4 do wf:addStep({name = "slow" .. i, agent = agent, prompt = "wait"}) end
wf:addStep({name = "broken", agent = agent, prompt = "FAIL", on_error = params.on_error})
local ok, r = pcall(wf.run, wf, {})
if not ok then return {ok = false, kind = r.kind, message = r.message} end
return {ok = true, broken = r.steps.broken, slow = r.steps.slow1.status, output = r.output}
''',
    "js": '''
const wf = await workflow.create({name: "fan", type: "parallel"});
const agent = await llm.agent({});
for (let i = 1; i <= 4; i++) await wf.addStep({name: "slow" + i, agent, prompt: "wait"});
await wf.addStep({name: "broken", agent, prompt: "FAIL", on_error: params.on_error});
let r;
try { r = await wf.run({}) } catch (e) { return {ok: false, kind: e.kind, message: e.message} }
return {ok: true, broken: r.steps.broken, slow: r.steps.slow1.status, output: r.output};
''',
    "tengo": '''
wf := workflow.create({name: "fan", type: "parallel"})
agent := llm.agent({})
for i := 1; i <= 4; i++ { wf.addStep({name: "slow" + string(i), agent: agent, prompt: "wait"}) }
wf.addStep({name: "broken", agent: agent, prompt: "FAIL", on_error: params.on_error})
r := wf.run({})
if is_error(r) { export {ok: false, kind: r.value.kind, message: r.value.message} }
export {ok: true, broken: r.steps.broken, slow: r.steps.slow1.status, output: r.output}
''',
}


def test_a_failing_step_fails_the_workflow_and_cancels_the_others(isolated, lang):
    echo = Echo(delay=30, fail_delay=0.3)
    started = time.perf_counter()
    result, _ = run_spell(isolated, lang, FAILING[lang], echo=echo, params={"on_error": "fail"})
    assert time.perf_counter() - started < 15  # not the 30 s the other steps would take
    assert result["ok"] is False
    assert result["kind"] == "provider_error"
    assert result["message"].startswith("workflow 'fan': step 'broken' failed: ")
    assert "RuntimeError" not in result["message"] and "Traceback" not in result["message"]
    assert echo.cancelled == 4 and echo.finished == 0


def test_on_error_continue_records_the_failure_and_the_others_finish(isolated, lang):
    echo = Echo(delay=0.05)
    result, _ = run_spell(isolated, lang, FAILING[lang], echo=echo, params={"on_error": "continue"})
    assert result["ok"] is True
    broken = result["broken"]
    assert broken["status"] == "failed" and broken["error"]["kind"] == "provider_error"
    assert broken.get("output") is None
    assert result["slow"] == "completed"
    assert result["output"] == {f"slow{i}": "echo: wait" for i in range(1, 5)}
    assert echo.finished == 4 and echo.cancelled == 0


def test_a_parallel_step_cannot_read_a_sibling(isolated):
    source = '''
local wf = workflow.create({name = "fan", type = "parallel"})
wf:addStep({name = "a", fn = function() return 1 end})
wf:addStep({name = "b", tool = "calculator", params = {expression = "{{a.output}} + 1"}})
return wf:run({})
'''
    with pytest.raises(SpellError) as err:
        run_spell(isolated, "lua", source)
    assert err.value.kind == "invalid_argument" and "names 'a'" in err.value.message


NESTED = {
    "lua": '''
local agent = llm.agent({})
local outer = workflow.create({name = "outer", type = "parallel"})
for w = 1, 2 do
  local inner = workflow.create({name = "inner" .. w, type = "parallel"})
  for i = 1, 4 do inner:addStep({name = "s" .. i, agent = agent, prompt = "part " .. w .. i}) end
  outer:addStep({name = "w" .. w, workflow = inner})
end
return outer:run({}).output
''',
    "js": '''
const agent = await llm.agent({});
const outer = await workflow.create({name: "outer", type: "parallel"});
for (let w = 1; w <= 2; w++) {
  const inner = await workflow.create({name: "inner" + w, type: "parallel"});
  for (let i = 1; i <= 4; i++) await inner.addStep({name: "s" + i, agent, prompt: "part " + w + i});
  await outer.addStep({name: "w" + w, workflow: inner});
}
return (await outer.run({})).output;
''',
    "tengo": '''
agent := llm.agent({})
outer := workflow.create({name: "outer", type: "parallel"})
for w := 1; w <= 2; w++ {
  inner := workflow.create({name: "inner" + string(w), type: "parallel"})
  for i := 1; i <= 4; i++ {
    inner.addStep({name: "s" + string(i), agent: agent, prompt: "part " + string(w) + string(i)})
  }
  outer.addStep({name: "w" + string(w), workflow: inner})
}
export outer.run({}).output
''',
}


def test_parallel_workflows_inside_parallel_ones_stay_under_the_sandboxs_cap(isolated, lang):
    echo = Echo(delay=0.05)
    result, _ = run_spell(isolated, lang, NESTED[lang], echo=echo, policy=Policy(max_concurrent=4))
    assert result == {f"w{w}": {f"s{i}": f"echo: part {w}{i}" for i in range(1, 5)} for w in (1, 2)}
    assert echo.most_in_flight == 3 and echo.finished == 8


GROW = {
    "lua": '''
local wf = workflow.create({name = "w", type = params.t})
local added = false
wf:addStep({name = "s0", fn = function()
  if not added then added = true; wf:addStep({name = "s1", fn = function() return 1 end}) end
  return 0
end})
local first = wf:run({})
local second = wf:run({})
return {first = first.steps.s1 == nil, second = second.steps.s1.status}
''',
    "js": '''
const wf = await workflow.create({name: "w", type: params.t});
let added = false;
await wf.addStep({name: "s0", fn: async () => {
  if (!added) { added = true; await wf.addStep({name: "s1", fn: () => 1}) }
  return 0;
}});
const first = await wf.run({});
const second = await wf.run({});
return {first: first.steps.s1 === undefined, second: second.steps.s1.status};
''',
    "tengo": '''
wf := workflow.create({name: "w", type: params.t})
added := false
wf.addStep({name: "s0", fn: func(ctx) {
  if !added { added = true; wf.addStep({name: "s1", fn: func(ctx) { return 1 }}) }
  return 0
}})
first := wf.run({})
second := wf.run({})
export {first: is_undefined(first.steps.s1), second: second.steps.s1.status}
''',
}


@pytest.mark.parametrize("kind", ["sequential", "parallel"])
def test_a_step_added_while_the_workflow_runs_waits_for_the_next_run(isolated, lang, kind):
    result, _ = run_spell(isolated, lang, GROW[lang], params={"t": kind})
    assert result == {"first": True, "second": "completed"}
