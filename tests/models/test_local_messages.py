"""How the local model sees a conversation: pydantic-ai messages flattened for SmolLM2's chat template."""

from pydantic_ai.messages import (
    ModelRequest,
    ModelResponse,
    SystemPromptPart,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.tools import ToolDefinition

from llmspell.models.local import parse_tool_call, to_chat

WEATHER = ToolDefinition(
    name="weather",
    description="Current weather in a city",
    parameters_json_schema={"type": "object", "properties": {"city": {"type": "string"}}},
)


def test_conversation_with_a_tool_round_trip() -> None:
    messages = [
        ModelRequest(parts=[SystemPromptPart("Be brief."), UserPromptPart("Weather in Oslo?")]),
        ModelResponse(parts=[ToolCallPart("weather", {"city": "Oslo"}, tool_call_id="c1")]),
        ModelRequest(parts=[ToolReturnPart("weather", "rainy, 7 C", tool_call_id="c1")]),
    ]
    chat = to_chat(messages, "Answer in English.", [WEATHER])
    assert [m["role"] for m in chat] == ["system", "user", "assistant", "user"]
    system = chat[0]["content"]
    assert system.startswith("Answer in English.\n\nBe brief.")
    assert "- weather: Current weather in a city" in system and '"tool": "<name>"' in system
    assert chat[2]["content"] == '{"tool": "weather", "arguments": {"city": "Oslo"}}'
    assert chat[3]["content"].startswith("Tool weather returned:") and "rainy, 7 C" in chat[3]["content"]


def test_plain_conversation_has_no_tool_protocol() -> None:
    messages = [ModelRequest(parts=[UserPromptPart("hi")]), ModelResponse(parts=[TextPart("hello")])]
    messages.append(ModelRequest(parts=[UserPromptPart("bye")]))
    assert to_chat(messages, None, []) == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "bye"},
    ]


def test_tool_calls_are_recognised_only_for_offered_tools() -> None:
    assert parse_tool_call(' {"tool": "weather", "arguments": {"city": "Oslo"}} ', [WEATHER]) == (
        "weather",
        {"city": "Oslo"},
    )
    assert parse_tool_call('{"tool": "rm_rf", "arguments": {}}', [WEATHER]) is None
    assert parse_tool_call("The weather is fine.", [WEATHER]) is None
    assert parse_tool_call('{"tool": "weather", "arguments": "Oslo"}', [WEATHER]) is None
