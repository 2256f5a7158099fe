"""The embedded SmolLM2 model follows tools and output schemas by grammar, driven by pydantic-ai agents.

These run the real 135M model (temperature 0, bounded max_tokens): what is
asserted is what the grammar guarantees, not what a small model happens to
think: a call names an offered tool and its arguments are valid against that
tool's JSON Schema, a structured answer is valid against the output schema.
"""

from __future__ import annotations

import asyncio
import re
from typing import Any

import jsonschema
import pytest
from pydantic_ai import Agent, NativeOutput, PromptedOutput, StructuredDict, Tool, ToolOutput
from pydantic_ai.messages import (
    ModelRequest,
    ModelResponse,
    PartDeltaEvent,
    PartStartEvent,
    TextPart,
    TextPartDelta,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.tools import ToolDefinition

from llmspell.errors import SpellError
from llmspell.models._local_answer import MAX_TOOL_ROUNDS, answer_shape, read_answer
from llmspell.models.local import local_model

SETTINGS = {"temperature": 0.0, "max_tokens": 96}

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "The city's name"}},
    "required": ["city"],
}


def _tool(name: str, description: str, schema: dict[str, Any], calls: list, result: Any) -> Tool:
    def handler(**args: Any) -> Any:
        jsonschema.validate(args, schema)  # fails the test, not the call, if the grammar let a bad call through
        calls.append((name, args))
        return result

    return Tool.from_schema(handler, name=name, description=description, json_schema=schema)


def _run(agent: Agent, prompt: str, **kw: Any) -> Any:
    return agent.run_sync(prompt, model_settings=SETTINGS, **kw)


def test_an_agent_calls_the_tool_with_valid_arguments_and_then_answers() -> None:
    calls: list = []
    weather = _tool("get_weather", "Current weather in a city", WEATHER_SCHEMA, calls,
                    {"city": "Paris", "temperature_c": 21, "conditions": "sunny"})
    agent = Agent(local_model(), tools=[weather], instructions="You are a helpful assistant.")
    result = _run(agent, "What is the weather in Paris?")
    assert len(calls) == 1 and calls[0][0] == "get_weather"
    messages = result.all_messages()
    # user prompt, the call, the tool's result, the final answer: one tool round, then the answer
    assert [type(m) for m in messages] == [ModelRequest, ModelResponse, ModelRequest, ModelResponse]
    call = messages[1].parts[0]
    assert isinstance(call, ToolCallPart) and call.tool_call_id.startswith("local_")
    assert messages[1].finish_reason == "tool_call"
    assert isinstance(messages[2].parts[0], ToolReturnPart) and messages[2].parts[0].tool_call_id == call.tool_call_id
    assert isinstance(result.output, str) and result.output.strip()
    assert not result.output.lstrip().startswith("{")  # an answer, not a call written as text
    usage = result.usage
    assert usage.requests == 2 and usage.input_tokens > 0 and usage.output_tokens > 0


def test_several_tools_with_nested_object_array_and_enum_schemas() -> None:
    order_schema = {
        "type": "object",
        "properties": {
            "customer": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "tier": {"enum": ["gold", "silver", "bronze"]}},
                "required": ["name", "tier"],
            },
            "items": {
                "type": "array",
                "minItems": 1,
                "maxItems": 3,
                "items": {
                    "type": "object",
                    "properties": {"sku": {"type": "string", "maxLength": 12}, "quantity": {"type": "integer"}},
                    "required": ["sku", "quantity"],
                },
            },
            "express": {"type": "boolean"},
        },
        "required": ["customer", "items", "express"],
    }
    calls: list = []
    tools = [
        _tool("place_order", "Place an order for a customer", order_schema, calls, "order 1 placed"),
        _tool("get_weather", "Current weather in a city", WEATHER_SCHEMA, calls, "sunny"),
        _tool("convert", "Convert an amount between currencies", {
            "type": "object",
            "properties": {"amount": {"type": "number"}, "to": {"type": "string", "enum": ["EUR", "USD"]}},
            "required": ["amount", "to"],
        }, calls, "10 EUR"),
    ]
    agent = Agent(local_model(), tools=tools)
    _run(agent, "Order two boxes of tea (sku TEA-1) for Ann, a gold customer, express.")
    assert len(calls) == 1  # whichever tool the model picked, its arguments were valid (checked in the handler)
    assert calls[0][0] in {"place_order", "get_weather", "convert"}


