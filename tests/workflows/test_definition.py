"""A workflow is data: to_table / from_table round-trip its definition (functions left out, and given back),
to_mermaid draws it; bad definitions -- an unknown type, a step with no action, a workflow inside itself,
bad tables -- are clear errors naming the thing, in Lua, JavaScript and Tengo."""

from __future__ import annotations

import pytest
from tests.workflows.conftest import run_spell

from llmspell.errors import SpellError
from llmspell.workflows import Workflow, to_mermaid

ROUND_TRIP = {
    "lua": '''
local inner = workflow.create({name = "inner", type = "parallel", max_concurrency = 2})
inner:addStep({name = "a", tool = "calculator", params = {expression = "{{x}} + 1"}})
inner:addStep({name = "b", agent = llm.agent({name = "helper", system = "be brief", tools = {"datetime"}}),
  prompt = "about {{x}}", on_error = "retry", retries = 3, backoff_ms = 5})
local wf = workflow.create({name = "outer", description = "the whole thing"})
wf:addStep({name = "nest", workflow = inner, on_error = "continue"})
wf:addStep({name = "f", fn = function(ctx) return ctx.x * 2 end})
local t = wf:to_table()
local ok, err = pcall(workflow.from_table, t)
t.steps[2].fn = function(ctx) return ctx.x * 3 end
local back = workflow.from_table(t)
t.steps[2].fn = nil
return {table = t, again = back:to_table(), missing_fn = err.message, name = back.name, type = back.type,
        ran = back:run({x = 2}).steps.f.output}
''',
    "js": '''
const inner = await workflow.create({name: "inner", type: "parallel", max_concurrency: 2});
await inner.addStep({name: "a", tool: "calculator", params: {expression: "{{x}} + 1"}});
await inner.addStep({name: "b", agent: await llm.agent({name: "helper", system: "be brief", tools: ["datetime"]}),
  prompt: "about {{x}}", on_error: "retry", retries: 3, backoff_ms: 5});
const wf = await workflow.create({name: "outer", description: "the whole thing"});
await wf.addStep({name: "nest", workflow: inner, on_error: "continue"});
await wf.addStep({name: "f", fn: (ctx) => ctx.x * 2});
const t = await wf.to_table();
let missing;
try { await workflow.from_table(t) } catch (e) { missing = e.message }
t.steps[1].fn = (ctx) => ctx.x * 3;
const back = await workflow.from_table(t);
delete t.steps[1].fn;
return {table: t, again: await back.to_table(), missing_fn: missing, name: back.name, type: back.type,
        ran: (await back.run({x: 2})).steps.f.output};
''',
    "tengo": '''
inner := workflow.create({name: "inner", type: "parallel", max_concurrency: 2})
inner.addStep({name: "a", tool: "calculator", params: {expression: "{{x}} + 1"}})
inner.addStep({name: "b", agent: llm.agent({name: "helper", system: "be brief", tools: ["datetime"]}),
  prompt: "about {{x}}", on_error: "retry", retries: 3, backoff_ms: 5})
wf := workflow.create({name: "outer", description: "the whole thing"})
wf.addStep({name: "nest", workflow: inner, on_error: "continue"})
wf.addStep({name: "f", fn: func(ctx) { return ctx.x * 2 }})
t := copy(wf.to_table())
missing := workflow.from_table(t)
t.steps[1].fn = func(ctx) { return ctx.x * 3 }
back := workflow.from_table(t)
t.steps[1] = {name: "f"}
export {table: t, again: back.to_table(), missing_fn: missing.value.message, name: back.name, type: back.type,
        ran: back.run({x: 2}).steps.f.output}
''',
}

TABLE = {
    "name": "outer", "type": "sequential", "description": "the whole thing",
    "steps": [
        {"name": "nest", "on_error": "continue", "workflow": {
            "name": "inner", "type": "parallel", "max_concurrency": 2, "steps": [
                {"name": "a", "tool": "calculator", "params": {"expression": "{{x}} + 1"}},
                {"name": "b", "agent": {"name": "helper", "system": "be brief", "tools": ["datetime"], "retries": 2},
                 "prompt": "about {{x}}", "on_error": "retry", "retries": 3, "backoff_ms": 5},
            ]}},
        {"name": "f"},
    ],
}


def test_to_table_and_from_table_round_trip_the_definition(isolated, lang):
    result, _ = run_spell(isolated, lang, ROUND_TRIP[lang])
    assert result["table"] == TABLE
    assert result["again"] == TABLE
    assert result["name"] == "outer" and result["type"] == "sequential"
    assert result["ran"] == 6
    assert result["missing_fn"].startswith("workflow.from_table: workflow 'outer': step 'f' has no action")


def _error(isolated, lang: str, source: str) -> tuple[str, str]:
    if lang == "tengo":
        result, _ = run_spell(isolated, lang, f"r := {source}\nexport is_error(r) ? r.value : r")
        return result["kind"], result["message"]
    with pytest.raises(SpellError) as err:
        run_spell(isolated, lang, f"return {'await ' if lang == 'js' else ''}{source}")
    return err.value.kind, err.value.message


