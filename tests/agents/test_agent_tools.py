"""An agent with the spell's own tool and a built-in one: the model's tool calls (several at once) run the
spell's handler on its VM through the one tool road, and failures go back to the model or end the run as
the contract says.  Every scenario in Lua, JavaScript and Tengo, on a scripted FunctionModel."""

from __future__ import annotations

import json

import pytest
from tests.agents.conftest import run_spell
from tests.support.scripted_model import Script, calls, returns, text

from llmspell import SpellError

PROMPT = "Tell me the weather in Paris and Tokyo, and what 2*21 is. " + "Be precise and brief. " * 200

WEATHER = {
    "lua": """
local seen = {}
local weather = tools.register({name = "get_weather", description = "The weather in a city",
  parameters = {city = {type = "string", required = true}},
  handler = function(p) seen[#seen + 1] = p.city; return {city = p.city, sky = "sunny", degrees = 21} end})
local agent = llm.agent({model = "scripted", system = "You report the weather.", name = "reporter",
  tools = {weather, "calculator"}})
local r = agent:run_full(params.prompt)
local names = {}
for i, c in ipairs(r.tool_calls) do names[i] = c.name .. ":" .. tostring(c.success) end
return {output = r.output, seen = seen, names = names, usage = r.usage, again = agent:run("again"),
        agent_name = agent.name, messages = #r.messages}
""",
    "js": """
const seen = [];
const weather = await tools.register({name: "get_weather", description: "The weather in a city",
  parameters: {city: {type: "string", required: true}},
  handler: async (p) => { seen.push(p.city); return {city: p.city, sky: "sunny", degrees: 21}; }});
const agent = await llm.agent({model: "scripted", system: "You report the weather.", name: "reporter",
  tools: [weather, "calculator"]});
const r = await agent.run_full(params.prompt);
return {output: r.output, seen, names: r.tool_calls.map(c => c.name + ":" + c.success), usage: r.usage,
        again: await agent.run("again"), agent_name: agent.name, messages: r.messages.length};
""",
    "tengo": """
seen := []
weather := tools.register({name: "get_weather", description: "The weather in a city",
  parameters: {city: {type: "string", required: true}},
  handler: func(p) { seen = append(seen, p.city); return {city: p.city, sky: "sunny", degrees: 21} }})
agent := llm.agent({model: "scripted", system: "You report the weather.", name: "reporter",
  tools: [weather, "calculator"]})
r := agent.run_full(params.prompt)
names := []
for c in r.tool_calls { names = append(names, c.name + ":" + string(c.success)) }
export {output: r.output, seen: seen, names: names, usage: r.usage, again: agent.run("again"),
        agent_name: agent.name, messages: len(r.messages)}
""",
}


def weather_script() -> Script:
    return Script(
        calls(("get_weather", {"city": "Paris"}), ("get_weather", {"city": "Tokyo"}),
              ("calculator", {"expression": "2*21"})),
        lambda msgs: text("report: " + json.dumps(returns(msgs), sort_keys=True)),
        text("again and again"),
    )


@pytest.mark.parametrize("isolation", ["process", "inline"])
def test_the_model_calls_the_spells_tool_and_a_built_in_at_once(isolated, lang, isolation):
    script = weather_script()
    r, _ = run_spell(isolated, lang, WEATHER[lang], script, params={"prompt": PROMPT}, isolation=isolation)
    got = json.loads(r["output"].removeprefix("report: "))
    assert got == [{"city": "Paris", "sky": "sunny", "degrees": 21}, {"city": "Tokyo", "sky": "sunny", "degrees": 21},
                   42]
    assert sorted(r["seen"]) == ["Paris", "Tokyo"]
    assert sorted(r["names"]) == ["calculator:true", "get_weather:true", "get_weather:true"]
    assert r["usage"]["requests"] == 2 and r["usage"]["tool_calls"] == 3
    assert r["usage"]["input_tokens"] == 20 and r["usage"]["total_tokens"] == 30 and r["usage"].get("cost") is None
    assert r["again"] == "again and again" and r["agent_name"] == "reporter" and r["messages"] == 4
    first, offered = script.requests[0]
    assert sorted(offered) == ["calculator", "get_weather"]
    sent = first[0].parts
    assert sent[0].content == "You report the weather." and sent[1].content == PROMPT


