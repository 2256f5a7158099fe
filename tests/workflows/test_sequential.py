"""Sequential workflows of agent, tool, function and nested-workflow steps, with templates filled from the
inputs and earlier steps (names, nested fields, list items), in Lua, JavaScript and Tengo."""

from __future__ import annotations

import pytest
from tests.workflows.conftest import Echo, run_spell

from llmspell.errors import SpellError

PIPELINE = {
    "lua": '''
local inner = workflow.create({name = "inner"})
inner:addStep({name = "shout", fn = function(ctx)
  return string.upper(ctx.topic) .. "/" .. ctx.notes.output.tags[2] end})
local wf = workflow.create({name = "research", type = "sequential"})
wf:addStep({name = "notes", fn = function(ctx) return {title = "On " .. ctx.topic, tags = {"a", "b"}} end})
wf:addStep({name = "size", tool = "calculator", params = {expression = "{{notes.output.tags | length}} * {{n}}"}})
wf:addStep({name = "echo", tool = "json_query", params = {data = {tags = "{{notes.output.tags}}", n = "{{n}}"},
  path = "tags"}})
wf:addStep({name = "write", agent = llm.agent({model = "echo"}),
  prompt = "Write {{notes.output.title}} ({{notes.output.tags[0]}}, {{size.output}}, {{topic}})"})
wf:addStep({name = "nested", workflow = inner})
local r = wf:run({topic = "cats", n = 5})
return {output = r.output, write = r.steps.write.output, size = r.steps.size.output, echo = r.steps.echo.output,
        statuses = {r.steps.notes.status, r.steps.size.status, r.steps.write.status, r.steps.nested.status},
        errors = r.steps.notes.error == nil, ms = r.steps.write.duration_ms >= 0, attempts = r.steps.size.attempts}
''',
    "js": '''
const inner = await workflow.create({name: "inner"});
await inner.addStep({name: "shout", fn: (ctx) => ctx.topic.toUpperCase() + "/" + ctx.notes.output.tags[1]});
const wf = await workflow.create({name: "research", type: "sequential"});
await wf.addStep({name: "notes", fn: (ctx) => ({title: "On " + ctx.topic, tags: ["a", "b"]})});
await wf.addStep({name: "size", tool: "calculator", params: {expression: "{{notes.output.tags | length}} * {{n}}"}});
await wf.addStep({name: "echo", tool: "json_query", params: {data: {tags: "{{notes.output.tags}}", n: "{{n}}"},
  path: "tags"}});
await wf.addStep({name: "write", agent: await llm.agent({model: "echo"}),
  prompt: "Write {{notes.output.title}} ({{notes.output.tags[0]}}, {{size.output}}, {{topic}})"});
await wf.addStep({name: "nested", workflow: inner});
const r = await wf.run({topic: "cats", n: 5});
return {output: r.output, write: r.steps.write.output, size: r.steps.size.output, echo: r.steps.echo.output,
        statuses: [r.steps.notes.status, r.steps.size.status, r.steps.write.status, r.steps.nested.status],
        errors: r.steps.notes.error == null, ms: r.steps.write.duration_ms >= 0, attempts: r.steps.size.attempts};
''',
    "tengo": '''
text := import("text")
inner := workflow.create({name: "inner"})
inner.addStep({name: "shout", fn: func(ctx) { return text.to_upper(ctx.topic) + "/" + ctx.notes.output.tags[1] }})
wf := workflow.create({name: "research", type: "sequential"})
wf.addStep({name: "notes", fn: func(ctx) { return {title: "On " + ctx.topic, tags: ["a", "b"]} }})
wf.addStep({name: "size", tool: "calculator", params: {expression: "{{notes.output.tags | length}} * {{n}}"}})
wf.addStep({name: "echo", tool: "json_query", params: {data: {tags: "{{notes.output.tags}}", n: "{{n}}"},
  path: "tags"}})
wf.addStep({name: "write", agent: llm.agent({model: "echo"}),
  prompt: "Write {{notes.output.title}} ({{notes.output.tags[0]}}, {{size.output}}, {{topic}})"})
wf.addStep({name: "nested", workflow: inner})
r := wf.run({topic: "cats", n: 5})
export {output: r.output, write: r.steps.write.output, size: r.steps.size.output, echo: r.steps.echo.output,
        statuses: [r.steps.notes.status, r.steps.size.status, r.steps.write.status, r.steps.nested.status],
        errors: is_undefined(r.steps.notes.error), ms: r.steps.write.duration_ms >= 0, attempts: r.steps.size.attempts}
''',
}


def test_steps_of_every_kind_fill_templates_from_inputs_and_earlier_steps(isolated, lang):
    echo = Echo()
    result, _ = run_spell(isolated, lang, PIPELINE[lang], echo=echo)
    assert echo.prompts == ["Write On cats (a, 10, cats)"]
    assert result == {"output": "CATS/b", "write": "echo: Write On cats (a, 10, cats)", "size": 10,
                      "echo": ["a", "b"], "statuses": ["completed"] * 4, "errors": True, "ms": True, "attempts": 1}


