"""An agent with no tools and no answer schema: one request, answered as pydantic-ai's agent answers it.

Such runs skip the agent loop (agents/_direct.py), so these tests hold them
to what the loop does: the request the model is sent (system prompt, prompt,
settings, no tools), the messages and usage ``run_full`` gives back, the
run's limits, and -- when the answer is not plain text -- the agent's own
handling (an empty answer is sent back for another try), in every language.
"""

from __future__ import annotations

import pytest
from pydantic_ai.messages import ModelResponse, SystemPromptPart, TextPart, ThinkingPart, UserPromptPart
from pydantic_ai.usage import RequestUsage
from tests.agents.conftest import run_spell
from tests.support.scripted_model import Script, text

from llmspell import Policy

FULL = {
    "lua": """
local a = llm.agent({model = "scripted", system = params.system, temperature = 0.25, max_tokens = 300})
local r = a:run_full(params.prompt)
return {output = r.output, n = #r.messages, kinds = {r.messages[1].kind, r.messages[#r.messages].kind},
        usage = r.usage, calls = #r.tool_calls}
""",
    "js": """
const a = await llm.agent({model: "scripted", system: params.system, temperature: 0.25, max_tokens: 300});
const r = await a.run_full(params.prompt);
return {output: r.output, n: r.messages.length, kinds: [r.messages[0].kind, r.messages[r.messages.length - 1].kind],
        usage: r.usage, calls: r.tool_calls.length};
""",
    "tengo": """
a := llm.agent({model: "scripted", system: params.system, temperature: 0.25, max_tokens: 300})
r := a.run_full(params.prompt)
export {output: r.output, n: len(r.messages), kinds: [r.messages[0].kind, r.messages[len(r.messages) - 1].kind],
        usage: r.usage, calls: len(r.tool_calls)}
""",
}

SYSTEM = "You summarise engineering reports for a busy reader. " * 40
PROMPT = "Summarise: the build farm doubled its throughput after the cache change. " * 80


def _seen(script: Script) -> list[tuple[str, str]]:
    """(part kind, content) of every part of the first request the model was sent."""
    request = script.requests[0][0][0]
    return [(type(p).__name__, p.content) for p in request.parts]


@pytest.mark.parametrize("isolation", ["process", "inline"])
def test_a_plain_agent_sends_one_request_and_answers_with_its_text(isolated, lang, isolation):
    script = Script(ModelResponse(parts=[ThinkingPart("weighing it"), TextPart("Throughput "), TextPart("doubled.")],
                                  usage=RequestUsage(input_tokens=1200, output_tokens=4)))
    r, _ = run_spell(isolated, lang, FULL[lang], script, params={"system": SYSTEM, "prompt": PROMPT},
                     isolation=isolation)
    assert r["output"] == "Throughput doubled."
    assert r["n"] == 2 and r["kinds"] == ["request", "response"]
    assert r["usage"]["requests"] == 1 and r["usage"]["input_tokens"] == 1200 and r["usage"]["output_tokens"] == 4
    assert r["usage"]["total_tokens"] == 1204 and r["calls"] == 0
    assert len(script.requests) == 1
    assert _seen(script) == [(SystemPromptPart.__name__, SYSTEM), (UserPromptPart.__name__, PROMPT)]
    assert script.requests[0][1] == []  # no tools offered
    assert script.settings[0]["temperature"] == 0.25 and script.settings[0]["max_tokens"] == 300


def test_an_empty_answer_is_sent_back_as_the_agent_loop_would(isolated, lang):
    script = Script(ModelResponse(parts=[], usage=RequestUsage(input_tokens=50, output_tokens=0)),
                    lambda msgs: text(f"second try after {len(msgs)} messages"))
    r, _ = run_spell(isolated, lang, FULL[lang], script, params={"system": SYSTEM, "prompt": PROMPT})
    assert r["output"] == "second try after 3 messages"
    assert r["n"] == 4 and r["kinds"] == ["request", "response"]
    assert r["usage"]["requests"] == 2 and r["usage"]["input_tokens"] == 60
    retry = script.requests[1][0][2]  # the agent's own retry prompt, after the empty response
    assert retry.kind == "request" and retry.parts


