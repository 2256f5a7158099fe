"""``workflow``: steps (agents, tools, functions, other workflows) run in order, at once, on a condition or in a loop.

``workflow.create`` and ``workflow.from_table`` return a workflow object; its
methods convert the spell's values (an agent, a tool or a workflow object
becomes what it stands for) and delegate to :mod:`llmspell.workflows`, where
the checks, the templates, the runners and the events are.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field

from ..errors import SpellError
from ..values import HostHandle, ScriptFunction
from ..workflows import Workflow, WorkflowRunner, to_mermaid
from ..workflows.definition import MAX_ITERATIONS, MAX_RETRIES, MAX_STEPS, Step
from .base import Bridge, Options, method


class WorkflowOptions(Options):
    name: Annotated[str | None, "the workflow's name (events, errors, the result)"] = None
    type: Annotated[Literal["sequential", "parallel", "conditional", "loop"] | None,
                    "how its steps run (default sequential)"] = None
    max_concurrency: Annotated[int | None, Field(ge=1, le=MAX_STEPS),
                               "parallel: the most steps running at once (default all; the sandbox's "
                               "max_concurrent caps it)"] = None
    max_iterations: Annotated[int | None, Field(ge=1, le=MAX_ITERATIONS),
                              "loop (required): the most times its steps run"] = None
    until: Annotated[ScriptFunction | None, "loop (required): until(ctx) ends the loop when it returns true (in Lua "
                                                 "until is a keyword: write [\"until\"] = ...)"] = None
    description: Annotated[str | None, "what the workflow does"] = None


class StepOptions(Options):
    name: Annotated[str, "the step's name: its key in the result and in templates ({{name.output}})"]
    agent: Annotated[Any, "an agent (llm.agent), or its definition as a table"] = None
    prompt: Annotated[str | None, "the agent's prompt: a template of expressions ({{topic}}, {{search.output}}, "
                      "{{notes.output.tags[0]}}: lists count from 0 in every language)"] = None
    tool: Annotated[Any, "a tool's name, or a tool object"] = None
    params: Annotated[dict[str, Any] | None, "the tool's parameters; strings in it are templates (one lone "
                      "{{expression}} keeps its value's type)"] = None
    fn: Annotated[ScriptFunction | None, "fn(ctx): the context (inputs and earlier steps) in, the output out"] = None
    workflow: Annotated[Any, "a nested workflow (or its table)"] = None
    condition: Annotated[ScriptFunction | None, "condition(ctx) -> boolean: the step runs only when true"] = None
    on_error: Annotated[Literal["fail", "continue", "retry"] | None,
                        "when the step fails: fail the workflow (default), record it and go on, or retry"] = None
    retries: Annotated[int | None, Field(ge=0, le=MAX_RETRIES), "retry: how many times (default 2)"] = None
    backoff_ms: Annotated[float | None, Field(ge=0), "retry: the first wait, doubled each time (default 100)"] = None


class StepResult(Options):
    output: Any
    status: Annotated[str, "completed, failed or skipped"]
    duration_ms: float
    error: Annotated[dict[str, Any] | None, "{kind, message} of a failed step"]
    attempts: Annotated[int, "how many times the step's action ran"]


class WorkflowRunResult(Options):
    output: Annotated[Any, "the last step's output (parallel: a table of every step's output by name)"]
    steps: dict[str, StepResult]
    iterations: Annotated[int | None, "loop: how many times its steps ran"] = None


def _definition(where: str, value: Any, kind: type[Bridge]) -> Any:
    """The thing a handle in a step stands for, or the value as it is."""
    if isinstance(value, HostHandle):
        if not isinstance(value.bridge, kind):
            want = "an agent" if kind.name == "agent" else "a workflow"
            got = ("an " if value.type_name[:1] in "aeiou" else "a ") + value.type_name
            raise SpellError("invalid_argument", f"{where} must be {want}, not {got}")
        return value.bridge.definition if kind.name == "agent" else value.bridge.workflow
    return value


def _step_table(where: str, step: Mapping[str, Any]) -> dict[str, Any]:
    """A step's table with its agent, tool and workflow objects made data (nested tables walked)."""
    from .agent import AgentHandle
    from .tools import ToolHandle

    out = dict(step)
    name = out.get("name")
    at = f"{where}: step {name!r}" if isinstance(name, str) else where
    if out.get("agent") is not None:
        out["agent"] = _definition(f"{at}: agent", out["agent"], AgentHandle)
    tool = out.get("tool")
    if isinstance(tool, HostHandle):
        if not isinstance(tool.bridge, ToolHandle):
            raise SpellError("invalid_argument", f"{at}: tool is a {tool.type_name}, not a tool")
        out["tool"] = tool.bridge.tool_name
    nested = out.get("workflow")
    if nested is not None:
        out["workflow"] = _definition(f"{at}: workflow", nested, WorkflowHandle)
        if isinstance(out["workflow"], Mapping):
            out["workflow"] = _workflow_table(f"{at}: workflow", out["workflow"])
    return out