MISSING = {
    "lua": '''
local wf = workflow.create({name = "report"})
wf:addStep({name = "first", fn = function(ctx) return {title = "t"} end})
wf:addStep({name = "{{step}}", tool = "calculator", params = {expression = "{{first.output.%s}}"}})
return wf:run({topic = "x"})
''',
    "js": '''
const wf = await workflow.create({name: "report"});
await wf.addStep({name: "first", fn: (ctx) => ({title: "t"})});
await wf.addStep({name: "{{step}}", tool: "calculator", params: {expression: "{{first.output.%s}}"}});
return await wf.run({topic: "x"});
''',
    "tengo": '''
wf := workflow.create({name: "report"})
wf.addStep({name: "first", fn: func(ctx) { return {title: "t"} }})
wf.addStep({name: "{{step}}", tool: "calculator", params: {expression: "{{first.output.%s}}"}})
r := wf.run({topic: "x"})
export is_error(r) ? r.value : r
''',
}


@pytest.mark.parametrize("path", ["subtitle", "title.missing"])
def test_a_template_naming_a_missing_value_is_an_error_naming_the_step_and_the_name(isolated, lang, path):
    source = MISSING[lang] % path
    if lang == "tengo":
        result, _ = run_spell(isolated, lang, source)
        kind, message = result["kind"], result["message"]
    else:
        with pytest.raises(SpellError) as err:
            run_spell(isolated, lang, source)
        kind, message = err.value.kind, err.value.message
    missing = path.split(".")[-1]
    assert kind == "invalid_argument"
    assert "workflow 'report': step '{{step}}': params.expression" in message
    assert f"names '{missing}'" in message and "not an input or the result of an earlier step" in message


SANDBOX = {
    "lua": '''
local wf = workflow.create({name = "escape"})
wf:addStep({name = "peek", tool = "calculator", params = {expression = params.t}})
local ok, err = pcall(wf.run, wf, {topic = "x"})
return {ok = ok, kind = err.kind, message = err.message}
''',
    "js": '''
const wf = await workflow.create({name: "escape"});
await wf.addStep({name: "peek", tool: "calculator", params: {expression: params.t}});
try { await wf.run({topic: "x"}); return {ok: true} } catch (e) { return {ok: false, kind: e.kind, message: e.message} }
''',
    "tengo": '''
wf := workflow.create({name: "escape"})
wf.addStep({name: "peek", tool: "calculator", params: {expression: params.t}})
r := wf.run({topic: "x"})
export {ok: !is_error(r), kind: r.value.kind, message: r.value.message}
''',
}


@pytest.mark.parametrize("text", ["{{ topic.__class__.__mro__ }}", "{{ topic.upper.__globals__ }}",
                                  "{{ cycler.__init__.__globals__.os }}", "{{ lipsum.__globals__ }}",
                                  "{{ topic.upper }}", "{{ self }}", "{{ range }}", "{{ topic.center(10**9) }}",
                                  "{{ topic * 10**9 }}", "{{ '%999999999d' % 1 }}", "{{ 7 ** 999999 }}"])
def test_templates_run_in_a_sandbox_that_reaches_no_host_object(isolated, lang, text):
    result, _ = run_spell(isolated, lang, SANDBOX[lang], params={"t": text})
    assert result["ok"] is False
    assert result["kind"] in ("permission_denied", "invalid_argument"), result
    assert "workflow 'escape': step 'peek'" in result["message"]
    assert "Traceback" not in result["message"] and "object at" not in result["message"]
    assert "<" not in result["message"].replace(text, "")


CLASH = {
    "lua": 'local wf = workflow.create({name = "w"})\nwf:addStep({name = "topic", fn = function() return 1 end})\n'
           'return wf:run({topic = "x"})',
    "js": 'const wf = await workflow.create({name: "w"});\nawait wf.addStep({name: "topic", fn: () => 1});\n'
          'return await wf.run({topic: "x"})',
    "tengo": 'wf := workflow.create({name: "w"})\nwf.addStep({name: "topic", fn: func(ctx) { return 1 }})\n'
             'r := wf.run({topic: "x"})\nexport r.value',
}


def test_an_input_with_the_name_of_a_step_is_refused(isolated, lang):
    if lang == "tengo":
        error, _ = run_spell(isolated, lang, CLASH[lang])
        kind, message = error["kind"], error["message"]
    else:
        with pytest.raises(SpellError) as err:
            run_spell(isolated, lang, CLASH[lang])
        kind, message = err.value.kind, err.value.message
    assert kind == "invalid_argument"
    assert message == ("workflow 'w': the input 'topic' has the name of a step, and templates would not know which "
                       "one {{topic}} means")


def test_a_javascript_step_may_be_an_async_function_that_calls_bridges(isolated):
    source = '''
const wf = await workflow.create({name: "w"});
await wf.addStep({name: "a", fn: async (ctx) => (await llm.complete({prompt: ctx.q})).content + "!"});
await wf.addStep({name: "b", fn: async (ctx) => ctx.a.output + "?"});
return (await wf.run({q: "hi"})).output;
'''
    echo = Echo()
    result, _ = run_spell(isolated, "js", source, echo=echo)
    assert result == "echo: hi!?" and echo.prompts == ["hi"]
