"""The pydantic-ai ``Agent`` of a definition: built once, reused by every run while its tools are the same.

Building an ``Agent`` costs about as much as a short run itself (its
capabilities, toolsets and output schema are assembled each time), so a
definition keeps the one it built, keyed by the tools it was built with: a
tool registered again under the same name is a new tool, and the next run
builds again.  Everything that belongs to one run -- its record of tool
calls, the last reason a structured answer was refused -- is the run's
``deps`` (:class:`RunState`), never the agent's, so two runs of one agent at
once keep apart.  The model is given to each run (``agent.run(model=...)``),
as the run's model service resolves it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .output import StructuredOutput
from .record import RunRecord
from .toolset import agent_tools

if TYPE_CHECKING:
    from llmspell.tools.service import ToolService

    from .definition import AgentDefinition


@dataclass
class RunState:
    """What one run of an agent keeps (pydantic-ai's ``deps`` of the run)."""

    record: RunRecord
    #: The last reason a structured answer was refused (``None``: none was).
    last_failure: str | None = None


def agent_for(definition: AgentDefinition, tools: ToolService, max_result: int | None,
              timeout: float | None) -> tuple[Any, StructuredOutput | None]:
    """The agent of ``definition`` with the run's tools as they are now, and its structured output."""
    specs = tuple(tools.get(name) for name in definition.tools)  # held, so no id is reused while cached
    key = (max_result, timeout)
    cached = definition.built.get("agent")
    if (cached is not None and cached[0] == key and len(cached[1]) == len(specs)
            and all(a is b for a, b in zip(cached[1], specs, strict=True))):
        return cached[2], cached[3]
    agent, structured = _build(definition, tools, max_result, timeout)
    definition.built["agent"] = (key, specs, agent, structured)
    return agent, structured


def _build(definition: AgentDefinition, tools: ToolService, max_result: int | None,
           timeout: float | None) -> tuple[Any, StructuredOutput | None]:
    from pydantic_ai import Agent, ModelRetry, RunContext

    structured = StructuredOutput(definition.output_schema) if definition.output_schema is not None else None
    agent: Agent[RunState, Any] = Agent(
        None,
        deps_type=RunState,
        output_type=structured.output_type() if structured else str,
        system_prompt=definition.system or (),
        name=definition.shown_name,
        tools=agent_tools(tools, definition.tools, max_result),
        retries={"tools": 2, "output": definition.retries},
        model_settings=agent_settings(definition, timeout),
    )
    if structured is not None:
        def validate(ctx: RunContext[RunState], data: Any) -> Any:
            value, failure = structured.check(data)
            if failure is not None:
                ctx.deps.last_failure = failure
                raise ModelRetry(f"the answer is not valid against the schema: {failure}")
            return value

        agent.output_validator(validate)
    return agent, structured


def agent_settings(definition: AgentDefinition, timeout: float | None) -> dict[str, Any]:
    """pydantic-ai's model settings of ``definition``'s requests (``timeout``: the run's)."""
    from llmspell.models.calls import model_settings

    return model_settings(temperature=definition.temperature, max_tokens=definition.max_tokens,
                          stop=definition.stop, timeout=timeout)
