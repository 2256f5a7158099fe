"""Hooks, guardrails and events apply to agent runs as to the spell's own calls, in Lua, JavaScript and
Tengo, over real HTTP (the scripted OpenAI server records what each step of the agent sent): every
model request of the run passes beforeGenerate/afterGenerate and the guardrails, every tool call the
model asks for passes the tool hooks and emits tool.* events; a tool-call-only step is not an answer
for an output guardrail, an agent's structured answer is."""

from __future__ import annotations

import pytest

from llmspell import SpellError

MODEL = "openai-compatible:scripted-model"
LANGS = {"lua": "lua", "js": "javascript", "tengo": "tengo"}


def run(isolated, lang, src, params=None, **kwargs):
    rt, out = isolated.runtime(**kwargs)
    result = rt.run(source=src, language=LANGS[lang], params=params, filename=f"spell.{lang}")
    return result, "".join(out)


OBSERVED = {
    "lua": """
local seen = {usage = {}, steps = 0, tools = {}, events = {}, outputs = {}}
hooks.register({
  beforeGenerate = function(ctx, req) seen.steps = seen.steps + 1; seen.caller = ctx.caller
    return {temperature = 0.05} end,
  afterGenerate = function(ctx, req, resp) seen.usage[#seen.usage + 1] = resp.usage.total_tokens
    if resp.content ~= "" then return {content = resp.content .. " (checked)"} end end,
  beforeToolCall = function(ctx, tool, input) seen.tools[#seen.tools + 1] = tool .. ":" .. input.expression
    return {expression = "6 * 7"} end,
  afterToolCall = function(ctx, tool, input, output) return output + 1000 end,
})
guardrails.add({name = "answer", on = "output", check = function(t) seen.outputs[#seen.outputs + 1] = t
  return true end})
events.on("*", function(e) seen.events[#seen.events + 1] = e.name end)
seen.answer = llm.agent({model = params.model, tools = {"calculator"}, temperature = 0.9}):run("what is 1+1?")
return seen
""",
    "js": """
const seen = {usage: [], steps: 0, tools: [], events: [], outputs: []};
await hooks.register({
  beforeGenerate: (ctx, req) => { seen.steps++; seen.caller = ctx.caller; return {temperature: 0.05}; },
  afterGenerate: (ctx, req, resp) => { seen.usage.push(resp.usage.total_tokens);
    if (resp.content !== "") return {content: resp.content + " (checked)"}; },
  beforeToolCall: (ctx, tool, input) => { seen.tools.push(tool + ":" + input.expression);
    return {expression: "6 * 7"}; },
  afterToolCall: (ctx, tool, input, output) => output + 1000,
});
await guardrails.add({name: "answer", on: "output", check: (t) => { seen.outputs.push(t); return true; }});
await events.on("*", (e) => { seen.events.push(e.name); });
const agent = await llm.agent({model: params.model, tools: ["calculator"], temperature: 0.9});
seen.answer = await agent.run("what is 1+1?");
return seen;
""",
    "tengo": """
seen := {usage: [], steps: 0, tools: [], events: [], outputs: []}
hooks.register({
  beforeGenerate: func(ctx, req) { seen.steps += 1; seen.caller = ctx.caller; return {temperature: 0.05} },
  afterGenerate: func(ctx, req, resp) {
    seen.usage = append(seen.usage, resp.usage.total_tokens)
    if resp.content != "" { return {content: resp.content + " (checked)"} }
  },
  beforeToolCall: func(ctx, tool, input) {
    seen.tools = append(seen.tools, tool + ":" + input.expression)
    return {expression: "6 * 7"}
  },
  afterToolCall: func(ctx, tool, input, output) { return output + 1000 }
})
guardrails.add({name: "answer", on: "output", check: func(t) { seen.outputs = append(seen.outputs, t); return true }})
events.on("*", func(e) { seen.events = append(seen.events, e.name) })
seen.answer = llm.agent({model: params.model, tools: ["calculator"], temperature: 0.9}).run("what is 1+1?")
export seen
""",
}


@pytest.mark.parametrize("lang", LANGS)
def test_hooks_guardrails_and_events_see_every_step_of_an_agent_run(isolated, openai_server, lang):
    isolated.server_config(openai_server)
    openai_server.tool_calls(("calculator", {"expression": "1+1"}), usage=(10, 3))
    openai_server.reply("the answer is 1042", usage=(20, 5))
    r, _ = run(isolated, lang, OBSERVED[lang], params={"model": MODEL})
    first, second = openai_server.completions
    assert first.body["temperature"] == 0.05 and second.body["temperature"] == 0.05
    results = [m["content"] for m in second.messages if m["role"] == "tool"]
    assert results == ["1042"]  # the input rewritten to 6 * 7, the output by afterToolCall
    assert r["steps"] == 2 and r["caller"].startswith("agent")
    assert r["usage"] == [13, 25]
    assert r["tools"] == ["calculator:1+1"]
    assert r["outputs"] == ["the answer is 1042 (checked)"]  # the tool-call step is not an answer
    assert r["answer"] == "the answer is 1042 (checked)"
    assert r["events"] == ["agent.started", "llm.request", "llm.response", "tool.called", "tool.executed",
                           "llm.request", "llm.response", "agent.completed"]


