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
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.tools import ToolDefinition

from llmspell.models._local_answer import answer_shape, protocol
from llmspell.models.local import to_chat

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
    shape = answer_shape(messages, ModelRequestParameters(function_tools=[WEATHER]))
    chat = to_chat(messages, "Answer in English.", protocol(shape))
    assert [m["role"] for m in chat] == ["system", "user", "assistant", "user"]
    system = chat[0]["content"]
    assert system.startswith("Answer in English.\n\nBe brief.\n\nAnswer the user with what the tools returned.")
    assert chat[2]["content"] == '{"tool": "weather", "arguments": {"city": "Oslo"}}'
    assert chat[3]["content"] == "Tool weather returned: rainy, 7 C"


def test_a_call_required_lists_the_tools_and_the_call_format() -> None:
    messages = [ModelRequest(parts=[UserPromptPart("Weather in Oslo?")])]
    chat = to_chat(messages, None, protocol(answer_shape(messages, ModelRequestParameters(function_tools=[WEATHER]))))
    system = chat[0]["content"]
    assert "- weather: Current weather in a city Arguments: {" in system and '"tool": "<name>"' in system


def test_a_failed_call_and_a_call_cut_short_are_shown_as_they_were() -> None:
    messages = [
        ModelRequest(parts=[UserPromptPart("Weather?")]),
        ModelResponse(parts=[ToolCallPart("weather", '{"city": "Os', tool_call_id="c1")]),
        ModelRequest(parts=[ToolReturnPart("weather", "invalid JSON", tool_call_id="c1", outcome="retried")]),
    ]
    chat = to_chat(messages, None)
    assert chat[1]["content"] == '{"tool": "weather", "arguments": "{\\"city\\": \\"Os"}'
    assert chat[2]["content"].startswith("Tool weather failed: ") and "invalid JSON" in chat[2]["content"]


def test_plain_conversation_has_no_tool_protocol() -> None:
    messages = [ModelRequest(parts=[UserPromptPart("hi")]), ModelResponse(parts=[TextPart("hello")])]
    messages.append(ModelRequest(parts=[UserPromptPart("bye")]))
    assert to_chat(messages, None, []) == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "bye"},
    ]
