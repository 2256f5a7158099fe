"""What the embedded model may answer to a request with tools or an output schema, and reading it back.

SmolLM2-135M cannot be trusted to choose well between calling a tool and
answering, so the choice is narrowed by a policy and the form is then enforced
by a grammar (:mod:`._local_grammar`).  The policy, per turn (the messages
since the last user prompt):

1. Function tools are offered and no tool has answered yet in this turn: the
   answer must be a call of one of them.  (An agent is given tools to use
   them; left free, the small model answers from thin air.)  A call that
   failed (a retry prompt: bad arguments, a handler's error) is tried again,
   up to :data:`MAX_TOOL_ROUNDS` calls in the turn.
2. Once a tool has answered in this turn (or after those rounds): the final
   answer, and only that.  Offered a choice, the small model goes on calling
   tools it does not need with arguments made up from the last result, and
   never answers; one tool round per turn is what it can use well.  A
   conversation continued with ``history`` starts a new turn.

The final answer is what the request's output allows: plain text, a JSON
object following the output schema (``native``/``prompted`` output), or a
call of an output tool (``tool`` output).  Once a request has tools, plain
text is held by the grammar too, to text that does not start with ``{``:
having seen its own calls in the history, the model otherwise writes more of
them as text.  A request with neither tools nor an output schema is not
constrained at all.

One call per answer; its arguments follow the tool's schema by grammar, and
generation stays bounded by ``max_tokens``: a call cut short by it comes back
as a call whose arguments are not valid JSON, which pydantic-ai sends back to
the model as a retry.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from pydantic_ai import messages as _messages
from pydantic_ai.messages import (
    ModelRequest,
    ModelResponse,
    TextPart,
    ToolCallPart,
    ToolReturnPart,
    UserPromptPart,
)
from pydantic_ai.models import ModelRequestParameters
from pydantic_ai.tools import ToolDefinition

from llmspell.models._local_grammar import Alternative, answer_grammar

#: Tool calls the local model may make in one turn (a failed call is tried again) before it must answer.
MAX_TOOL_ROUNDS = 3

_CALL_HEAD = re.compile(r'\{"tool": "((?:[^"\\]|\\.)*)("?)(?:, "arguments": )?', re.S)


@dataclass
class AnswerShape:
    """The forms the next answer may take (see the module docstring)."""

    calls: list[ToolDefinition] = field(default_factory=list)  # function tools it may call now
    outputs: list[ToolDefinition] = field(default_factory=list)  # output tools (a final answer)
    output_schema: dict[str, Any] | None = None  # a final answer as a JSON object
    schema_told: bool = False  # pydantic-ai's own instructions give the model that schema ("prompted" output)
    text: bool = True  # a final answer as plain text
    tool_required: bool = False
    guarded: bool = False  # the request has tools: text too is held by the grammar

    @property
    def constrained(self) -> bool:
        return bool(self.calls or self.outputs or self.output_schema is not None or self.guarded)

    def alternatives(self) -> list[Alternative]:
        found = [Alternative(t.name, t.parameters_json_schema, f"tool {t.name!r}") for t in self.calls]
        found += [Alternative(t.name, t.parameters_json_schema, f"output tool {t.name!r}") for t in self.outputs]
        if self.output_schema is not None:
            found.append(Alternative(None, self.output_schema, "the output schema"))
        if self.text:
            found.append(Alternative(None, None))
        return found

    def grammar(self) -> str | None:
        """The GBNF grammar for the answer, or ``None`` when the answer is free text."""
        return answer_grammar(self.alternatives()) if self.constrained else None


#: How pydantic-ai opens the retry feedback it sends in the user's voice (an answer it could not use):
#: such a prompt continues the turn, it does not start one.
_FEEDBACK = getattr(_messages, "_RETRY_FEEDBACK_FRAMING", "Your previous response failed the application's validation")


def _asks(part: Any) -> bool:
    """Whether ``part`` is the user asking (a new turn), not pydantic-ai's feedback on an answer."""
    if not isinstance(part, UserPromptPart):
        return False
    return not (isinstance(part.content, str) and part.content.startswith(_FEEDBACK))


