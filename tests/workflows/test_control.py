"""Conditional and loop workflows, and each step's error policy (fail, continue, retry with backoff), in Lua,
JavaScript and Tengo."""

from __future__ import annotations

import pytest
from tests.workflows.conftest import run_spell

from llmspell.errors import SpellError

CONDITIONAL = {
    "lua": '''
local wf = workflow.create({name = "route", type = "conditional"})
wf:addStep({name = "long", fn = function(ctx) return "long " .. ctx.n end,
  condition = function(ctx) return ctx.n > 3 end})
wf:addStep({name = "short", fn = function(ctx) return "short" end, condition = function(ctx) return ctx.n <= 3 end})
wf:addStep({name = "after", fn = function(ctx) return ctx.long.status .. "/" .. ctx.short.status end})
local r = wf:run({n = params.n})
return {output = r.output, long = r.steps.long.status, short = r.steps.short.status, short_out = r.steps.short.output}
''',
    "js": '''
const wf = await workflow.create({name: "route", type: "conditional"});
await wf.addStep({name: "long", fn: (ctx) => "long " + ctx.n, condition: (ctx) => ctx.n > 3});
await wf.addStep({name: "short", fn: (ctx) => "short", condition: (ctx) => ctx.n <= 3});
await wf.addStep({name: "after", fn: (ctx) => ctx.long.status + "/" + ctx.short.status});
const r = await wf.run({n: params.n});
return {output: r.output, long: r.steps.long.status, short: r.steps.short.status, short_out: r.steps.short.output};
''',
    "tengo": '''
wf := workflow.create({name: "route", type: "conditional"})
wf.addStep({name: "long", fn: func(ctx) { return "long " + string(ctx.n) }, condition: func(ctx) { return ctx.n > 3 }})
wf.addStep({name: "short", fn: func(ctx) { return "short" }, condition: func(ctx) { return ctx.n <= 3 }})
wf.addStep({name: "after", fn: func(ctx) { return ctx.long.status + "/" + ctx.short.status }})
r := wf.run({n: params.n})
export {output: r.output, long: r.steps.long.status, short: r.steps.short.status, short_out: r.steps.short.output}
''',
}


@pytest.mark.parametrize(("n", "expected"), [
    (5, {"output": "completed/skipped", "long": "completed", "short": "skipped"}),
    (2, {"output": "skipped/completed", "long": "skipped", "short": "completed", "short_out": "short"}),
])
def test_conditional_steps_run_when_their_condition_holds(isolated, lang, n, expected):
    result, _ = run_spell(isolated, lang, CONDITIONAL[lang], params={"n": n})
    assert {k: v for k, v in result.items() if v is not None} == expected


LOOP = {
    "lua": '''
local wf = workflow.create({name = "grow", type = "loop", max_iterations = params.max,
  ["until"] = function(ctx) return #ctx.add.output >= params.goal end})
wf:addStep({name = "add", fn = function(ctx)
  local items = ctx.add and ctx.add.output or {}
  table.insert(items, ctx.iteration)
  return items
end})
local r = wf:run({})
return {output = r.output, iterations = r.iterations}
''',
    "js": '''
const wf = await workflow.create({name: "grow", type: "loop", max_iterations: params.max,
  until: (ctx) => ctx.add.output.length >= params.goal});
await wf.addStep({name: "add", fn: (ctx) => [...(ctx.add ? ctx.add.output : []), ctx.iteration]});
const r = await wf.run({});
return {output: r.output, iterations: r.iterations};
''',
    "tengo": '''
wf := workflow.create({name: "grow", type: "loop", max_iterations: params.max,
  until: func(ctx) { return len(ctx.add.output) >= params.goal }})
wf.addStep({name: "add", fn: func(ctx) {
  items := is_undefined(ctx.add) ? [] : ctx.add.output
  return append(items, ctx.iteration)
}})
r := wf.run({})
export {output: r.output, iterations: r.iterations}
''',
}


@pytest.mark.parametrize(("goal", "most", "ran"), [(3, 10, 3), (50, 4, 4)])
def test_a_loop_ends_on_until_or_at_max_iterations(isolated, lang, goal, most, ran):
    result, _ = run_spell(isolated, lang, LOOP[lang], params={"goal": goal, "max": most})
    assert result == {"output": list(range(1, ran + 1)), "iterations": ran}


BOUNDS = {
    "lua": 'return workflow.create({name = "spin", type = "loop"%s})',
    "js": 'return await workflow.create({name: "spin", type: "loop"%s})',
    "tengo": 'r := workflow.create({name: "spin", type: "loop"%s})\nexport is_error(r) ? r.value : r',
}
UNTIL = {"lua": ', ["until"] = function() return false end', "js": ", until: () => false",
         "tengo": ", until: func() { return false }"}


