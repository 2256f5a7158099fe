"""A sub-agent used as a tool (``agent:as_tool()`` or an agent in ``tools``), and an agent that reaches
itself through its tools, in Lua, JavaScript and Tengo."""

from __future__ import annotations

import pytest
from tests.agents.conftest import run_spell
from tests.support.scripted_model import Script, calls, returns, text

from llmspell import SpellError

SUB = {
    "lua": """
local researcher = llm.agent({model = "scripted", name = "researcher", system = "You research.",
  description = "Finds facts"})
local tool = researcher:as_tool("research", "Ask the researcher")
local checker = llm.agent({model = "scripted", name = "checker", system = "You research.",
  description = "Checks facts"})
local lead = llm.agent({model = "scripted", name = "lead", tools = {tool, checker}})
local listed = {}
for _, t in ipairs(tools.list()) do if t.name == "research" or t.name == "checker" then
  listed[#listed + 1] = t.name .. "=" .. t.description end end
return {answer = lead:run(params.prompt), tool_name = tool.name, listed = listed,
        direct = tools.research({prompt = "direct"})}
""",
    "js": """
const researcher = await llm.agent({model: "scripted", name: "researcher", system: "You research.",
  description: "Finds facts"});
const tool = await researcher.as_tool("research", "Ask the researcher");
const checker = await llm.agent({model: "scripted", name: "checker", system: "You research.",
  description: "Checks facts"});
const lead = await llm.agent({model: "scripted", name: "lead", tools: [tool, checker]});
const listed = (await tools.list()).filter(t => t.name === "research" || t.name === "checker")
  .map(t => t.name + "=" + t.description);
return {answer: await lead.run(params.prompt), tool_name: tool.name, listed,
        direct: await tools.research({prompt: "direct"})};
""",
    "tengo": """
researcher := llm.agent({model: "scripted", name: "researcher", system: "You research.",
  description: "Finds facts"})
tool := researcher.as_tool("research", "Ask the researcher")
checker := llm.agent({model: "scripted", name: "checker", system: "You research.",
  description: "Checks facts"})
lead := llm.agent({model: "scripted", name: "lead", tools: [tool, checker]})
listed := []
for t in tools.list() { if t.name == "research" || t.name == "checker" {
  listed = append(listed, t.name + "=" + t.description) } }
export {answer: lead.run(params.prompt), tool_name: tool.name, listed: listed,
        direct: tools.research({prompt: "direct"})}
""",
}


def test_an_agent_used_as_a_tool_answers_its_callers_model(isolated, lang):
    prompt = "Find out about the moon. " * 150

    def answer(messages):
        first = messages[0].parts
        system = first[0].content if len(first) > 1 else ""
        if system == "You research.":
            return text("fact about: " + first[-1].content[:20])
        if len(messages) == 1:
            return calls(("research", {"prompt": "moon distance"}), ("checker", {"prompt": "moon mass"}))
        return text(" | ".join(returns(messages)))

    script = Script(then=answer)
    r, _ = run_spell(isolated, lang, SUB[lang], script, params={"prompt": prompt})
    assert r["answer"] == "fact about: moon distance | fact about: moon mass"
    assert r["tool_name"] == "research"
    assert sorted(r["listed"]) == ["checker=Checks facts", "research=Ask the researcher"]
    assert r["direct"] == "fact about: direct"
    offered = [names for _, names in script.requests if names]
    assert offered and sorted(offered[0]) == ["checker", "research"]


SELF = {
    "lua": """
local a = llm.agent({model = "scripted", name = "ouroboros", tools = {"calculator"}})
local b = llm.agent({model = "scripted", name = "ouroboros", tools = {a:as_tool("again")}})
b:as_tool("again")  -- the tool "again" now runs b, which calls "again"
return b:run("go")
""",
    "js": """
const a = await llm.agent({model: "scripted", name: "ouroboros", tools: ["calculator"]});
const b = await llm.agent({model: "scripted", name: "ouroboros", tools: [await a.as_tool("again")]});
await b.as_tool("again");
return await b.run("go");
""",
    "tengo": """
a := llm.agent({model: "scripted", name: "ouroboros", tools: ["calculator"]})
b := llm.agent({model: "scripted", name: "ouroboros", tools: [a.as_tool("again")]})
b.as_tool("again")
export b.run("go")
""",
}