HANDLER_FAILS = {
    "lua": """
local t = tools.register({name = "flaky", parameters = {n = {type = "integer", required = true}},
  handler = function(p) if p.n == 1 then error("the disk is on fire") end
    if p.n == 2 then return function() end end
    if p.n == 3 then return string.rep("x", 5 * 1024 * 1024) end
    return p.n * 10 end})
return llm.agent({model = "scripted", tools = {t}}):run(params.prompt)
""",
    "js": """
const t = await tools.register({name: "flaky", parameters: {n: {type: "integer", required: true}},
  handler: async (p) => { if (p.n === 1) throw new Error("the disk is on fire");
    if (p.n === 2) return () => 1;
    if (p.n === 3) return "x".repeat(5 * 1024 * 1024);
    return p.n * 10; }});
return await (await llm.agent({model: "scripted", tools: [t]})).run(params.prompt);
""",
    "tengo": """
text := import("text")
t := tools.register({name: "flaky", parameters: {n: {type: "integer", required: true}},
  handler: func(p) { if p.n == 1 { return error("the disk is on fire") }
    if p.n == 2 { return func() {} }
    if p.n == 3 { return text.repeat("x", 5 * 1024 * 1024) }
    return p.n * 10 }})
export llm.agent({model: "scripted", tools: [t]}).run(params.prompt)
""",
}


def test_a_failing_handler_goes_back_to_the_model_and_the_run_goes_on(isolated, lang):
    script = Script(calls(("flaky", {"n": 1}), ("flaky", {"n": 2}), ("flaky", {"n": 3}), ("flaky", {"n": 4}),
                          ("flaky", {"n": "four"})),
                    lambda msgs: text(json.dumps(returns(msgs))))
    r, _ = run_spell(isolated, lang, HANDLER_FAILS[lang], script, params={"prompt": PROMPT},
                     max_memory=512 * 1024 * 1024)
    fire, fn, huge, ok, bad = json.loads(r)
    assert fire.startswith("FAILED: ") and "tool_error: flaky: " in fire and "the disk is on fire" in fire
    assert "returned a function, which a model cannot read" in fn
    assert "its result is 5242880 characters long, more than a prompt may hold" in huge
    assert ok == 40
    assert "invalid_argument: flaky: n must be an integer, not a string" in bad
    assert "Traceback" not in r


DENIED = {
    "lua": """
local t = tools.register({name = "reader", parameters = {path = {type = "string"}},
  handler = function(p) return tools.file_read(p.path) end})
local ok, err = pcall(function() return llm.agent({model = "scripted", tools = {t}}):run("read it") end)
return {ok = ok, kind = err.kind, message = err.message}
""",
    "js": """
const t = await tools.register({name: "reader", parameters: {path: {type: "string"}},
  handler: async (p) => await tools.file_read(p.path)});
try { await (await llm.agent({model: "scripted", tools: [t]})).run("read it"); return {ok: true}; }
catch (e) { return {ok: false, kind: e.kind, message: e.message}; }
""",
    "tengo": """
t := tools.register({name: "reader", parameters: {path: {type: "string"}},
  handler: func(p) { return tools.file_read(p.path) }})
r := llm.agent({model: "scripted", tools: [t]}).run("read it")
export {ok: !is_error(r), kind: r.value.kind, message: r.value.message}
""",
}


def test_a_refusal_in_a_handler_ends_the_agent_run_with_permission_denied(isolated, lang):
    isolated.write("secret.txt", "the secret")
    script = Script(calls(("reader", {"path": "secret.txt"})), text("never asked"))
    r, _ = run_spell(isolated, lang, DENIED[lang], script)
    assert r["ok"] is False and r["kind"] == "permission_denied", r
    assert "--allow-read" in r["message"] or "allow" in r["message"]
    assert len(script.requests) == 1  # the model never heard back: the run ended


