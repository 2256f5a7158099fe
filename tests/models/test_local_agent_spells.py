"""Agents work on the embedded default model: spells run offline through ``llmspell run`` in every language.

Nothing is configured (no key, no network), so ``llm.agent`` gets local:smollm2,
served by the parent under its grammar (models/_local_answer.py): the spell's
own ``get_weather`` handler is called with valid arguments, its result goes
back to the model, and the agent answers in text.
"""

from __future__ import annotations

import json

import pytest

SPELLS = {
    "lua": ("agent.lua", """
local weather = tools.register({
  name = "get_weather",
  description = "Get the current weather for a city",
  parameters = {city = {type = "string", required = true, description = "the city's name"}},
  handler = function(args)
    print("handler called: " .. args.city)
    return {city = args.city, temperature_c = 21, sky = "sunny"}
  end,
})
local agent = llm.agent({
  system = "You answer questions about the weather. Call get_weather for the city you are asked about.",
  tools = {weather, "calculator"}, max_steps = 4, max_tokens = 96, temperature = 0,
})
local r = agent:run_full("What is the weather like in Paris today?")
return {answer = r.output, calls = r.tool_calls, requests = r.usage.requests}
"""),
    "js": ("agent.js", """
const weather = await tools.register({
  name: "get_weather",
  description: "Get the current weather for a city",
  parameters: {city: {type: "string", required: true, description: "the city's name"}},
  handler: (args) => {
    console.log("handler called: " + args.city);
    return {city: args.city, temperature_c: 21, sky: "sunny"};
  },
});
const agent = await llm.agent({
  system: "You answer questions about the weather. Call get_weather for the city you are asked about.",
  tools: [weather, "calculator"], max_steps: 4, max_tokens: 96, temperature: 0,
});
const r = await agent.run_full("What is the weather like in Paris today?");
return {answer: r.output, calls: r.tool_calls, requests: r.usage.requests};
"""),
    "tengo": ("agent.tengo", """
weather := tools.register({
  name: "get_weather",
  description: "Get the current weather for a city",
  parameters: {city: {type: "string", required: true, description: "the city's name"}},
  handler: func(args) {
    fmt.println("handler called: " + args.city)
    return {city: args.city, temperature_c: 21, sky: "sunny"}
  }
})
agent := llm.agent({
  system: "You answer questions about the weather. Call get_weather for the city you are asked about.",
  tools: [weather, "calculator"], max_steps: 4, max_tokens: 96, temperature: 0
})
r := agent.run_full("What is the weather like in Paris today?")
export {answer: r.output, calls: r.tool_calls, requests: r.usage.requests}
"""),
}


@pytest.mark.parametrize("lang", sorted(SPELLS))
def test_the_get_weather_agent_runs_offline_on_the_default_model(isolated, lang: str) -> None:
    name, source = SPELLS[lang]
    isolated.write(name, source)
    p = isolated.cli("run", name, "--json", timeout=600)
    isolated.no_traceback(p.stdout, p.stderr)
    assert p.returncode == 0, p.stderr
    printed, _, last = p.stdout.rstrip("\n").rpartition("\n")
    result = json.loads(last)
    # The spell's handler ran once, on the spell's VM, with the city the user asked about.
    assert printed == "handler called: Paris"
    assert [c["name"] for c in result["calls"]] == ["get_weather"] and result["calls"][0]["success"]
    assert result["requests"] == 2  # the call, then the answer
    assert result["answer"].strip() and not result["answer"].lstrip().startswith("{")


def test_structured_output_on_the_default_model_is_valid(isolated) -> None:
    isolated.write("s.lua", """
local schema = {type = "object", required = {"city", "temperature_c", "sky"},
  properties = {city = {type = "string"}, temperature_c = {type = "integer"},
                sky = {type = "string", enum = {"sunny", "cloudy", "rainy"}}}}
local agent = llm.agent({output_schema = schema, max_tokens = 96, temperature = 0})
local w = agent:run("It is 7 degrees and raining in Bergen. Report the weather.")
local s = llm.structured({prompt = "Oslo: 18 degrees, sunny.", schema = schema, max_tokens = 96, temperature = 0})
return {w = w, s = s}
""")
    p = isolated.cli("run", "s.lua", "--json", timeout=600)
    isolated.no_traceback(p.stdout, p.stderr)
    assert p.returncode == 0, p.stderr
    result = json.loads(p.stdout.strip().splitlines()[-1])
    for value in result.values():
        assert set(value) == {"city", "temperature_c", "sky"}
        assert isinstance(value["city"], str) and isinstance(value["temperature_c"], int)
        assert value["sky"] in ("sunny", "cloudy", "rainy")


def test_a_tool_schema_the_local_model_cannot_follow_is_a_clear_error_in_the_spell(isolated) -> None:
    isolated.write("bad.lua", """
local odd = tools.register({
  name = "odd", description = "odd",
  parameters = {type = "object", properties = {x = {["not"] = {type = "string"}}}},
  handler = function(args) return "never" end,
})
local agent = llm.agent({tools = {odd}, max_tokens = 32})
local ok, err = pcall(agent.run, agent, "go")
print(ok, err.kind)
print(err.message)
local again = llm.complete({prompt = "Say hi.", max_tokens = 4})
return again.content ~= nil
""")
    p = isolated.cli("run", "bad.lua", "--json", timeout=600)
    isolated.no_traceback(p.stdout, p.stderr)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.strip().splitlines()
    assert lines[0] == "false\tinvalid_argument"
    assert lines[1].startswith("local:smollm2 cannot follow the JSON Schema of tool 'odd' at /properties/x")
    assert lines[-1] == "true"  # the model (in the parent) still serves the spell
