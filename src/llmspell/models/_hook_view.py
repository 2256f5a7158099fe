"""A model request and its answer as hooks see them, and a hook's changes made back into them.

pydantic-ai's messages (requests of parts, responses of parts) become API.md's
shape: ``{model, messages = {{role, content}, ...}, temperature, max_tokens,
stop}`` for ``beforeGenerate`` and ``{content, model, finish_reason, usage,
tool_calls}`` for ``afterGenerate``.  A message that is not text (an agent's
tool call, a tool's result, a retry prompt, a model's thinking) is shown too,
``{role, content, tool = ...}``, so a hook sees the whole conversation; such a
message may be kept where it is or dropped, and only text messages may be
added or changed.  What a hook returns is checked here, field by field, with
errors that name the field; the request that goes out is rebuilt from the
original parts wherever the hook left them as they were.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from typing import Any

from llmspell.errors import SpellError
from llmspell.wellformed import well_formed

#: The request fields ``beforeGenerate`` may change.
CHANGEABLE = ("messages", "temperature", "max_tokens", "stop")
_TEXT_ROLES = ("system", "user", "assistant")


def _invalid(hook: str, text: str) -> SpellError:
    return SpellError("invalid_argument", f"{hook}: {text}")


def _shown(value: Any) -> str:
    from llmspell.bridges.base import describe_value

    return describe_value(value)


# -- the request -----------------------------------------------------------------------------------

def message_items(messages: list[Any]) -> list[tuple[dict[str, Any], Any]]:
    """Each part of ``messages`` as ``(what a hook sees, the part)``, in order."""
    from pydantic_ai.messages import (
        ModelRequest,
        RetryPromptPart,
        SystemPromptPart,
        TextPart,
        ThinkingPart,
        ToolCallPart,
        ToolReturnPart,
        UserPromptPart,
    )

    out: list[tuple[dict[str, Any], Any]] = []
    for message in messages:
        for part in message.parts:
            if isinstance(part, SystemPromptPart):
                item = {"role": "system", "content": well_formed(part.content)}
            elif isinstance(part, UserPromptPart):
                item = {"role": "user", "content": _user_text(part)}
            elif isinstance(part, ToolReturnPart):
                item = {"role": "tool", "tool": part.tool_name, "content": well_formed(part.model_response_str())}
            elif isinstance(part, RetryPromptPart):
                item = {"role": "tool" if part.tool_name else "user", "content": well_formed(part.model_response())}
                if part.tool_name:
                    item["tool"] = part.tool_name
            elif isinstance(part, TextPart):
                item = {"role": "assistant", "content": well_formed(part.content)}
            elif isinstance(part, ToolCallPart):
                item = {"role": "assistant", "content": "", "tool": part.tool_name,
                        "arguments": part.args_as_dict()}
            elif isinstance(part, ThinkingPart):
                item = {"role": "assistant", "content": "", "thinking": well_formed(part.content)}
            else:
                side = "user" if isinstance(message, ModelRequest) else "assistant"
                item = {"role": side, "content": "", "kind": str(getattr(part, "part_kind", "other"))}
            out.append((item, part))
    return out


def _user_text(part: Any) -> str:
    content = part.content
    if isinstance(content, str):
        return well_formed(content)
    return well_formed("".join(c for c in content if isinstance(c, str)))


def user_text(messages: list[Any]) -> str | None:
    """The user's text in the newest request (what an input guardrail checks), ``None`` when it has
    none (an agent's request that only carries tool results)."""
    from pydantic_ai.messages import ModelRequest, UserPromptPart

    last = messages[-1] if messages else None
    if not isinstance(last, ModelRequest):
        return None
    texts = [_user_text(p) for p in last.parts if isinstance(p, UserPromptPart)]
    return "\n".join(texts) if texts else None


def request_view(messages: list[Any], settings: Mapping[str, Any] | None, model: Any) -> dict[str, Any]:
    """What ``beforeGenerate`` and the ``llm.request`` event see of one request."""
    settings = settings or {}
    return {
        "model": model,
        "messages": [dict(item) for item, _ in message_items(messages)],
        "temperature": settings.get("temperature"),
        "max_tokens": settings.get("max_tokens"),
        "stop": list(settings["stop_sequences"]) if settings.get("stop_sequences") else None,
    }


def apply_request(hook: str, changed: Any, view: dict[str, Any], messages: list[Any],
                  settings: Mapping[str, Any] | None) -> tuple[list[Any], dict[str, Any] | None]:
    """The messages and settings to send after ``hook`` returned ``changed`` for ``view`` (made from
    ``messages`` and ``settings``); a field left out, or as it was, stays as it was."""
    if not isinstance(changed, dict):
        raise _invalid(hook, f"must return the request (a table) or nothing, not {_shown(changed)}")
    unknown = sorted(set(changed) - set(view))
    if unknown:
        raise _invalid(hook, f"{unknown[0]!r} is not a field of the request (fields: {', '.join(view)})")
    if "model" in changed and changed["model"] != view["model"]:
        raise _invalid(hook, f"model cannot be changed here (a hook may change {', '.join(CHANGEABLE)})")
    out_settings = dict(settings or {})
    if changed.get("temperature") is not None and changed["temperature"] != view["temperature"]:
        value = changed["temperature"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 2:
            raise _invalid(hook, f"temperature must be a number from 0 to 2, not {_number_or(value)}")
        out_settings["temperature"] = float(value)
    if changed.get("max_tokens") is not None and changed["max_tokens"] != view["max_tokens"]:
        value = changed["max_tokens"]
        whole = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) \
            and value == int(value)
        if not whole or value < 1:
            raise _invalid(hook, f"max_tokens must be a whole number above 0, not {_number_or(value)}")
        out_settings["max_tokens"] = int(value)
    if changed.get("stop") is not None and changed["stop"] != view["stop"]:
        value = changed["stop"]
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
            raise _invalid(hook, f"stop must be a string or a list of strings, not {_shown(value)}")
        out_settings["stop_sequences"] = value
    out_messages = messages
    if changed.get("messages") is not None and changed["messages"] != view["messages"]:
        out_messages = _rebuild(hook, changed["messages"], messages)
    return out_messages, (out_settings if out_settings or settings is not None else None)


def _number_or(value: Any) -> str:
    return repr(value) if isinstance(value, int | float) and not isinstance(value, bool) else _shown(value)


def _rebuild(hook: str, items: Any, messages: list[Any]) -> list[Any]:
    """Messages from a hook's list: each item a text message (new or as it was) or one of the original
    other parts, kept as it was; the parts grouped into requests and responses in order."""
    from pydantic_ai.messages import ModelRequest, ModelResponse, SystemPromptPart, TextPart, UserPromptPart

    if not isinstance(items, list) or not items:
        raise _invalid(hook, f"messages must be a non-empty list, not {_shown(items)}")
    originals = message_items(messages)
    unused = list(range(len(originals)))
    groups: list[tuple[bool, list[Any]]] = []  # (is a request, parts)
    for index, item in enumerate(items, start=1):
        where = f"messages[{index}]"
        if not isinstance(item, dict):
            raise _invalid(hook, f"{where} must be a table with role and content, not {_shown(item)}")
        found = next((i for i in unused if originals[i][0] == item), None)
        if found is not None:
            unused.remove(found)
            part = originals[found][1]
        else:
            role, content = item.get("role"), item.get("content")
            extra = sorted(set(item) - {"role", "content"})
            if extra or role not in _TEXT_ROLES:
                raise _invalid(hook, f"{where} is not one of the request's messages: a message may be added or "
                               f"changed only as {{role, content}} with role {', '.join(_TEXT_ROLES)}")
            if not isinstance(content, str):
                raise _invalid(hook, f"{where}.content must be a string, not {_shown(content)}")
            part = (SystemPromptPart(content) if role == "system" else UserPromptPart(content) if role == "user"
                    else TextPart(content))
        is_request = _is_request_part(part)
        if groups and groups[-1][0] == is_request:
            groups[-1][1].append(part)
        else:
            groups.append((is_request, [part]))
    if not groups[-1][0]:
        raise _invalid(hook, "the last message must be from the user, the system or a tool, not the assistant")
    by_parts = {tuple(map(id, m.parts)): m for m in messages}
    last_request = next((m for m in reversed(messages) if isinstance(m, ModelRequest)), None)
    out: list[Any] = []
    for is_request, parts in groups:
        same = by_parts.get(tuple(map(id, parts)))
        if same is not None:
            out.append(same)
        elif is_request:
            out.append(ModelRequest(parts=parts))
        else:
            out.append(ModelResponse(parts=parts))
    if last_request is not None and last_request.instructions and out[-1] is not last_request:
        out[-1] = dataclasses.replace(out[-1], instructions=last_request.instructions)
    return out


def _is_request_part(part: Any) -> bool:
    from pydantic_ai.messages import RetryPromptPart, SystemPromptPart, ToolReturnPart, UserPromptPart

    return isinstance(part, SystemPromptPart | UserPromptPart | ToolReturnPart | RetryPromptPart)


# -- the answer ------------------------------------------------------------------------------------

def answer_content(response: Any) -> str:
    """The text of a response (its text parts, joined)."""
    from pydantic_ai.messages import TextPart

    return well_formed("".join(p.content for p in response.parts if isinstance(p, TextPart)))


def response_view(response: Any, model: str) -> dict[str, Any]:
    """What ``afterGenerate`` and the ``llm.response`` event see of one answer."""
    from pydantic_ai.messages import ToolCallPart

    usage = response.usage
    input_tokens, output_tokens = int(usage.input_tokens or 0), int(usage.output_tokens or 0)
    view: dict[str, Any] = {
        "content": answer_content(response),
        "model": model,
        "finish_reason": response.finish_reason or "stop",
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens,
                  "total_tokens": input_tokens + output_tokens},
    }
    calls = [{"name": p.tool_name, "arguments": p.args_as_dict()} for p in response.parts
             if isinstance(p, ToolCallPart)]
    if calls:
        view["tool_calls"] = calls
    return view