def test_an_unknown_tool_name_is_not_found_when_the_agent_is_made(isolated, lang):
    src = {"lua": 'return llm.agent({tools = {"calculator", "nope"}})',
           "js": 'return await llm.agent({tools: ["calculator", "nope"]})',
           "tengo": 'export llm.agent({tools: ["calculator", "nope"]})'}[lang]
    with pytest.raises(SpellError) as err:
        run_spell(isolated, lang, src, isolation="inline")
    assert err.value.kind == "not_found" and "'nope'" in err.value.message and "calculator" in err.value.message


MAX_STEPS = {
    "lua": """
local ok, err = pcall(function()
  return llm.agent({model = "scripted", tools = {"datetime"}, max_steps = 3, name = "looper"}):run("loop") end)
return {ok = ok, kind = err.kind, message = err.message,
        after = llm.complete({model = "scripted", prompt = "x"}).content}
""",
    "js": """
try { await (await llm.agent({model: "scripted", tools: ["datetime"], max_steps: 3, name: "looper"})).run("loop"); }
catch (e) { return {ok: false, kind: e.kind, message: e.message,
                    after: (await llm.complete({model: "scripted", prompt: "x"})).content}; }
""",
    "tengo": """
r := llm.agent({model: "scripted", tools: ["datetime"], max_steps: 3, name: "looper"}).run("loop")
export {ok: !is_error(r), kind: r.value.kind, message: r.value.message,
        after: llm.complete({model: "scripted", prompt: "x"}).content}
""",
}


def test_max_steps_bounds_the_model_requests_of_a_run_and_can_be_caught(isolated, lang):
    script = Script(then=calls(("datetime", {})))
    script.steps = [calls(("datetime", {}))] * 3 + [text("done after")]
    r, _ = run_spell(isolated, lang, MAX_STEPS[lang], script)
    assert r["ok"] is False and r["kind"] == "limit_exceeded"
    assert "looper made 3 model requests (max_steps) without a final answer" in r["message"]
    assert r["after"] == "done after" and len(script.requests) == 4


def test_the_runs_llm_call_limit_counts_an_agents_requests(isolated, lang):
    script = Script(then=calls(("datetime", {})))
    src = {"lua": 'return llm.agent({model = "scripted", tools = {"datetime"}}):run("loop")',
           "js": 'return await (await llm.agent({model: "scripted", tools: ["datetime"]})).run("loop")',
           "tengo": 'export llm.agent({model: "scripted", tools: ["datetime"]}).run("loop")'}[lang]
    from llmspell.sandbox.policy import Policy

    with pytest.raises(SpellError) as err:
        run_spell(isolated, lang, src, script, policy=Policy(max_llm_calls=5))
    assert err.value.kind == "limit_exceeded" and "more than 5 LLM calls in one run" in err.value.message
    assert len(script.requests) == 5


REREGISTER = {
    "lua": """
tools.register({name = "greet", description = "first", handler = function() return "one" end})
local a = llm.agent({model = "scripted", tools = {"greet"}})
local first = a:run("go")
tools.register({name = "greet", description = "second", parameters = {who = {type = "string"}},
  handler = function() return "two" end})
return {first, a:run("go")}
""",
    "js": """
await tools.register({name: "greet", description: "first", handler: () => "one"});
const a = await llm.agent({model: "scripted", tools: ["greet"]});
const first = await a.run("go");
await tools.register({name: "greet", description: "second", parameters: {who: {type: "string"}},
  handler: () => "two"});
return [first, await a.run("go")];
""",
    "tengo": """
tools.register({name: "greet", description: "first", handler: func(p) { return "one" }})
a := llm.agent({model: "scripted", tools: ["greet"]})
first := a.run("go")
tools.register({name: "greet", description: "second", parameters: {who: {type: "string"}},
  handler: func(p) { return "two" }})
export [first, a.run("go")]
""",
}