@pytest.mark.parametrize("wrap", [None, NativeOutput, PromptedOutput, ToolOutput], ids=["default", "native",
                                                                                       "prompted", "tool"])
def test_structured_output_is_valid_against_its_schema(wrap: Any) -> None:
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "temperature_c": {"type": "integer"},
            "conditions": {"type": "string", "enum": ["sunny", "cloudy", "rainy"]},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
        },
        "required": ["city", "temperature_c", "conditions", "tags"],
    }
    output = StructuredDict(schema, name="Weather")
    agent = Agent(local_model(), output_type=wrap(output) if wrap else output)
    result = _run(agent, "It is 18 degrees and raining in Oslo. Describe the weather.")
    jsonschema.validate(result.output, schema)
    assert result.usage.requests == 1


def test_a_tool_then_structured_output() -> None:
    schema = {"type": "object", "properties": {"summary": {"type": "string", "maxLength": 80}},
              "required": ["summary"]}
    calls: list = []
    weather = _tool("get_weather", "Current weather in a city", WEATHER_SCHEMA, calls, "rainy, 7 C")
    agent = Agent(local_model(), tools=[weather], output_type=StructuredDict(schema, name="Report"))
    result = _run(agent, "Report the weather in Bergen.")
    assert [c[0] for c in calls] == ["get_weather"]
    jsonschema.validate(result.output, schema)


def _request(tools: list[ToolDefinition], **params: Any) -> Any:
    model = local_model()
    messages = [ModelRequest(parts=[UserPromptPart("hi")])]
    return asyncio.run(model.request(messages, SETTINGS, ModelRequestParameters(function_tools=tools, **params)))


@pytest.mark.parametrize(
    ("schema", "says"),
    [
        ({"type": "object", "properties": {"x": {"not": {"type": "string"}}}}, "at /properties/x: a schema made only "
                                                                                "of not has no grammar form"),
        ({"type": "object", "properties": {"x": {"$ref": "https://example.com/s.json"}}},
         "only references inside the schema"),
        ({"type": "object", "properties": {"x": {"type": "string", "minLength": 100000}}},
         "/properties/x/minLength: 100000 is more than the grammar spells out"),
        ({"type": "object", "properties": {"x": {"type": "strnig"}}}, "unknown type 'strnig'"),
        ({"type": "object", "properties": {"x": {"type": "string", "pattern": "^(?=a)b$"}}},
         "llama.cpp's converter stopped"),
        ({"type": "object", "properties": {"x": {"$ref": "#/$defs/missing"}}}, "points at nothing in the schema"),
    ],
)
def test_a_schema_without_a_grammar_form_is_a_clear_error(schema: dict, says: str) -> None:
    bad = ToolDefinition(name="odd_tool", description="", parameters_json_schema=schema)
    with pytest.raises(SpellError) as caught:
        _request([bad])
    assert caught.value.kind == "invalid_argument"
    assert caught.value.message.startswith("local:smollm2 cannot follow the JSON Schema of tool 'odd_tool'")
    assert says in caught.value.message
    assert "Error" not in caught.value.message and "Traceback" not in caught.value.message


