"""``output_schema`` on an agent and ``llm.structured``: a value valid against the JSON Schema, an invalid
answer sent back to the model, and ``validation_error`` naming the failing path once the retries are
spent -- in Lua, JavaScript and Tengo."""

from __future__ import annotations

import pytest
from tests.agents.conftest import run_spell
from tests.support.scripted_model import Script, final, returns, text

from llmspell import SpellError

ORDER = {"type": "object", "required": ["items"], "properties": {
    "items": {"type": "array", "items": {"type": "object", "required": ["name", "price"], "properties": {
        "name": {"type": "string"}, "price": {"type": "number"}}}}}}

GOOD = {"items": [{"name": "tea", "price": 2.5}, {"name": "cake", "price": 4}]}
BAD = {"items": [{"name": "tea", "price": 2.5}, {"name": "cake", "price": "four"}]}

SPELL = {
    "lua": """
local a = llm.agent({model = "scripted", output_schema = params.schema, retries = params.retries})
local ok, r = pcall(function() return a:run(params.prompt) end)
if ok then return {ok = true, value = r} end
return {ok = false, kind = r.kind, message = r.message}
""",
    "js": """
const a = await llm.agent({model: "scripted", output_schema: params.schema, retries: params.retries});
try { return {ok: true, value: await a.run(params.prompt)}; }
catch (e) { return {ok: false, kind: e.kind, message: e.message}; }
""",
    "tengo": """
a := llm.agent({model: "scripted", output_schema: params.schema, retries: params.retries})
r := a.run(params.prompt)
export is_error(r) ? {ok: false, kind: r.value.kind, message: r.value.message} : {ok: true, value: r}
""",
}


def test_an_invalid_answer_is_sent_back_and_the_valid_one_returned(isolated, lang):
    script = Script(final(BAD), final(GOOD))
    r, _ = run_spell(isolated, lang, SPELL[lang], script,
                     params={"schema": ORDER, "retries": 2, "prompt": "Order tea and cake. " * 200})
    assert r == {"ok": True, "value": GOOD}
    retry = returns(script.requests[1][0])
    assert len(retry) == 1
    assert "the answer is not valid against the schema: items[1].price must be a number, not a string" in retry[0]


def test_when_the_retries_are_spent_the_error_names_the_failing_path(isolated, lang):
    script = Script(then=final(BAD))
    r, _ = run_spell(isolated, lang, SPELL[lang], script, params={"schema": ORDER, "retries": 1, "prompt": "x"})
    assert r == {"ok": False, "kind": "validation_error", "message": "items[1].price must be a number, not a string"}
    assert len(script.requests) == 2


STRUCTURED = {
    "lua": """
local list = llm.structured({model = "scripted", prompt = params.prompt, system = "Give lists.",
  schema = {type = "array", items = {type = "string"}, minItems = 2}})
local ok, e = pcall(llm.structured, {model = "scripted", prompt = "again", retries = 0,
  schema = {type = "object", properties = {n = {type = "integer", minimum = 10}}, required = {"n"}}})
local ok2, e2 = pcall(llm.structured, {model = "scripted", prompt = "x", schema = {type = "strin"}})
return {list = list, kind = e.kind, message = e.message, bad_schema = e2.kind .. ": " .. e2.message}
""",
    "js": """
const list = await llm.structured({model: "scripted", prompt: params.prompt, system: "Give lists.",
  schema: {type: "array", items: {type: "string"}, minItems: 2}});
const out = {list};
try { await llm.structured({model: "scripted", prompt: "again", retries: 0,
  schema: {type: "object", properties: {n: {type: "integer", minimum: 10}}, required: ["n"]}}); }
catch (e) { out.kind = e.kind; out.message = e.message; }
try { await llm.structured({model: "scripted", prompt: "x", schema: {type: "strin"}}); }
catch (e) { out.bad_schema = e.kind + ": " + e.message; }
return out;
""",
    "tengo": """
list := llm.structured({model: "scripted", prompt: params.prompt, system: "Give lists.",
  schema: {type: "array", items: {type: "string"}, minItems: 2}})
e := llm.structured({model: "scripted", prompt: "again", retries: 0,
  schema: {type: "object", properties: {n: {type: "integer", minimum: 10}}, required: ["n"]}})
e2 := llm.structured({model: "scripted", prompt: "x", schema: {type: "strin"}})
export {list: list, kind: e.value.kind, message: e.value.message,
        bad_schema: e2.value.kind + ": " + e2.value.message}
""",
}


def test_llm_structured_returns_a_valid_value_of_any_schema_or_a_validation_error(isolated, lang):
    script = Script(final({"value": ["a", "b", "c"]}), final({"n": 3}))
    r, _ = run_spell(isolated, lang, STRUCTURED[lang], script, params={"prompt": "List three letters. " * 150})
    assert r["list"] == ["a", "b", "c"]
    assert r["kind"] == "validation_error" and r["message"] == "n must be >= 10, not 3"
    assert r["bad_schema"].startswith("invalid_argument: llm.structured: output_schema is not a valid JSON Schema")
    sent = script.requests[0][0][0].parts
    assert sent[0].content == "Give lists." and sent[1].content.startswith("List three letters.")
    assert len(script.requests) == 2


def test_a_text_answer_where_a_structure_is_wanted_is_retried_then_fails(isolated, lang):
    script = Script(then=text("just words"))
    with pytest.raises(SpellError) as err:
        src = {"lua": 'return llm.structured({model = "scripted", prompt = "x", schema = {type = "object"}})',
               "js": 'return await llm.structured({model: "scripted", prompt: "x", schema: {type: "object"}})',
               "tengo": 'export llm.structured({model: "scripted", prompt: "x", schema: {type: "object"}})'}[lang]
        run_spell(isolated, lang, src, script)
    assert err.value.kind == "validation_error"
    assert err.value.message == "the model answered with text, not a value of the schema"
    assert len(script.requests) == 3