def test_an_agent_that_reaches_itself_through_its_tools_ends_at_the_depth_limit(isolated, lang):
    script = Script(then=calls(("again", {"prompt": "deeper"})))
    with pytest.raises(SpellError) as err:
        run_spell(isolated, lang, SELF[lang], script)
    assert err.value.kind == "limit_exceeded"
    assert "agents run inside each other more than 8 deep" in err.value.message
    assert len(script.requests) == 8


def test_as_tool_refuses_a_bad_or_built_in_name(isolated, lang):
    src = {"lua": """
local a = llm.agent({model = "test"})
local r = {}
for i, n in ipairs({"calculator", "has space", "list"}) do
  local ok, e = pcall(a.as_tool, a, n); r[i] = e.kind .. ": " .. e.message end
local ok, e = pcall(a.as_tool, a)
r[4] = e.kind .. ": " .. e.message
return r""", "js": """
const a = await llm.agent({model: "test"});
const r = [];
for (const n of ["calculator", "has space", "list", undefined]) {
  try { await a.as_tool(n); r.push("ok"); } catch (e) { r.push(e.kind + ": " + e.message); } }
return r;""", "tengo": """
a := llm.agent({model: "test"})
r := []
for n in ["calculator", "has space", "list"] { e := a.as_tool(n); r = append(r, e.value.kind + ": " + e.value.message) }
e := a.as_tool()
export append(r, e.value.kind + ": " + e.value.message)"""}[lang]
    r, _ = run_spell(isolated, lang, src, isolation="inline")
    assert r[0].startswith("invalid_argument: agent:as_tool: 'calculator' is already a built-in name")
    assert "a tool's name is 1 to 64 letters, digits, _ and -, not 'has space'" in r[1]
    assert "'list' is already a built-in name" in r[2]
    assert "give the tool a name (or the agent one" in r[3]


HANDLER_RUNS_AGENT = {
    "lua": """
local a
local t = tools.register({name = "deeper", handler = function(p) return a:run("again") end})
a = llm.agent({model = "scripted", tools = {t}})
return a:run("go")""",
    "js": """
let a;
const t = await tools.register({name: "deeper", handler: async (p) => await a.run("again")});
a = await llm.agent({model: "scripted", tools: [t]});
return await a.run("go");""",
    "tengo": """
a := undefined
t := tools.register({name: "deeper", handler: func(p) { return a.run("again") }})
a = llm.agent({model: "scripted", tools: [t]})
export a.run("go")""",
}


def test_a_handler_that_runs_its_own_agent_ends_with_a_limit_not_a_hang(isolated, lang):
    """Lua and Tengo run the handler in the tool call's context, so the depth limit sees the nesting;
    JavaScript starts the handler's call from its VM's loop, where the run's limit on model calls stops
    it (no bridge call waits on another, so nothing hangs: dispatch.in_spell)."""
    script = Script(then=calls(("deeper", {})))
    with pytest.raises(SpellError) as err:
        run_spell(isolated, lang, HANDLER_RUNS_AGENT[lang], script)
    assert err.value.kind == "limit_exceeded"
    if lang in ("lua", "tengo"):
        assert "agents run inside each other more than 8 deep" in err.value.message
    else:
        assert err.value.message == "agent:run: more than 100 LLM calls in one run"


def test_many_agent_runs_at_once_all_finish(isolated):
    src = """
const t = await tools.register({name: "echo", parameters: {x: {type: "string"}}, handler: async (p) => p.x});
const a = await llm.agent({model: "scripted", tools: [t]});
return await Promise.all(Array.from({length: 40}, (_, i) => a.run("n" + i)));
"""

    def answer(messages):
        if len(messages) == 1:
            return calls(("echo", {"x": messages[0].parts[-1].content}))
        return text(returns(messages)[0])

    r, _ = run_spell(isolated, "js", src, Script(then=answer))
    assert r == [f"n{i}" for i in range(40)]
