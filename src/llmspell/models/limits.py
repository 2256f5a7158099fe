"""The prompt-size limit: what a spell may send to a model in one call.

A spell builds its prompt from whatever it reads, and every byte of it goes
to a provider the operator pays for (or a local model that must fit it in
memory).  ``max_prompt`` (a policy limit, ``--max-prompt SIZE``) caps the UTF-8
size of everything one call sends -- the prompt, every message and the system
instructions -- and is checked before any request is built.
"""

from __future__ import annotations

from llmspell.errors import SpellError


def prompt_size(*texts: str | None, limit: int | None = None) -> tuple[int, bool]:
    """``(UTF-8 bytes of texts, exact)``.  Past ``limit`` the count stops early, without
    encoding a huge string: it is then a lower bound (``exact`` false) that is over the limit."""
    total = 0
    for text in texts:
        if not text:
            continue
        if limit is not None and total + len(text) > limit:  # at least one byte per character
            return total + len(text), False
        total += len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    return total, True


def check_prompt_size(what: str, limit: int | None, *texts: str | None) -> None:
    """Raise ``limit_exceeded`` if ``texts`` together are larger than ``limit`` bytes."""
    if limit is None:
        return
    size, exact = prompt_size(*texts, limit=limit)
    if size > limit:
        raise SpellError(
            "limit_exceeded",
            f"{what}: the prompt (prompt, messages and system together) is {'' if exact else 'at least '}"
            f"{size} bytes, more than the limit of {limit} bytes",
            hint="send less, or raise the limit with --max-prompt SIZE (max_prompt in [sandbox])",
        )


def message_texts(messages: list) -> list[str]:
    """Every text of pydantic-ai ``messages`` that counts toward the prompt: parts' string content
    (and the strings of a list of content), and instructions."""
    texts: list[str] = []
    for message in messages:
        for part in message.parts:
            content = getattr(part, "content", None)
            if isinstance(content, str):
                texts.append(content)
            elif isinstance(content, list | tuple):
                texts.extend(item for item in content if isinstance(item, str))
        instructions = getattr(message, "instructions", None)
        if isinstance(instructions, str):
            texts.append(instructions)
    return texts