def test_a_run_out_of_llm_calls_is_stopped_before_the_request(isolated, lang):
    source = {
        "lua": 'local a = llm.agent({model = "scripted"})\nreturn a:run("one") .. a:run("two")',
        "js": 'const a = await llm.agent({model: "scripted"});\nreturn (await a.run("one")) + (await a.run("two"));',
        "tengo": 'a := llm.agent({model: "scripted"})\nexport a.run("one") + a.run("two")',
    }[lang]
    script = Script(text("first"), then=text("again"))
    rt, _ = isolated.runtime(models={"scripted": script.model()}, policy=Policy(max_llm_calls=1))
    from llmspell.errors import SpellError

    with pytest.raises(SpellError) as caught:
        rt.run(source=source, language={"lua": "lua", "js": "javascript", "tengo": "tengo"}[lang],
               filename=f"spell.{lang}")
    assert caught.value.kind == "limit_exceeded"
    assert "more than 1 LLM calls" in caught.value.message
    assert len(script.requests) == 1


def test_parallel_plain_agents_of_a_workflow_each_get_their_own_answer(isolated, lang):
    source = {
        "lua": """
local wf = workflow.create({name = "fan", type = "parallel"})
local a = llm.agent({model = "scripted"})
for i = 1, 40 do wf:addStep({name = "s" .. i, agent = a, prompt = "part " .. i .. " " .. params.pad}) end
return wf:run({}).output
""",
        "js": """
const wf = await workflow.create({name: "fan", type: "parallel"});
const a = await llm.agent({model: "scripted"});
for (let i = 1; i <= 40; i++) await wf.addStep({name: "s" + i, agent: a, prompt: "part " + i + " " + params.pad});
return (await wf.run({})).output;
""",
        "tengo": """
wf := workflow.create({name: "fan", type: "parallel"})
a := llm.agent({model: "scripted"})
for i := 1; i <= 40; i++ {
  wf.addStep({name: "s" + string(i), agent: a, prompt: "part " + string(i) + " " + params.pad})
}
export wf.run({}).output
""",
    }[lang]
    script = Script(then=lambda msgs: text("echo " + msgs[-1].parts[-1].content.split(" ")[1]))
    r, _ = run_spell(isolated, lang, source, script, params={"pad": "x" * 3000},
                     policy=Policy(max_concurrent=64))
    assert r == {f"s{i}": f"echo {i}" for i in range(1, 41)}


def test_a_model_that_cannot_be_resolved_fails_every_step_that_asks_for_it(isolated, lang):
    # In a worker, steps that start at once wait for one answer from the parent; a failed answer is
    # not kept, so asking again gets the same clear error instead of a stale or missing one.
    source = {
        "lua": """
local a = llm.agent({model = "nosuchprovider:model-x"})
local wf = workflow.create({name = "fan", type = "parallel"})
for i = 1, 5 do wf:addStep({name = "s" .. i, agent = a, prompt = "p", on_error = "continue"}) end
local r = wf:run({})
local ok, again = pcall(function() return a:run("once more") end)
return {first = r.steps.s1.error.kind, last = r.steps.s5.error.kind, again = again.kind, message = again.message}
""",
        "js": """
const a = await llm.agent({model: "nosuchprovider:model-x"});
const wf = await workflow.create({name: "fan", type: "parallel"});
for (let i = 1; i <= 5; i++) await wf.addStep({name: "s" + i, agent: a, prompt: "p", on_error: "continue"});
const r = await wf.run({});
let again;
try { await a.run("once more"); } catch (e) { again = e; }
return {first: r.steps.s1.error.kind, last: r.steps.s5.error.kind, again: again.kind, message: again.message};
""",
        "tengo": """
a := llm.agent({model: "nosuchprovider:model-x"})
wf := workflow.create({name: "fan", type: "parallel"})
for i := 1; i <= 5; i++ { wf.addStep({name: "s" + string(i), agent: a, prompt: "p", on_error: "continue"}) }
r := wf.run({})
again := a.run("once more")
export {first: r.steps.s1.error.kind, last: r.steps.s5.error.kind, again: again.value.kind,
        message: again.value.message}
""",
    }[lang]
    r, _ = run_spell(isolated, lang, source)
    assert r["first"] == r["last"] == r["again"]
    assert r["again"] in ("not_found", "invalid_argument", "permission_denied")
    assert "nosuchprovider" in r["message"]