@pytest.mark.parametrize("lang,src", [
    ("lua", """
guardrails.add({name = "topic", on = "input", check = function(t) return not t:find("weapons"), "off topic" end})
local ok, e = pcall(function() return llm.agent({model = params.model}):run("tell me about weapons") end)
return {e.kind, e.message}
"""),
    ("js", """
await guardrails.add({name: "topic", on: "input", check: (t) => ({ok: !t.includes("weapons"), reason: "off topic"})});
try { await (await llm.agent({model: params.model})).run("tell me about weapons") }
catch (e) { return [e.kind, e.message] }
"""),
    ("tengo", """
text := import("text")
guardrails.add({name: "topic", on: "input", check: func(t) { return {ok: !text.contains(t, "weapons"),
                                                                      reason: "off topic"} }})
e := llm.agent({model: params.model}).run("tell me about weapons")
export [e.value.kind, e.value.message]
"""),
])
def test_an_input_guardrail_blocks_an_agents_prompt_before_any_request(isolated, openai_server, lang, src):
    isolated.server_config(openai_server)
    r, _ = run(isolated, lang, src, params={"model": MODEL})
    assert r == ["validation_error", "guardrail 'topic' blocked the prompt: off topic"]
    assert openai_server.completions == []


@pytest.mark.parametrize("lang", LANGS)
def test_an_output_guardrail_sees_an_agents_structured_answer_as_json(isolated, openai_server, lang):
    isolated.server_config(openai_server)
    openai_server.tool_calls(("final_result", {"city": "Paris", "secret": "x"}))
    src = {
        "lua": """
local seen
guardrails.add({name = "no_secret", on = "output", check = function(t) seen = t
  return not t:find('"secret"'), "leaks a secret" end})
local ok, e = pcall(function() return llm.agent({model = params.model, output_schema = params.schema}):run("go") end)
return {seen = seen, kind = e.kind, message = e.message}
""",
        "js": """
let seen;
await guardrails.add({name: "no_secret", on: "output",
  check: (t) => { seen = t; return {ok: !t.includes('"secret"'), reason: "leaks a secret"}; }});
try { await (await llm.agent({model: params.model, output_schema: params.schema})).run("go") }
catch (e) { return {seen, kind: e.kind, message: e.message} }
""",
        "tengo": """
text := import("text")
seen := undefined
guardrails.add({name: "no_secret", on: "output",
  check: func(t) { seen = t; return {ok: !text.contains(t, `"secret"`), reason: "leaks a secret"} }})
e := llm.agent({model: params.model, output_schema: params.schema}).run("go")
export {seen: seen, kind: e.value.kind, message: e.value.message}
""",
    }[lang]
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "secret": {"type": "string"}}}
    r, _ = run(isolated, lang, src, params={"model": MODEL, "schema": schema})
    assert r == {"seen": '{"city": "Paris", "secret": "x"}', "kind": "validation_error",
                 "message": "guardrail 'no_secret' blocked the answer: leaks a secret"}


@pytest.mark.parametrize("lang,src", [
    ("lua", """
hooks.register({beforeToolCall = function(ctx, tool, input)
  if input.path:sub(1, 5) == "/etc/" then error({kind = "permission_denied", message = "no writes to /etc/"}) end
end})
local ok, e = pcall(function() return llm.agent({model = params.model, tools = {"file_write"}}):run("write") end)
return {e.kind, e.message}
"""),
    ("js", """
await hooks.register({beforeToolCall: (ctx, tool, input) => {
  if (input.path.startsWith("/etc/")) {
    const e = new Error("no writes to /etc/"); e.kind = "permission_denied"; throw e;
  }
}});
try { await (await llm.agent({model: params.model, tools: ["file_write"]})).run("write") }
catch (e) { return [e.kind, e.message] }
"""),
    ("tengo", """
text := import("text")
hooks.register({beforeToolCall: func(ctx, tool, input) {
  if text.has_prefix(input.path, "/etc/") { return error({kind: "permission_denied", message: "no writes to /etc/"}) }
}})
e := llm.agent({model: params.model, tools: ["file_write"]}).run("write")
export [e.value.kind, e.value.message]
"""),
])
def test_a_before_tool_call_refusal_ends_the_agent_run(isolated, openai_server, lang, src):
    isolated.server_config(openai_server)
    openai_server.tool_calls(("file_write", {"path": "/etc/cron.d/x", "content": "* * * * * sh"}))
    r, _ = run(isolated, lang, src, params={"model": MODEL})
    assert r[0] == "permission_denied" and r[1].endswith("file_write: beforeToolCall: no writes to /etc/")
    assert len(openai_server.completions) == 1