@pytest.mark.parametrize("given", ["nothing", "max_iterations", "until"])
def test_a_loop_needs_both_bounds(isolated, lang, given):
    extra = {"nothing": "", "max_iterations": ", max_iterations = 3" if lang == "lua" else ", max_iterations: 3",
             "until": UNTIL[lang]}[given]
    source = BOUNDS[lang] % extra
    if lang == "tengo":
        error, _ = run_spell(isolated, lang, source)
        kind, message = error["kind"], error["message"]
    else:
        with pytest.raises(SpellError) as err:
            run_spell(isolated, lang, source)
        kind, message = err.value.kind, err.value.message
    assert kind == "invalid_argument"
    assert message == "workflow.create: loop workflow 'spin' needs both max_iterations and until"


RETRY = {
    "lua": '''
local calls = 0
local wf = workflow.create({name = "flaky"})
wf:addStep({name = "try", on_error = params.on_error, retries = params.retries, backoff_ms = 1, fn = function(ctx)
  calls = calls + 1
  if calls <= params.failures then error("attempt " .. calls .. " failed") end
  return "ok after " .. calls
end})
wf:addStep({name = "next", fn = function(ctx) return ctx.try.status end})
local ok, r = pcall(wf.run, wf, {})
if not ok then return {ok = false, calls = calls, message = r.message} end
local s = r.steps.try
return {ok = true, calls = calls, output = s.output, status = s.status, attempts = s.attempts,
        problem = s.error and s.error.message, next = r.steps.next.output}
''',
    "js": '''
let calls = 0;
const wf = await workflow.create({name: "flaky"});
await wf.addStep({name: "try", on_error: params.on_error, retries: params.retries, backoff_ms: 1, fn: (ctx) => {
  calls += 1;
  if (calls <= params.failures) throw new Error("attempt " + calls + " failed");
  return "ok after " + calls;
}});
await wf.addStep({name: "next", fn: (ctx) => ctx.try.status});
let r;
try { r = await wf.run({}) } catch (e) { return {ok: false, calls, message: e.message} }
const s = r.steps.try;
return {ok: true, calls, output: s.output, status: s.status, attempts: s.attempts,
        problem: s.error ? s.error.message : null, next: r.steps.next.output};
''',
    "tengo": '''
calls := 0
wf := workflow.create({name: "flaky"})
wf.addStep({name: "try", on_error: params.on_error, retries: params.retries, backoff_ms: 1, fn: func(ctx) {
  calls += 1
  if calls <= params.failures { return error("attempt " + string(calls) + " failed") }
  return "ok after " + string(calls)
}})
wf.addStep({name: "next", fn: func(ctx) { return ctx.try.status }})
r := wf.run({})
if is_error(r) { export {ok: false, calls: calls, message: r.value.message} }
s := r.steps.try
export {ok: true, calls: calls, output: s.output, status: s.status, attempts: s.attempts,
        problem: is_undefined(s.error) ? undefined : s.error.message, next: r.steps.next.output}
''',
}


def _retry(isolated, lang, **params):
    result, _ = run_spell(isolated, lang, RETRY[lang], params=params)
    return {k: v for k, v in result.items() if v is not None}


def test_retry_runs_a_failing_step_again_until_it_succeeds(isolated, lang):
    assert _retry(isolated, lang, on_error="retry", retries=3, failures=2) == {
        "ok": True, "calls": 3, "output": "ok after 3", "status": "completed", "attempts": 3, "next": "completed"}


def test_retries_spent_fail_the_workflow_with_the_last_error(isolated, lang):
    result = _retry(isolated, lang, on_error="retry", retries=2, failures=10)
    assert result["ok"] is False and result["calls"] == 3
    assert result["message"].startswith("workflow 'flaky': step 'try' failed: ")
    assert "attempt 3 failed" in result["message"]


def test_continue_records_the_error_and_goes_on(isolated, lang):
    result = _retry(isolated, lang, on_error="continue", retries=None, failures=1)
    assert result["ok"] is True and result["calls"] == 1
    assert result["status"] == "failed" and result["attempts"] == 1 and "attempt 1 failed" in result["problem"]
    assert result["next"] == "failed"


def test_fail_stops_the_workflow_at_the_step(isolated, lang):
    result = _retry(isolated, lang, on_error="fail", retries=None, failures=1)
    assert result["ok"] is False and result["calls"] == 1
    assert result["message"].startswith("workflow 'flaky': step 'try' failed: ") and "attempt 1 failed" in \
        result["message"]
