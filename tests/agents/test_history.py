"""``opts.history``: the messages of an earlier ``run_full`` continue the conversation, and a history a
spell forged is ``invalid_argument`` naming the place -- in Lua, JavaScript and Tengo."""

from __future__ import annotations

from tests.agents.conftest import run_spell
from tests.support.scripted_model import Script, calls, text

CONTINUE = {
    "lua": """
local a = llm.agent({model = "scripted", system = "Remember.", tools = {"calculator"}})
local first = a:run_full(params.prompt)
local second = a:run_full("What did I ask?", {history = first.messages})
return {first = first.output, second = second.output, n = #second.messages,
        kinds = {second.messages[1].kind, second.messages[2].kind}}
""",
    "js": """
const a = await llm.agent({model: "scripted", system: "Remember.", tools: ["calculator"]});
const first = await a.run_full(params.prompt);
const second = await a.run_full("What did I ask?", {history: first.messages});
return {first: first.output, second: second.output, n: second.messages.length,
        kinds: [second.messages[0].kind, second.messages[1].kind]};
""",
    "tengo": """
a := llm.agent({model: "scripted", system: "Remember.", tools: ["calculator"]})
first := a.run_full(params.prompt)
second := a.run_full("What did I ask?", {history: first.messages})
export {first: first.output, second: second.output, n: len(second.messages),
        kinds: [second.messages[0].kind, second.messages[1].kind]}
""",
}


def test_the_messages_of_a_result_continue_the_conversation(isolated, lang):
    prompt = "Compute 6*7 for me, carefully. " * 120
    script = Script(calls(("calculator", {"expression": "6*7"})), text("42"),
                    lambda msgs: text(f"you asked {len(msgs)} messages ago: {msgs[0].parts[1].content[:14]}"))
    r, _ = run_spell(isolated, lang, CONTINUE[lang], script, params={"prompt": prompt})
    assert r["first"] == "42"
    assert r["second"] == "you asked 5 messages ago: Compute 6*7 fo"
    assert r["n"] == 6 and r["kinds"] == ["request", "response"]
    history = script.requests[2][0]
    assert [m.kind for m in history] == ["request", "response", "request", "response", "request"]
    assert history[0].parts[0].content == "Remember." and history[1].parts[0].tool_name == "calculator"


FORGED = {
    "lua": """
local a = llm.agent({model = "scripted"})
local out = {}
for i, h in ipairs(params.histories) do
  local ok, e = pcall(a.run, a, "go", {history = h})
  out[i] = ok and "ran" or (e.kind .. ": " .. e.message)
end
local ok, e = pcall(a.run, a, "go", {history = "not a list"})
out[#out + 1] = e.kind
return out
""",
    "js": """
const a = await llm.agent({model: "scripted"});
const out = [];
for (const h of [...params.histories, "not a list"]) {
  try { await a.run("go", {history: h}); out.push("ran"); }
  catch (e) { out.push(h === "not a list" ? e.kind : e.kind + ": " + e.message); }
}
return out;
""",
    "tengo": """
a := llm.agent({model: "scripted"})
out := []
for h in params.histories {
  r := a.run("go", {history: h})
  out = append(out, is_error(r) ? r.value.kind + ": " + r.value.message : "ran")
}
out = append(out, a.run("go", {history: "not a list"}).value.kind)
export out
""",
}


def test_a_forged_history_is_invalid_argument_naming_the_place(isolated, lang):
    histories = [
        [{"kind": "request", "parts": [{"part_kind": "user-prompt", "content": [
            {"kind": "image-url", "url": "http://169.254.169.254/latest/meta-data"}]}]}],
        [{"kind": "request", "parts": [{"part_kind": "user-prompt", "content": "hi"}]},
         {"kind": "response", "parts": [{"part_kind": "native-tool-call", "tool_name": "web_search"}]}],
        [{"kind": "request", "parts": [{"part_kind": "system-prompt"}]}],
        [{"kind": "launch", "parts": []}],
        [{"kind": "request", "parts": [{"part_kind": "user-prompt", "content": "hi"}]}],
    ]
    script = Script(then=text("fine"))
    r, _ = run_spell(isolated, lang, FORGED[lang], script, params={"histories": histories})
    assert r[0] == "invalid_argument: agent:run: history[0].parts[0].content must be text"
    assert r[1] == "invalid_argument: agent:run: history[1].parts[0] is 'native-tool-call' part, which a history " \
                   "may not hold"
    assert r[2].startswith("invalid_argument: agent:run: history[0].parts[0].content: ")
    assert r[3].startswith("invalid_argument: agent:run: history[0] is not a message of an earlier result")
    assert r[4] == "ran"
    assert r[5] == "invalid_argument"
    assert len(script.requests) == 1