def _workflow_table(where: str, table: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(table)
    if isinstance(out.get("steps"), list):
        out["steps"] = [_step_table(where, s) if isinstance(s, Mapping) else s for s in out["steps"]]
    return out


class WorkflowHandle(Bridge):
    """A workflow, as ``workflow.create`` or ``workflow.from_table`` returns it."""

    name = "wf"
    description = "A workflow: add steps, run it, write it out as data or draw it as a Mermaid flowchart."

    def __init__(self, host: Any, workflow: Workflow) -> None:
        super().__init__(host)
        self.workflow = workflow

    def script_attributes(self) -> dict[str, Any]:
        return {"name": self.workflow.name, "type": self.workflow.type}

    @method
    def addStep(self, step: Annotated[StepOptions, "the step: a name and one of agent (+ prompt), "  # noqa: N802
                                      "tool (+ params), fn, workflow"]) -> None:
        """Add a step (run in the order added); a nested workflow that would contain this one is refused."""
        table = _step_table("wf.addStep", step.model_dump(exclude_none=True))
        self.workflow.add(Step.from_table(table, f"wf.addStep: workflow {self.workflow.name!r}"), "wf.addStep")

    @method
    async def run(self, inputs: Annotated[dict[str, Any] | None, "the inputs templates and steps read "
                                          "({{topic}})"] = None) -> WorkflowRunResult:
        """Run the workflow; returns {output, steps = {NAME = {output, status, duration_ms, error}}}. A step
        that fails (on_error = "fail") fails the run with its error, naming the workflow and the step."""
        runner = WorkflowRunner(self.host.services, filename=self.host.filename,
                                max_concurrent=self.host.limits.max_concurrent)
        return (await runner.run(self.workflow, inputs or {})).table()

    @method
    def to_table(self) -> dict[str, Any]:
        """The definition as data (functions left out); workflow.from_table reads it back."""
        return self.workflow.to_table()

    @method
    def to_mermaid(self) -> str:
        """The workflow as a Mermaid flowchart."""
        return to_mermaid(self.workflow)


class WorkflowBridge(Bridge):
    name = "workflow"
    description = "Workflows: agent, tool, function and nested steps, in order, at once, on a condition or in a loop."

    @method
    def create(self, opts: Annotated[WorkflowOptions | None, "name, type and the type's bounds"] = None) -> HostHandle:
        """A workflow with no steps yet (add them with wf:addStep)."""
        opts = opts or WorkflowOptions()
        made = Workflow.make("workflow.create", **opts.model_dump())
        return WorkflowHandle(self.host, made).handle()

    @method
    def from_table(self, table: Annotated[dict[str, Any], "what wf:to_table gave (functions may be put back "
                                          "in it)"]) -> HostHandle:
        """A workflow from its definition as data."""
        made = Workflow.from_table(_workflow_table("workflow.from_table", table), "workflow.from_table")
        return WorkflowHandle(self.host, made).handle()