def test_an_agent_with_a_schema_it_cannot_follow_fails_cleanly_and_the_model_still_works() -> None:
    bad = Tool.from_schema(lambda **a: "x", name="odd_tool", description="",
                           json_schema={"type": "object", "properties": {"x": {"if": {"type": "string"}}}})
    with pytest.raises(SpellError, match="cannot follow the JSON Schema of tool 'odd_tool'"):
        _run(Agent(local_model(), tools=[bad]), "go")
    calls: list = []
    good = _tool("get_weather", "Current weather in a city", WEATHER_SCHEMA, calls, "sunny")
    _run(Agent(local_model(), tools=[good]), "Weather in Rome?")
    assert len(calls) == 1


def test_quotes_and_backslashes_in_enum_values_and_names_are_followed_exactly() -> None:
    values = ['say "hi"', "back\\slash", "tab\there", "naïve ☃"]
    levels = [1, 12, 123, "1", None]  # values that begin other values: the enum's tree ends inside a branch
    schema = {"type": "object", "properties": {"choice": {"enum": values}, "level": {"enum": levels}},
              "required": ["choice", "level"]}
    response = _request([ToolDefinition(name="pick", description="Pick one", parameters_json_schema=schema)])
    call = response.parts[0]
    assert isinstance(call, ToolCallPart) and call.tool_name == "pick"
    jsonschema.validate(call.args_as_dict(raise_if_invalid=True), schema)


def test_a_long_maximum_is_left_to_validation_and_generation_stays_bounded() -> None:
    schema = {"type": "object", "properties": {"text": {"type": "string", "maxLength": 10**9}}, "required": ["text"]}
    model = local_model()
    messages = [ModelRequest(parts=[UserPromptPart("Write a very long story.")])]
    params = ModelRequestParameters(function_tools=[ToolDefinition(name="write", parameters_json_schema=schema)])
    response = asyncio.run(model.request(messages, {"temperature": 0.0, "max_tokens": 12}, params))
    call = response.parts[0]
    # Cut short by max_tokens: still a call of the tool, whose arguments are not JSON (the agent retries).
    assert isinstance(call, ToolCallPart) and call.tool_name == "write"
    assert response.usage.output_tokens <= 12
    if response.finish_reason == "length":
        assert isinstance(call.args, str)
        with pytest.raises(ValueError):
            call.args_as_dict(raise_if_invalid=True)


def test_streaming_with_tools_gives_the_call_whole_and_streams_the_answer_text() -> None:
    calls: list = []
    weather = _tool("get_weather", "Current weather in a city", WEATHER_SCHEMA, calls, "sunny, 25 C")
    agent = Agent(local_model(), tools=[weather])

    async def run() -> tuple[list, Any]:
        events: list = []
        async with agent.iter("What is the weather in Lisbon?", model_settings=SETTINGS) as run:
            async for node in run:
                if Agent.is_model_request_node(node):
                    async with node.stream(run.ctx) as stream:
                        async for event in stream:
                            events.append(event)
        return events, run.result

    events, result = asyncio.run(run())
    assert len(calls) == 1
    starts = [e.part for e in events if isinstance(e, PartStartEvent)]
    assert isinstance(starts[0], ToolCallPart) and starts[0].tool_name == "get_weather"
    assert starts[0].args_as_dict(raise_if_invalid=True) == calls[0][1]
    assert isinstance(starts[-1], TextPart)
    deltas = [e.delta.content_delta for e in events if isinstance(e, PartDeltaEvent)
              and isinstance(e.delta, TextPartDelta)]
    assert len(deltas) > 1  # the answer streamed token by token
    assert starts[-1].content + "".join(deltas) == result.output


def test_a_structured_answer_streams_whole_and_is_valid() -> None:
    schema = {"type": "object", "properties": {"ok": {"type": "boolean"}, "n": {"type": "integer"}},
              "required": ["ok", "n"]}
    agent = Agent(local_model(), output_type=StructuredDict(schema, name="Check"))

    async def run() -> Any:
        async with agent.run_stream("Is 3 a prime? Give n=3.", model_settings=SETTINGS) as stream:
            return await stream.get_output()

    jsonschema.validate(asyncio.run(run()), schema)