def test_a_tool_registered_again_is_the_one_the_next_run_offers_and_calls(isolated, lang):
    seen = []

    def answer(messages):
        if len(messages) == 1:
            return calls(("greet", {}))
        return text(returns(messages)[0])

    script = Script(then=answer)
    original = script.answer

    def spy(messages, info):
        seen.append([(t.description, sorted(t.parameters_json_schema.get("properties", {}))) for t in
                     info.function_tools])
        return original(messages, info)

    script.answer = spy
    r, _ = run_spell(isolated, lang, REREGISTER[lang], script)
    assert r == ["one", "two"]
    assert seen[0] == [("first", [])] and seen[2] == [("second", ["who"])]


def test_two_runs_of_one_agent_at_once_keep_their_own_records(isolated):
    src = """
let n = 0;
const t = await tools.register({name: "count", parameters: {tag: {type: "string"}},
  handler: async (p) => { n += 1; return p.tag; }});
const a = await llm.agent({model: "scripted", tools: [t]});
const [x, y] = await Promise.all([a.run_full("alpha"), a.run_full("beta")]);
return {x: x.tool_calls.map(c => c.output), y: y.tool_calls.map(c => c.output), outs: [x.output, y.output], n};
"""

    def answer(messages):
        prompt = messages[0].parts[-1].content
        if len(messages) == 1:
            return calls(*[("count", {"tag": f"{prompt}{i}"}) for i in range(3)])
        return text(",".join(returns(messages)))

    r, _ = run_spell(isolated, "js", src, Script(then=answer))
    assert r == {"x": ["alpha0", "alpha1", "alpha2"], "y": ["beta0", "beta1", "beta2"],
                 "outs": ["alpha0,alpha1,alpha2", "beta0,beta1,beta2"], "n": 6}


DISABLED = {
    "lua": """
local ok, e = pcall(function() return llm.agent({model = "scripted", tools = {"calculator"}}):run("add") end)
local add = tools.register({name = "add", handler = function(p) print("ran"); return 1 end})
local ok2, e2 = pcall(function() return llm.agent({model = "scripted", tools = {add}}):run("add") end)
return {e.kind .. ": " .. e.message, e2.kind .. ": " .. e2.message}
""",
    "js": """
const out = [];
try { await (await llm.agent({model: "scripted", tools: ["calculator"]})).run("add"); }
catch (e) { out.push(e.kind + ": " + e.message); }
const add = await tools.register({name: "add", handler: async (p) => { console.log("ran"); return 1; }});
try { await (await llm.agent({model: "scripted", tools: [add]})).run("add"); }
catch (e) { out.push(e.kind + ": " + e.message); }
return out;
""",
    "tengo": """
e := llm.agent({model: "scripted", tools: ["calculator"]}).run("add")
add := tools.register({name: "add", handler: func(p) { fmt.println("ran"); return 1 }})
e2 := llm.agent({model: "scripted", tools: [add]}).run("add")
export [e.value.kind + ": " + e.value.message, e2.value.kind + ": " + e2.value.message]
""",
}


@pytest.mark.parametrize("isolation", ["process", "inline"])
def test_a_disabled_tool_stays_disabled_when_a_model_calls_it(isolated, lang, isolation):
    from llmspell.sandbox.policy import Policy

    def answer(messages):
        offered = script.requests[-1][1]
        return calls((offered[0], {"expression": "1+1"} if offered[0] == "calculator" else {}))

    script = Script(then=answer)
    r, out = run_spell(isolated, lang, DISABLED[lang], script, isolation=isolation,
                       policy=Policy(disabled_builtins=("tools.add", "tools.calculator")))
    assert r[0].startswith('permission_denied: "tools.calculator" is disabled by the sandbox policy')
    assert r[1].startswith('permission_denied: "tools.add" is disabled by the sandbox policy')
    assert out == "" and len(script.requests) == 2  # the handler never ran; the model never heard back