def _current_turn(messages: list[Any]) -> list[Any]:
    for index in range(len(messages) - 1, -1, -1):
        message = messages[index]
        if isinstance(message, ModelRequest) and any(_asks(p) for p in message.parts):
            return messages[index + 1:]
    return list(messages)


def answer_shape(messages: list[Any], params: ModelRequestParameters) -> AnswerShape:
    """What the model may answer now, from the request's tools and output and this turn's history."""
    tools = [t for t in params.function_tools if params.visibility_of(t.name) != "withheld"]
    outputs = list(params.output_tools)
    output_schema = None
    if params.output_mode in ("native", "prompted") and params.output_object is not None:
        output_schema = params.output_object.json_schema
    text = params.allow_text_output and output_schema is None
    answered = False
    rounds = 0
    for message in _current_turn(messages):
        if isinstance(message, ModelResponse):
            rounds += any(isinstance(p, ToolCallPart) for p in message.parts)
        else:
            # A call retried (bad arguments, ModelRetry) has not answered; one that failed for good has.
            answered = answered or any(isinstance(p, ToolReturnPart) and p.outcome != "retried"
                                       for p in message.parts)
    final = AnswerShape(outputs=outputs, output_schema=output_schema, text=text, guarded=bool(tools),
                        schema_told=params.output_mode == "prompted")
    if not (outputs or output_schema is not None or text):
        final.text = True  # no final answer it can write (an image output): text, for the agent to refuse
    if tools and not answered and rounds < MAX_TOOL_ROUNDS:
        return AnswerShape(calls=tools, text=False, tool_required=True)
    return final


def _compact(schema: Any) -> str:
    """A schema in the prompt: no spaces between tokens, as the prompt's every token is read on a small CPU."""
    return json.dumps(schema, separators=(",", ":"), ensure_ascii=False)


def protocol(shape: AnswerShape) -> str | None:
    """The system prompt's part that tells the model what it may answer (the grammar holds it to it)."""
    if not shape.constrained:
        return None
    lines: list[str] = []
    if shape.guarded and not shape.tool_required:
        lines.append("Answer the user with what the tools returned.")
    callable_ = [*shape.calls, *shape.outputs]
    if callable_:
        lines.append("Tools:")
        lines += [f"- {t.name}: {t.description or ''} Arguments: {_compact(t.parameters_json_schema)}"
                  for t in callable_]
        lines.append('To call a tool, reply with only {"tool": "<name>", "arguments": {...}}.')
    if shape.tool_required:
        lines.append("Call the tool that gets what the user asks for.")
        return "\n".join(lines)
    if shape.output_schema is not None and not shape.schema_told:
        lines.append(f"Give your final answer as a JSON object following this schema: "
                     f"{_compact(shape.output_schema)}")
    elif shape.outputs and not shape.text:
        lines.append(f"Give your final answer by calling {' or '.join(t.name for t in shape.outputs)}.")
    return "\n".join(lines)


def read_answer(text: str, shape: AnswerShape, finish: str) -> tuple[Any, str]:
    """The model's reply as one pydantic-ai part, with the finish reason to report."""
    if not shape.constrained or not text.lstrip().startswith("{"):
        return TextPart(text), finish
    names = {t.name for t in (*shape.calls, *shape.outputs)}
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    if isinstance(data, dict) and data.keys() == {"tool", "arguments"} and data["tool"] in names \
            and isinstance(data["arguments"], dict):
        return _call(data["tool"], data["arguments"]), "tool_call"
    head = _CALL_HEAD.match(text.lstrip()) if names else None
    if data is None and head is not None:
        # A call cut short (max_tokens): its arguments are not JSON, which the agent sends back as a retry.
        try:
            name = json.loads(f'"{head.group(1)}"')
        except ValueError:
            name = head.group(1)
        return _call(name, text.lstrip()[head.end():] or "{"), finish
    return TextPart(text), finish


def _call(name: str, args: dict[str, Any] | str) -> ToolCallPart:
    return ToolCallPart(tool_name=name, args=args, tool_call_id=f"local_{uuid.uuid4().hex[:24]}")