# -- the policy, without the model ------------------------------------------------------------------

WEATHER = ToolDefinition(name="get_weather", description="", parameters_json_schema=WEATHER_SCHEMA)
CLOCK = ToolDefinition(name="clock", description="", parameters_json_schema={"type": "object", "properties": {}})


def _call(name: str, i: int) -> ModelResponse:
    return ModelResponse(parts=[ToolCallPart(name, {"city": "x"}, tool_call_id=f"c{i}")])


def test_policy_a_call_is_required_until_a_tool_answers_then_only_the_final_answer() -> None:
    params = ModelRequestParameters(function_tools=[WEATHER, CLOCK])
    turn = [ModelRequest(parts=[UserPromptPart("weather?")])]
    first = answer_shape(turn, params)
    assert first.tool_required and [t.name for t in first.calls] == ["get_weather", "clock"] and not first.text
    turn += [_call("get_weather", 1), ModelRequest(parts=[ToolReturnPart("get_weather", "sunny", tool_call_id="c1")])]
    final = answer_shape(turn, params)
    assert not final.calls and final.text and final.guarded and final.grammar() is not None
    # pydantic-ai's feedback on an answer it could not use comes as a user prompt, but continues the turn.
    feedback = ModelRequest(parts=[UserPromptPart(
        "Your previous response failed the application's validation (this is automated feedback, not a message "
        "from the user):\n<pyai:validation_errors>[]</pyai:validation_errors>")])
    assert not answer_shape([*turn, ModelResponse(parts=[TextPart("{}")]), feedback], params).tool_required
    # A new user prompt is a new turn: a tool is required again.
    assert answer_shape([*turn, ModelResponse(parts=[TextPart("sunny")]),
                         ModelRequest(parts=[UserPromptPart("and now?")])], params).tool_required


def test_policy_a_failed_call_is_tried_again_a_bounded_number_of_times() -> None:
    params = ModelRequestParameters(function_tools=[WEATHER])
    turn: list = [ModelRequest(parts=[UserPromptPart("weather?")])]
    for i in range(MAX_TOOL_ROUNDS):
        assert answer_shape(turn, params).tool_required
        turn += [_call("get_weather", i),
                 ModelRequest(parts=[ToolReturnPart("get_weather", "bad city", tool_call_id=f"c{i}",
                                                 outcome="retried")])]
    assert not answer_shape(turn, params).tool_required


def test_policy_without_tools_leaves_plain_text_free_and_holds_structured_output() -> None:
    assert answer_shape([ModelRequest(parts=[UserPromptPart("hi")])], ModelRequestParameters()).grammar() is None
    out = ToolDefinition(name="final_result", parameters_json_schema=WEATHER_SCHEMA, kind="output")
    shape = answer_shape([ModelRequest(parts=[UserPromptPart("hi")])],
                         ModelRequestParameters(output_mode="tool", output_tools=[out], allow_text_output=False))
    assert not shape.text and shape.outputs == [out] and "final_result" in shape.grammar()


def test_reading_answers() -> None:
    shape = answer_shape([ModelRequest(parts=[UserPromptPart("w?")])],
                         ModelRequestParameters(function_tools=[WEATHER]))
    part, finish = read_answer('{"tool": "get_weather", "arguments": {"city": "Oslo"}}', shape, "stop")
    assert isinstance(part, ToolCallPart) and part.args == {"city": "Oslo"} and finish == "tool_call"
    part, finish = read_answer('{"tool": "get_weather", "arguments": {"city": "Os', shape, "length")
    assert isinstance(part, ToolCallPart) and part.tool_name == "get_weather" and part.args == '{"city": "Os'
    assert finish == "length"
    part, _ = read_answer("It is sunny.", shape, "stop")
    assert isinstance(part, TextPart) and part.content == "It is sunny."