def _spell_table(lang: str, text: str) -> str:
    """A table written in Python-ish JSON as the language writes it."""
    return text.replace(": ", " = ").replace("[", "{").replace("]", "}") if lang == "lua" else text


BAD_TABLES = [
    ('{name: "w", type: "zigzag"}', "workflow.from_table: workflow 'w' has an unknown type 'zigzag'"),
    ('{name: "w", colour: "red"}', "workflow.from_table: 'colour' is not a workflow field"),
    ('{name: "w", steps: [{tool: "calculator"}]}', "workflow.from_table: workflow 'w': the 1st step needs a name"),
    ('{name: "w", steps: [{name: "s"}]}', "workflow.from_table: workflow 'w': step 's' has no action"),
    ('{name: "w", steps: [{name: "s", tool: "calculator", fn: "x"}]}',
     "workflow.from_table: workflow 'w': step 's' has more than one action (tool, fn)"),
    ('{name: "w", steps: [{name: "s", tool: "calculator", prompt: "hi"}]}',
     "workflow.from_table: workflow 'w': step 's': prompt is for an agent step"),
    ('{name: "w", steps: [{name: "s", agent: {model: "test"}}]}',
     "workflow.from_table: workflow 'w': step 's': an agent step needs a prompt"),
    ('{name: "w", steps: [{name: "s", agent: {modle: "test"}, prompt: "p"}]}',
     "workflow.from_table: workflow 'w': step 's': agent: 'modle' is not an agent field"),
    ('{name: "w", steps: [{name: "s", tool: "calculator", on_error: "panic"}]}',
     "workflow.from_table: workflow 'w': step 's': on_error must be one of fail, continue, retry, not 'panic'"),
    ('{name: "w", steps: [{name: "s", tool: "calculator", retries: 2}]}',
     "workflow.from_table: workflow 'w': step 's': retries need on_error = \"retry\""),
    ('{name: "w", steps: [{name: "s", tool: "calculator"}, {name: "s", tool: "datetime"}]}',
     "workflow.from_table: workflow 'w' already has a step named 's'"),
    ('{name: "w", steps: [{name: "s", workflow: {name: "in", steps: [{name: "t"}]}}]}',
     "workflow.from_table: workflow 'w': step 's': workflow: workflow 'in': step 't' has no action"),
    ('{name: "w", steps: [{name: "s", tool: "calculator", params: {q: "{{ x"}}]}',
     "workflow.from_table: workflow 'w': step 's': params.q: the template '{{ x' does not parse"),
    ('{name: "w", type: "loop", max_iterations: 3}',
     "workflow.from_table: loop workflow 'w' needs both max_iterations and until"),
    ('{name: "w", type: "parallel", max_concurrency: 0}',
     "workflow.from_table: workflow 'w': max_concurrency must be a whole number from 1 to 1000"),
]


@pytest.mark.parametrize(("table", "message"), BAD_TABLES)
def test_bad_tables_are_errors_naming_the_thing(isolated, lang, table, message):
    kind, got = _error(isolated, lang, f"workflow.from_table({_spell_table(lang, table)})")
    assert kind == "invalid_argument"
    assert got.startswith(message), got


@pytest.mark.parametrize(("call", "message"), [
    ('workflow.create({name: "w", type: "zigzag"})', "workflow.create: type must be one of sequential, parallel"),
    ('workflow.create({name: "w", max_iterations: 3})',
     "workflow.create: workflow 'w': max_iterations and until are for a loop workflow"),
    ('workflow.create({name: "w", type: "loop", max_iterations: 0})', "workflow.create: max_iterations "),
])
def test_bad_create_options_are_errors_naming_the_thing(isolated, lang, call, message):
    kind, got = _error(isolated, lang, _spell_table(lang, call))
    assert kind == "invalid_argument" and got.startswith(message), got


ADD = {
    "lua": 'local wf = workflow.create({name = "w"})\nreturn wf:addStep(%s)',
    "js": 'const wf = await workflow.create({name: "w"});\nreturn await wf.addStep(%s)',
    "tengo": 'wf := workflow.create({name: "w"})\nr := wf.addStep(%s)\nexport is_error(r) ? r.value : r',
}


