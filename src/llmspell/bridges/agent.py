"""``agent``: the handle ``llm.agent`` returns -- run it, see everything it did, use it as a tool.

The agent itself is :mod:`llmspell.agents` (pydantic-ai's ``Agent`` on the
run's model, tools and account); this handle holds its definition and only
converts: options in, the answer or the run's record out.
"""

from __future__ import annotations

from typing import Annotated, Any

from ..agents import AgentDefinition, register_agent_tool, run_agent
from ..agents.history import from_script
from ..values import HostHandle
from .base import Bridge, Options, method


class RunOptions(Options):
    history: Annotated[list[Any] | None, "the messages of an earlier result (run_full), to continue it"] = None


class AgentUsage(Options):
    input_tokens: int
    output_tokens: int
    total_tokens: int
    requests: int
    tool_calls: int
    cost: Annotated[float | None, "USD, where every model's price is known"]


class ToolCall(Options):
    name: str
    input: Any
    output: Any
    success: bool
    duration_ms: float


class RunResult(Options):
    output: Annotated[Any, "the answer: text, or the structured value"]
    messages: Annotated[list[Any], "the whole conversation, to give back as opts.history"]
    usage: AgentUsage
    tool_calls: list[ToolCall]


class AgentHandle(Bridge):
    """An agent, as ``llm.agent`` returns it."""

    name = "agent"

    def __init__(self, host: Any, definition: AgentDefinition) -> None:
        super().__init__(host)
        self.definition = definition
        #: The name this agent has as a tool, once it is one.
        self.tool_name: str | None = None

    def script_attributes(self) -> dict[str, Any]:
        return {"name": self.definition.shown_name}

    async def _run(self, where: str, prompt: str, opts: RunOptions | None) -> Any:
        history = from_script(opts.history, where) if opts is not None and opts.history is not None else None
        return await run_agent(self.host.services, self.definition, prompt, where=where, history=history,
                               filename=self.host.filename)

    @method
    async def run(self, prompt: Annotated[str, "what to ask"],
                  opts: Annotated[RunOptions | None, "history"] = None) -> Any:
        """Run the agent (model calls and tool calls until a final answer); returns the text, or the
        structured value when output_schema is set."""
        return (await self._run("agent:run", prompt, opts)).output

    @method
    async def run_full(self, prompt: Annotated[str, "what to ask"],
                       opts: Annotated[RunOptions | None, "history"] = None) -> RunResult:
        """As run, returning {output, messages, usage, tool_calls}: messages continue the conversation as
        opts.history; usage counts tokens, requests, tool calls and cost (USD, nil where unknown)."""
        return (await self._run("agent:run_full", prompt, opts)).full()

    @method
    def as_tool(self, name: Annotated[str | None, "the tool's name (default: the agent's name)"] = None,
                description: Annotated[str | None, "what the tool does, for a model"] = None) -> HostHandle:
        """This agent as a tool of another agent (it takes one prompt; its answer is the result)."""
        from .tools import ToolHandle, ToolsBridge

        return ToolHandle(self.host, self.register_tool("agent:as_tool", name, description,
                                                        ToolsBridge.specs)).handle()

    def register_tool(self, where: str, name: str | None, description: str | None, reserved: Any) -> str:
        """Register this agent as a tool of the run (once under each name); returns the tool's name."""

        async def ask(prompt: str) -> Any:
            return (await run_agent(self.host.services, self.definition, prompt, where=where,
                                    filename=self.host.filename)).output

        tool = register_agent_tool(self.host.services.tools, self.definition, ask, name=name,
                                   description=description, where=where, reserved=reserved)
        self.tool_name = self.tool_name or tool
        return tool