def test_a_plain_error_in_before_tool_call_goes_back_to_the_model(isolated, openai_server):
    isolated.server_config(openai_server)
    openai_server.tool_calls(("calculator", {"expression": "2**64"}))
    openai_server.reply("I could not compute that")
    src = """
hooks.register({beforeToolCall = function(ctx, tool, input) error("big powers are not allowed") end})
return llm.agent({model = params.model, tools = {"calculator"}}):run("2**64?")
"""
    r, _ = run(isolated, "lua", src, params={"model": MODEL})
    assert r == "I could not compute that"
    tool_result = next(m for m in openai_server.completions[1].messages if m["role"] == "tool")
    assert "tool_error" in tool_result["content"] and "big powers are not allowed" in tool_result["content"]


def test_an_output_guardrail_blocking_an_agent_counts_its_tokens(isolated, openai_server):
    isolated.server_config(openai_server)
    openai_server.always("no", usage=(40, 40))
    src = """
guardrails.add({name = "never", on = "output", check = function() return false end})
for i = 1, 3 do pcall(function() return llm.agent({model = params.model}):run("x") end) end
"""
    with pytest.raises(SpellError) as info:
        from llmspell.sandbox import Policy

        run(isolated, "lua", src, params={"model": MODEL}, policy=Policy(max_tokens=150))
    assert info.value.kind == "limit_exceeded"


@pytest.mark.parametrize("lang,src", [
    ("lua", """
local shown = {}
hooks.register({beforeGenerate = function(ctx, req)
  local roles = {}
  for i, m in ipairs(req.messages) do roles[i] = m.role .. (m.tool and ("/" .. m.tool) or "") end
  shown[#shown + 1] = table.concat(roles, " ")
  local out = {{role = "system", content = "house rules"}}
  for _, m in ipairs(req.messages) do
    if m.role == "user" then out[#out + 1] = {role = "user", content = m.content:gsub("%d%d%d%d", "####")}
    else out[#out + 1] = m end
  end
  return {messages = out}
end})
local answer = llm.agent({model = params.model, tools = {"calculator"}}):run("card 4111: what is 6*7?")
return {shown = shown, answer = answer}
"""),
    ("js", """
const shown = [];
await hooks.register({beforeGenerate: (ctx, req) => {
  shown.push(req.messages.map((m) => m.role + (m.tool ? "/" + m.tool : "")).join(" "));
  return {messages: [{role: "system", content: "house rules"},
    ...req.messages.map((m) => m.role === "user" ? {role: "user", content: m.content.replace(/\\d{4}/g, "####")} : m)]};
}});
const answer = await (await llm.agent({model: params.model, tools: ["calculator"]})).run("card 4111: what is 6*7?");
return {shown, answer};
"""),
    ("tengo", """
text := import("text")
shown := []
hooks.register({beforeGenerate: func(ctx, req) {
  roles := ""
  out := [{role: "system", content: "house rules"}]
  for i, m in req.messages {
    roles += (i > 0 ? " " : "") + m.role + (is_undefined(m.tool) ? "" : "/" + m.tool)
    if m.role == "user" {
      out = append(out, {role: "user", content: text.replace(m.content, "4111", "####", -1)})
    } else {
      out = append(out, m)
    }
  }
  shown = append(shown, roles)
  return {messages: out}
}})
answer := llm.agent({model: params.model, tools: ["calculator"]}).run("card 4111: what is 6*7?")
export {shown: shown, answer: answer}
"""),
])
def test_before_generate_rewrites_an_agents_messages_and_keeps_its_tool_calls(isolated, openai_server, lang, src):
    isolated.server_config(openai_server)
    openai_server.tool_calls(("calculator", {"expression": "6*7"}))
    openai_server.reply("42")
    r, _ = run(isolated, lang, src, params={"model": MODEL})
    assert r["answer"] == "42"
    assert r["shown"] == ["user", "user assistant/calculator tool/calculator"]
    first, second = openai_server.completions
    assert [(m["role"], m.get("content")) for m in first.messages] == [
        ("system", "house rules"), ("user", "card ####: what is 6*7?")]
    roles = [m["role"] for m in second.messages]
    assert roles == ["system", "user", "assistant", "tool"]
    assert second.messages[1]["content"] == "card ####: what is 6*7?"
    call = second.messages[2]["tool_calls"][0]
    assert call["function"]["name"] == "calculator" and second.messages[3]["tool_call_id"] == call["id"]
    assert second.messages[3]["content"] == "42"