@pytest.mark.parametrize(("step", "message"), [
    ('{name: "s"}', "wf.addStep: workflow 'w': step 's' has no action"),
    ('{name: "s", prompt: "hello"}', "wf.addStep: workflow 'w': step 's' has no action"),
    ('{name: "", tool: "calculator"}', "wf.addStep: workflow 'w': a step needs a name"),
    ('{name: "s", agent: "writer", prompt: "p"}', "wf.addStep: workflow 'w': step 's': agent must be an agent"),
    ('{name: "s", tool: "calculator", params: {q: "{% for x in y %}{% endfor %}"}}',
     "wf.addStep: workflow 'w': step 's': params.q: the template '{% for x in y %}{% endfor %}' has a statement"),
    ('{name: "s", tool: "calculator", params: {q: "{{ ' + "(" * 3000 + "1" + ")" * 3000 + ' }}"}}',
     "wf.addStep: workflow 'w': step 's': params.q: the template '{{ (((("),
    ('{name: "s", agent: {model: "test"}, prompt: "{{ x' + ".y" * 3000 + ' }}"}',
     "wf.addStep: workflow 'w': step 's': prompt: the template '{{ x.y.y"),
])
def test_a_step_with_no_action_or_a_bad_one_is_refused_when_added(isolated, lang, step, message):
    source = ADD[lang] % _spell_table(lang, step)
    if lang == "tengo":
        result, _ = run_spell(isolated, lang, source)
        kind, got = result["kind"], result["message"]
    else:
        with pytest.raises(SpellError) as err:
            run_spell(isolated, lang, source)
        kind, got = err.value.kind, err.value.message
    assert kind == "invalid_argument" and got.startswith(message), got
    assert len(got) < 1000


CYCLE = {
    "lua": '''
local a = workflow.create({name = "a"})
local b = workflow.create({name = "b"})
local c = workflow.create({name = "c"})
local ok1, self_err = pcall(a.addStep, a, {name = "me", workflow = a})
b:addStep({name = "to_c", workflow = c})
a:addStep({name = "to_b", workflow = b})
local ok2, far_err = pcall(c.addStep, c, {name = "back", workflow = a})
return {self = self_err.message, far = far_err.message, steps = #c:to_table().steps}
''',
    "js": '''
const a = await workflow.create({name: "a"}), b = await workflow.create({name: "b"});
const c = await workflow.create({name: "c"});
let self, far;
try { await a.addStep({name: "me", workflow: a}) } catch (e) { self = e.message }
await b.addStep({name: "to_c", workflow: c});
await a.addStep({name: "to_b", workflow: b});
try { await c.addStep({name: "back", workflow: a}) } catch (e) { far = e.message }
return {self, far, steps: (await c.to_table()).steps.length};
''',
    "tengo": '''
a := workflow.create({name: "a"})
b := workflow.create({name: "b"})
c := workflow.create({name: "c"})
self := a.addStep({name: "me", workflow: a})
b.addStep({name: "to_c", workflow: c})
a.addStep({name: "to_b", workflow: b})
far := c.addStep({name: "back", workflow: a})
export {self: self.value.message, far: far.value.message, steps: len(c.to_table().steps)}
''',
}


def test_a_workflow_cannot_contain_itself_directly_or_through_others(isolated, lang):
    result, _ = run_spell(isolated, lang, CYCLE[lang])
    assert result == {
        "self": "wf.addStep: workflow 'a': step 'me' would put the workflow inside itself ('a' -> 'a')",
        "far": "wf.addStep: workflow 'c': step 'back' would put the workflow inside itself ('c' -> 'a' -> 'b' -> 'c')",
        "steps": 0,
    }


def test_a_handle_of_the_wrong_kind_is_named(isolated, lang):
    source = {
        "lua": 'local wf = workflow.create({name = "w"})\nreturn wf:addStep({name = "s", workflow = llm.agent({})})',
        "js": 'const wf = await workflow.create({name: "w"});\n'
              'return await wf.addStep({name: "s", workflow: await llm.agent({})})',
        "tengo": 'wf := workflow.create({name: "w"})\nr := wf.addStep({name: "s", workflow: llm.agent({})})\n'
                 'export r.value',
    }[lang]
    if lang == "tengo":
        result, _ = run_spell(isolated, lang, source)
        message = result["message"]
    else:
        with pytest.raises(SpellError) as err:
            run_spell(isolated, lang, source)
        message = err.value.message
    assert message == "wf.addStep: step 's': workflow must be a workflow, not an agent"


def test_to_mermaid_draws_every_step_and_quotes_what_spells_named():
    inner = Workflow.from_table({"name": "in", "type": "parallel", "steps": [
        {"name": "x", "tool": "calculator"}, {"name": "y", "tool": "datetime"}]}, "t")
    outer = Workflow.make("t", name='a"b<script>', type="conditional")
    outer.add(Workflow.from_table({"name": "z", "steps": [{"name": "q", "tool": "datetime"}]}, "t").steps[0], "t")
    from llmspell.workflows import Step

    outer.add(Step.from_table({"name": "nest", "workflow": inner, "condition": lambda ctx: True}, "t"), "t")
    text = to_mermaid(outer)
    assert text.startswith("flowchart TD\n")
    assert '"a#34;b#60;script#62; (conditional)"' in text and "<script>" not in text
    assert '"q · tool datetime"' in text and '"x · tool calculator"' in text and '"y · tool datetime"' in text
    assert "subgraph" in text and "-->|yes|" in text and "-->|no|" in text
    assert text.count("-->") == 10
