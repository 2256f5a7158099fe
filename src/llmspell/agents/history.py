"""An agent run's messages as a spell holds them, and back (``opts.history``).

A spell gets the messages of a run as plain data -- pydantic-ai's own JSON
form (``ModelMessagesTypeAdapter``), without its empty fields, so the three
languages see the same -- and may give them back to continue the
conversation.  What comes back is the spell's to forge, so it is validated
with the same adapter and, beyond that, may hold only what a conversation is
made of (text, tool calls and their returns, retries): no file or URL parts
the runtime or a provider would fetch, no provider-side tool parts.  Anything
else is ``invalid_argument`` naming the place.
"""

from __future__ import annotations

from typing import Any

from llmspell.errors import SpellError

#: The parts a history given back may hold, by message kind.
_ALLOWED_PARTS = {
    "request": {"system-prompt", "user-prompt", "tool-return", "retry-prompt"},
    "response": {"text", "tool-call", "thinking"},
}
_TAGS = {*_ALLOWED_PARTS, *(kind for kinds in _ALLOWED_PARTS.values() for kind in kinds)}
#: Messages a history may hold (a conversation far longer is not one a model could read anyway).
MAX_MESSAGES = 10_000


def to_script(messages: list[Any]) -> list[Any]:
    """``messages`` (pydantic-ai's) as plain JSON-like data."""
    from pydantic_ai.messages import ModelMessagesTypeAdapter

    return ModelMessagesTypeAdapter.dump_python(messages, mode="json", exclude_none=True)


def from_script(data: Any, where: str) -> list[Any]:
    """The messages a spell gave back as ``history``; ``invalid_argument`` naming what is wrong."""
    from pydantic import ValidationError
    from pydantic_ai.messages import ModelMessagesTypeAdapter

    if not isinstance(data, list):
        raise SpellError("invalid_argument", f"{where}: history must be the messages of an earlier result")
    if len(data) > MAX_MESSAGES:
        raise SpellError("invalid_argument", f"{where}: history has more than {MAX_MESSAGES} messages")
    for index, message in enumerate(data):
        parts = message.get("parts") if isinstance(message, dict) else None
        allowed = _ALLOWED_PARTS.get(message.get("kind")) if isinstance(message, dict) else None
        if allowed is None or not isinstance(parts, list):
            raise SpellError("invalid_argument", f"{where}: history[{index}] is not a message of an earlier "
                             "result (give back result.messages as it is)")
        for p, part in enumerate(parts):
            kind = part.get("part_kind") if isinstance(part, dict) else None
            if kind not in allowed:
                shown = repr(kind)[:40] if isinstance(kind, str) else "an unknown"
                raise SpellError("invalid_argument", f"{where}: history[{index}].parts[{p}] is {shown} part, "
                                 "which a history may not hold")
            if kind == "user-prompt" and not isinstance(part.get("content"), str):
                raise SpellError("invalid_argument", f"{where}: history[{index}].parts[{p}].content must be "
                                 "text")
    try:
        return ModelMessagesTypeAdapter.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        steps = [s for s in first["loc"] if s not in _TAGS]  # pydantic names the union member it tried
        loc = "".join(f"[{s}]" if isinstance(s, int) else f".{s}" for s in steps)
        raise SpellError("invalid_argument", f"{where}: history{loc[:80]}: {first['msg'][:120]}") from None
