"""An agent used as a tool of another (``agent:as_tool()``, or an agent in ``tools``).

The sub-agent becomes a registered tool of the run, taking one ``prompt``, so
its calls go the one road every tool call takes (``ToolService.call``: found,
permitted, validated, observed) and a spell may call it with ``tools.NAME``
too.  Its answer is the tool's result.  An agent that reaches itself through
its tools (directly or around a ring) is stopped by the depth limit of
:mod:`.run`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any

from llmspell.errors import SpellError

from .definition import AgentDefinition

if TYPE_CHECKING:
    from llmspell.tools.service import ToolService

_TOOL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")

#: The parameters of an agent used as a tool.
PARAMETERS = {
    "type": "object",
    "properties": {"prompt": {"type": "string", "description": "what to ask the agent"}},
    "required": ["prompt"],
    "additionalProperties": False,
}


def register_agent_tool(tools: ToolService, definition: AgentDefinition, run: Callable[[str], Any], *,
                        name: str | None, description: str | None, where: str,
                        reserved: Collection[str] = ()) -> str:
    """Register the agent ``definition`` as a tool called ``name`` (default: the agent's name) whose
    function awaits ``run(prompt)``; returns the tool's name."""
    name = name or definition.name
    if not name:
        raise SpellError("invalid_argument", f"{where}: give the tool a name (or the agent one: llm.agent "
                         "with name)")
    if not _TOOL_NAME.fullmatch(name):
        raise SpellError("invalid_argument", f"{where}: a tool's name is 1 to 64 letters, digits, _ and -, "
                         f"not {name[:80]!r}")
    text = description or definition.description or f"Ask the agent {name}; it answers the prompt."

    async def call(params: dict[str, Any]) -> Any:
        return await run(params["prompt"])

    tools.register(name, text, PARAMETERS, call, where=where, reserved=reserved)
    return name
