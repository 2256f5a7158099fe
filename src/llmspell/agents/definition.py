"""What a spell says an agent is: checked once, when ``llm.agent`` makes it.

A definition is plain data -- names of tools (not the tools: a tool a spell
registers again later is the one the agent calls), a JSON Schema, numbers --
so a run (:mod:`.run`) can build a fresh pydantic-ai ``Agent`` from it each
time, and an agent used as a tool (:mod:`.subagent`) carries nothing of the
VM that made it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llmspell.errors import SpellError

#: Output validation retries when the spell gives none (API.md: ``opts.retries``, default 2).
DEFAULT_RETRIES = 2


@dataclass(frozen=True)
class AgentDefinition:
    """One agent: its model, instructions, tools (by name in the run's tools) and answer's shape."""

    #: The name events and an agent-as-tool carry; ``None``: "agent".
    name: str | None = None
    #: A model name or a fallback list; ``None``: the run's default model.
    model: str | list[str] | None = None
    #: The system instructions.
    system: str | None = None
    #: Names of the run's tools the model may call.
    tools: tuple[str, ...] = ()
    #: A JSON Schema the answer must be valid against; ``None``: the answer is text.
    output_schema: Mapping[str, Any] | None = None
    #: The most model requests one run of the agent may make; ``None``: only the run's own limit.
    max_steps: int | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    stop: list[str] | None = None
    #: How often an answer that is not valid against ``output_schema`` is sent back to the model.
    retries: int = DEFAULT_RETRIES
    #: What the agent does, for a model deciding to call it as a tool.
    description: str = ""
    #: The pydantic-ai agent built for it, kept by :mod:`.build` (not part of what the agent is).
    built: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def shown_name(self) -> str:
        return self.name or "agent"

    @classmethod
    def make(cls, where: str, *, tools: Sequence[str] = (), output_schema: Mapping[str, Any] | None = None,
             **fields: Any) -> AgentDefinition:
        """A definition from the spell's options; ``invalid_argument`` (starting with ``where``)
        for an ``output_schema`` that is not a JSON Schema or a tool named twice."""
        if output_schema is not None:
            from .output import check_schema

            check_schema(output_schema, f"{where}: output_schema")
        seen: set[str] = set()
        for name in tools:
            if name in seen:
                raise SpellError("invalid_argument", f"{where}: the tool {name!r} is given twice")
            seen.add(name)
        return cls(tools=tuple(tools), output_schema=output_schema, **fields)