def apply_response(hook: str, changed: Any, view: dict[str, Any], response: Any) -> Any:
    """``response`` with the content ``hook`` returned in ``changed``; only the content may change."""
    from pydantic_ai.messages import TextPart

    if not isinstance(changed, dict):
        raise _invalid(hook, f"must return the response (a table) or nothing, not {_shown(changed)}")
    for key, value in changed.items():
        if key == "content":
            continue
        if key not in view:
            raise _invalid(hook, f"{key!r} is not a field of the response (fields: {', '.join(view)})")
        if not _same(value, view[key]):
            raise _invalid(hook, f"{key} cannot be changed (a hook may change the content only)")
    content = changed.get("content")
    if content is None or content == view["content"]:
        return response
    if not isinstance(content, str):
        raise _invalid(hook, f"content must be a string, not {_shown(content)}")
    parts: list[Any] = []
    placed = False
    for part in response.parts:
        if isinstance(part, TextPart):
            if not placed:
                parts.append(TextPart(content))
                placed = True
        else:
            parts.append(part)
    if not placed:
        parts.insert(0, TextPart(content))
    return dataclasses.replace(response, parts=parts)


def _same(a: Any, b: Any) -> bool:
    """Equal as data: a whole float is its integer (JavaScript has one number type)."""
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str) or a == b


def answer_text(response: Any, output_tools: set[str]) -> str | None:
    """The answer an output guardrail checks: the response's text, and the arguments of a call of an
    output tool (an agent's structured answer) as JSON; ``None`` when the response only calls tools."""
    from pydantic_ai.messages import TextPart, ToolCallPart

    pieces = [p.content for p in response.parts if isinstance(p, TextPart) and p.content]
    pieces += [json.dumps(p.args_as_dict(), ensure_ascii=False, sort_keys=True) for p in response.parts
               if isinstance(p, ToolCallPart) and p.tool_name in output_tools]
    return well_formed("\n".join(pieces)) if pieces else None
