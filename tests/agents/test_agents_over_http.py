"""The same agent scenarios over real HTTP: a scripted OpenAI-compatible server on 127.0.0.1 asks for tool
calls (several at once, plain or streamed) and structured answers, and records what the provider was sent."""

from __future__ import annotations

import asyncio
import json

from tests.agents.conftest import run_spell

MODEL = "openai-compatible:scripted-model"

AGENT = {
    "lua": """
local w = tools.register({name = "get_weather", description = "The weather in a city",
  parameters = {city = {type = "string", required = true}},
  handler = function(p) return p.city .. " is sunny" end})
local r = llm.agent({model = params.model, tools = {w, "calculator"}, temperature = 0.3}):run_full(params.prompt)
return {output = r.output, calls = #r.tool_calls, cost = r.usage.cost, tokens = r.usage.total_tokens}
""",
    "js": """
const w = await tools.register({name: "get_weather", description: "The weather in a city",
  parameters: {city: {type: "string", required: true}}, handler: async (p) => p.city + " is sunny"});
const r = await (await llm.agent({model: params.model, tools: [w, "calculator"], temperature: 0.3}))
  .run_full(params.prompt);
return {output: r.output, calls: r.tool_calls.length, cost: r.usage.cost, tokens: r.usage.total_tokens};
""",
    "tengo": """
w := tools.register({name: "get_weather", description: "The weather in a city",
  parameters: {city: {type: "string", required: true}}, handler: func(p) { return p.city + " is sunny" }})
r := llm.agent({model: params.model, tools: [w, "calculator"], temperature: 0.3}).run_full(params.prompt)
export {output: r.output, calls: len(r.tool_calls), cost: r.usage.cost, tokens: r.usage.total_tokens}
""",
}


def test_an_agent_calls_tools_over_http(isolated, lang, openai_server):
    isolated.server_config(openai_server)
    openai_server.tool_calls(("get_weather", {"city": "Paris"}), ("calculator", {"expression": "2*21"}),
                             usage=(1200, 30))
    openai_server.reply("Paris is sunny and 2*21 is 42", usage=(1300, 12))
    prompt = "What is the weather in Paris, and 2*21? " * 100
    r, _ = run_spell(isolated, lang, AGENT[lang], params={"model": MODEL, "prompt": prompt})
    assert {**r, "cost": r.get("cost")} == {"output": "Paris is sunny and 2*21 is 42", "calls": 2, "cost": None,
                                            "tokens": 2542}  # Lua leaves out a nil field
    first, second = openai_server.completions
    assert first.body["temperature"] == 0.3
    offered = {t["function"]["name"]: t["function"]["parameters"] for t in first.body["tools"]}
    assert set(offered) == {"get_weather", "calculator"}
    assert offered["get_weather"]["required"] == ["city"]
    assert first.messages[-1]["content"] == prompt
    results = {m["tool_call_id"]: m["content"] for m in second.messages if m["role"] == "tool"}
    assert results == {"call_0": "Paris is sunny", "call_1": "42"}


def test_a_known_models_run_has_a_cost_from_genai_prices(isolated, lang, openai_server, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", openai_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-key")
    isolated.config("[llm]\nmax_retries = 0\n")
    openai_server.tool_calls(("calculator", {"expression": "1+1"}), usage=(1_000_000, 0))
    openai_server.reply("2", usage=(0, 1_000_000))
    r, _ = run_spell(isolated, lang, AGENT[lang], params={"model": "openai:gpt-4o", "prompt": "1+1?"},
                     model="openai:gpt-4o")
    from genai_prices import calc_price
    from genai_prices.types import Usage

    want = (calc_price(Usage(input_tokens=1_000_000), "gpt-4o", provider_id="openai").total_price
            + calc_price(Usage(output_tokens=1_000_000), "gpt-4o", provider_id="openai").total_price)
    assert r["output"] == "2" and abs(r["cost"] - float(want)) < 1e-9 and r["cost"] > 0


STRUCTURED = {
    "lua": "return llm.structured({model = params.model, prompt = params.prompt, schema = params.schema})",
    "js": "return await llm.structured({model: params.model, prompt: params.prompt, schema: params.schema})",
    "tengo": "export llm.structured({model: params.model, prompt: params.prompt, schema: params.schema})",
}


def test_structured_output_over_http_is_retried_with_the_failing_path(isolated, lang, openai_server):
    isolated.server_config(openai_server)
    schema = {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {
        "type": "object", "properties": {"price": {"type": "number"}}}}}}
    openai_server.tool_calls(("final_result", {"items": [{"price": 1}, {"price": "2"}]}))
    openai_server.tool_calls(("final_result", {"items": [{"price": 1}, {"price": 2}]}))
    r, _ = run_spell(isolated, lang, STRUCTURED[lang], params={"model": MODEL, "prompt": "Prices? " * 300,
                                                              "schema": schema})
    assert r == {"items": [{"price": 1}, {"price": 2}]}
    first, second = openai_server.completions
    assert [t["function"]["name"] for t in first.body["tools"]] == ["final_result"]
    retry = [m["content"] for m in second.messages if m["role"] == "tool"]
    assert len(retry) == 1 and "items[1].price must be a number, not a string" in retry[0]


def test_streamed_tool_calls_from_the_server_arrive_whole(openai_server):
    """The server's streamed tool calls (arguments in pieces, several at once) are what a client parses."""
    from openai import AsyncOpenAI
    from pydantic_ai.messages import ModelRequest, ToolCallPart, UserPromptPart
    from pydantic_ai.models import ModelRequestParameters
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider
    from pydantic_ai.tools import ToolDefinition

    openai_server.tool_calls(("get_weather", {"city": "Paris, France"}), ("calculator", {"expression": "6*7"}),
                             text="Checking. ", chunk_size=3)
    client = AsyncOpenAI(base_url=openai_server.base_url, api_key="x", max_retries=0)
    model = OpenAIChatModel("scripted-model", provider=OpenAIProvider(openai_client=client))
    tools = [ToolDefinition(name="get_weather", parameters_json_schema={"type": "object"}),
             ToolDefinition(name="calculator", parameters_json_schema={"type": "object"})]

    async def go():
        params = ModelRequestParameters(function_tools=tools)
        async with model.request_stream([ModelRequest(parts=[UserPromptPart("hi")])], None, params) as s:
            async for _ in s:
                pass
        return s.get()

    response = asyncio.run(go())
    got = [(p.tool_name, p.args_as_dict()) for p in response.parts if isinstance(p, ToolCallPart)]
    assert got == [("get_weather", {"city": "Paris, France"}), ("calculator", {"expression": "6*7"})]
    assert response.text == "Checking. " and openai_server.completions[0].body["stream"] is True
    assert json.loads(json.dumps(openai_server.completions[0].body["tools"]))[0]["function"]["name"] == "get_weather"