def test_many_tools_together_are_held_to_one_size_limit_and_refused_clearly() -> None:
    tools = [ToolDefinition(name=f"t{i}", parameters_json_schema={
        "type": "object", "properties": {f"p{j}": {"type": "string"} for j in range(50)}}) for i in range(100)]
    with pytest.raises(SpellError) as caught:
        _request(tools)
    assert caught.value.kind == "invalid_argument"
    assert "(with the other schemas of the request) more than 4000 subschemas" in caught.value.message


def test_a_pattern_keeps_the_string_inside_its_quotes() -> None:
    # An unanchored pattern matches anywhere; its "." may not write a raw quote that would end the string early;
    # \d, \w and \s are classes (the converter copied them into a literal llama.cpp could not parse).
    schema = {"type": "object", "properties": {"code": {"type": "string", "pattern": "[A-Z]{2}-\\d{3}"}},
              "required": ["code"]}
    response = _request([ToolDefinition(name="lookup", description="Look up a product code",
                                        parameters_json_schema=schema)])
    call = response.parts[0]
    assert isinstance(call, ToolCallPart)
    if response.finish_reason != "length":
        jsonschema.validate(call.args_as_dict(raise_if_invalid=True), schema)
    else:  # cut short by max_tokens inside the string: never a string closed early with garbage after it
        assert isinstance(call.args, str) and re.fullmatch(r'\{ ?"code": ?"(?:[^"\\]|\\.)*\\?', call.args)


def test_a_conversation_longer_than_the_context_window_is_a_clear_limit_error() -> None:
    long_result = "sunny and warm " * 1200  # about 3600 tokens: more than the model's 2048
    messages = [
        ModelRequest(parts=[UserPromptPart("Weather in Oslo?")]),
        _call("get_weather", 1),
        ModelRequest(parts=[ToolReturnPart("get_weather", long_result, tool_call_id="c1")]),
    ]
    params = ModelRequestParameters(function_tools=[WEATHER])
    with pytest.raises(SpellError) as caught:
        asyncio.run(local_model().request(messages, SETTINGS, params))
    assert caught.value.kind == "limit_exceeded"
    assert caught.value.message.startswith("local:smollm2: Requested tokens (")
    assert "exceed context window of 2048 tokens" in caught.value.message


def test_alternatives_within_alternatives_are_refused_before_they_hold_the_model() -> None:
    # Twenty levels of "either of two" through $defs: a small schema that llama.cpp's sampler would follow
    # a million ways at once, holding the model (in the parent, for every spell) for minutes per token.
    # An enum is one reading however long (its values are written as a tree of their common beginnings).
    defs: dict[str, Any] = {"l0": {"type": "string"}}
    for i in range(1, 21):
        defs[f"l{i}"] = {"anyOf": [{"$ref": f"#/$defs/l{i - 1}"}, {"$ref": f"#/$defs/l{i - 1}", "maxLength": 9}]}
    schema = {"type": "object", "properties": {"x": {"$ref": "#/$defs/l20"}}, "required": ["x"], "$defs": defs}
    with pytest.raises(SpellError) as caught:
        _request([ToolDefinition(name="deep", parameters_json_schema=schema)])
    assert caught.value.kind == "invalid_argument"
    assert "it can be read more than 1024 ways at once" in caught.value.message
    # A wide but flat choice is fine: many values of an enum, and a union of a few objects.
    flat = {"type": "object", "properties": {
        "country": {"enum": [f"C{i:03d}" for i in range(40)]},
        "shape": {"anyOf": [{"type": "object", "properties": {"r": {"type": "number"}}, "required": ["r"]},
                            {"type": "object", "properties": {"w": {"type": "number"}}, "required": ["w"]},
                            {"type": "null"}]}}, "required": ["country", "shape"]}
    response = _request([ToolDefinition(name="place", parameters_json_schema=flat)])
    call = response.parts[0]
    assert isinstance(call, ToolCallPart)
    if response.finish_reason != "length":
        jsonschema.validate(call.args_as_dict(raise_if_invalid=True), flat)
