"""A workflow as data: what runs, in which shape, and what happens when a step fails.

A workflow is a definition -- its type, its steps, each step's action and
error policy -- kept apart from running it (:mod:`.runner`), so it can be
checked once when it is made, written out as plain tables (:meth:`Workflow.to_table`)
and read back (:meth:`Workflow.from_table`) by this or another engine, and drawn
(:mod:`.mermaid`).  Script functions (``fn``, ``condition``, ``until``) belong
to the VM that made them and are the one thing a table leaves out; a table
given to :meth:`Workflow.from_table` may carry them again.

Every check names the thing that is wrong (the workflow, the step, the key),
because these tables come from spells and, later, from storage.  Nested
workflows are shared objects that stay changeable (``addStep`` after nesting),
so a cycle -- a workflow inside itself, directly or through others -- is
refused when the step that would close it is added.  The limits are here and
nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from llmspell.agents import AgentDefinition
from llmspell.errors import SpellError

TYPES = ("sequential", "parallel", "conditional", "loop")
ON_ERROR = ("fail", "continue", "retry")
#: The actions a step may have; exactly one.
ACTIONS = ("agent", "tool", "fn", "workflow")

#: The most steps in one workflow.
MAX_STEPS = 1000
#: How deep workflows may nest inside each other (each level is three levels of to_table's data, which
#: must stay within the 64 levels a value may have crossing into a spell).
MAX_DEPTH = 16
#: The most iterations a loop may be given.
MAX_ITERATIONS = 100_000
#: The most retries of one step, and the longest first backoff (ms); each retry waits twice the one before.
MAX_RETRIES = 10
MAX_BACKOFF_MS = 60_000
#: Retries of an ``on_error = "retry"`` step that gives no ``retries``, and the first wait before one.
DEFAULT_RETRIES = 2
DEFAULT_BACKOFF_MS = 100

_STEP_KEYS = ("name", *ACTIONS, "prompt", "params", "condition", "on_error", "retries", "backoff_ms")
_WORKFLOW_KEYS = ("name", "type", "steps", "max_concurrency", "max_iterations", "until", "description")
_AGENT_KEYS = {"name": str, "model": (str, list), "system": str, "tools": list, "output_schema": dict,
               "max_steps": int, "temperature": (int, float), "max_tokens": int, "stop": list, "retries": int,
               "description": str}

#: A script function (the engine runs it on the spell's VM) or any async callable of the context.
Function = Callable[..., Any]


def _invalid(text: str, hint: str | None = None) -> SpellError:
    return SpellError("invalid_argument", text, hint=hint)


@dataclass
class Step:
    """One step: a name, exactly one action, and what to do when it fails."""

    name: str
    #: Which action this step has: ``agent``, ``tool``, ``fn`` or ``workflow``.
    kind: str
    agent: AgentDefinition | None = None
    #: The agent's prompt (a template).
    prompt: str | None = None
    tool: str | None = None
    #: The tool's parameters (strings in it are templates).
    params: dict[str, Any] | None = None
    fn: Function | None = None
    workflow: Workflow | None = None
    #: Runs the step only when it returns true (a function of the context).
    condition: Function | None = None
    on_error: str = "fail"
    retries: int = 0
    backoff_ms: float = DEFAULT_BACKOFF_MS

    @classmethod
    def from_table(cls, data: Mapping[str, Any], where: str) -> Step:
        """A step from a spell's table: ``invalid_argument`` naming ``where`` and the step for what is wrong."""
        if not isinstance(data, Mapping):
            raise _invalid(f"{where}: a step must be a table")
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _invalid(f"{where}: a step needs a name (a string that is not empty)")
        at = f"{where}: step {name!r}"
        unknown = [k for k in data if k not in _STEP_KEYS]
        if unknown:
            raise _invalid(f"{at}: {unknown[0]!r} is not a step field (fields: {', '.join(_STEP_KEYS)})")
        actions = [a for a in ACTIONS if data.get(a) is not None]
        if not actions:
            raise _invalid(f"{at} has no action", hint="give it one of agent (+ prompt), tool (+ params), fn "
                           "or workflow; to_table leaves functions out, so a fn step read back needs its fn again")
        if len(actions) > 1:
            raise _invalid(f"{at} has more than one action ({', '.join(actions)}); give it one")
        kind = actions[0]
        step = cls(name=name, kind=kind)
        from . import template  # Jinja2 is imported when a workflow is made, not when llmspell starts

        if kind == "agent":
            step.agent = _agent(data["agent"], f"{at}: agent")
            step.prompt = _text(data.get("prompt"), f"{at}: prompt")
            if step.prompt is None:
                raise _invalid(f"{at}: an agent step needs a prompt")
            template.check(step.prompt, f"{at}: prompt")
        elif data.get("prompt") is not None:
            raise _invalid(f"{at}: prompt is for an agent step")
        if kind == "tool":
            step.tool = _text(data["tool"], f"{at}: tool")
            params = data.get("params")
            if isinstance(params, list) and not params:
                params = {}  # an empty Lua table
            if params is not None and not isinstance(params, Mapping):
                raise _invalid(f"{at}: params must be a table")
            step.params = dict(params or {})
            template.check_all(step.params, f"{at}: params")
        elif data.get("params") is not None:
            raise _invalid(f"{at}: params are for a tool step")
        if kind == "fn":
            step.fn = _function(data["fn"], f"{at}: fn")
        if kind == "workflow":
            nested = data["workflow"]
            step.workflow = nested if isinstance(nested, Workflow) else Workflow.from_table(nested, f"{at}: workflow")
        if data.get("condition") is not None:
            step.condition = _function(data["condition"], f"{at}: condition")
        on_error = data.get("on_error", "fail") or "fail"
        if on_error not in ON_ERROR:
            raise _invalid(f"{at}: on_error must be one of {', '.join(ON_ERROR)}, not {on_error!r}")
        step.on_error = on_error
        retries = data.get("retries")
        if retries is not None:
            step.retries = _count(retries, f"{at}: retries", 0, MAX_RETRIES)
            if on_error != "retry":
                raise _invalid(f"{at}: retries need on_error = \"retry\"")
        elif on_error == "retry":
            step.retries = DEFAULT_RETRIES
        backoff = data.get("backoff_ms")
        if backoff is not None:
            if isinstance(backoff, bool) or not isinstance(backoff, (int, float)) or not 0 <= backoff <= MAX_BACKOFF_MS:
                raise _invalid(f"{at}: backoff_ms must be a number from 0 to {MAX_BACKOFF_MS}")
            step.backoff_ms = backoff
        return step

    def to_table(self) -> dict[str, Any]:
        """This step as plain data, without its functions."""
        out: dict[str, Any] = {"name": self.name}
        if self.agent is not None:
            out["agent"] = agent_table(self.agent)
            out["prompt"] = self.prompt
        if self.tool is not None:
            out["tool"] = self.tool
            out["params"] = self.params or {}
        if self.workflow is not None:
            out["workflow"] = self.workflow.to_table()
        if self.on_error != "fail":
            out["on_error"] = self.on_error
        if self.on_error == "retry":
            out["retries"] = self.retries
            out["backoff_ms"] = self.backoff_ms
        return out


@dataclass(eq=False)
class Workflow:
    """A workflow: a name, a type, its steps in order, and the bounds of its type."""

    name: str
    type: str
    steps: list[Step] = field(default_factory=list)
    #: ``parallel``: the most steps running at once; ``None``: all of them (the sandbox's cap still holds).
    max_concurrency: int | None = None
    #: ``loop``: the most times its steps run, and the function of the context that ends it sooner.
    max_iterations: int | None = None
    until: Function | None = None
    description: str | None = None

    @classmethod
    def make(cls, where: str, *, name: str | None = None, type: str | None = None,  # noqa: A002 - the API's name
             max_concurrency: int | None = None, max_iterations: int | None = None, until: Function | None = None,
             description: str | None = None) -> Workflow:
        """A workflow with no steps yet; ``invalid_argument`` naming ``where`` for an unknown type or a loop
        without both bounds."""
        shown = _text(name, f"{where}: name") or "workflow"
        kind = type or "sequential"
        if kind not in TYPES:
            raise _invalid(f"{where}: workflow {shown!r} has an unknown type {kind!r}",
                           hint=f"use one of: {', '.join(TYPES)}")
        wf = cls(name=shown, type=kind, description=_text(description, f"{where}: description"))
        if max_concurrency is not None:
            if kind != "parallel":
                raise _invalid(f"{where}: workflow {shown!r}: max_concurrency is for a parallel workflow")
            wf.max_concurrency = _count(max_concurrency, f"{where}: workflow {shown!r}: max_concurrency", 1, MAX_STEPS)
        if kind == "loop":
            if max_iterations is None or until is None:
                raise _invalid(f"{where}: loop workflow {shown!r} needs both max_iterations and until",
                               hint="until(ctx) ends the loop when it returns true; max_iterations bounds it "
                               "when until never does")
            wf.max_iterations = _count(max_iterations, f"{where}: workflow {shown!r}: max_iterations", 1,
                                       MAX_ITERATIONS)
            wf.until = _function(until, f"{where}: workflow {shown!r}: until")
        elif max_iterations is not None or until is not None:
            raise _invalid(f"{where}: workflow {shown!r}: max_iterations and until are for a loop workflow")
        return wf

    def add(self, step: Step, where: str) -> None:
        """Append ``step``: ``invalid_argument`` for a name already used, too many steps, or a cycle."""
        at = f"{where}: workflow {self.name!r}"
        if any(s.name == step.name for s in self.steps):
            raise _invalid(f"{at} already has a step named {step.name!r}")
        if len(self.steps) >= MAX_STEPS:
            raise _invalid(f"{at} has {MAX_STEPS} steps, the most one workflow may have")
        if step.workflow is not None:
            path = step.workflow.path_to(self)
            if path is not None:
                chain = " -> ".join(repr(w.name) for w in [self, *path])
                raise _invalid(f"{at}: step {step.name!r} would put the workflow inside itself ({chain})")
            if 1 + step.workflow.depth() > MAX_DEPTH:
                raise _invalid(f"{at}: step {step.name!r} nests workflows more than {MAX_DEPTH} deep")
        self.steps.append(step)

    def nested(self) -> Iterator[Workflow]:
        """The workflows of this one's steps (one level)."""
        return (s.workflow for s in self.steps if s.workflow is not None)

    def path_to(self, target: Workflow, _seen: set[int] | None = None) -> list[Workflow] | None:
        """The chain of workflows from this one down to ``target`` (this one included), or None."""
        if self is target:
            return [self]
        seen = _seen if _seen is not None else set()
        if id(self) in seen:
            return None
        seen.add(id(self))
        for inner in self.nested():
            found = inner.path_to(target, seen)
            if found is not None:
                return [self, *found]
        return None

    def depth(self) -> int:
        """How many workflows deep this one goes (1 with no nested workflow)."""
        return 1 + max((w.depth() for w in self.nested()), default=0)

    def to_table(self) -> dict[str, Any]:
        """The definition as plain data (tables, lists, strings, numbers), functions left out."""
        out: dict[str, Any] = {"name": self.name, "type": self.type, "steps": [s.to_table() for s in self.steps]}
        if self.max_concurrency is not None:
            out["max_concurrency"] = self.max_concurrency
        if self.max_iterations is not None:
            out["max_iterations"] = self.max_iterations
        if self.description is not None:
            out["description"] = self.description
        return out

    @classmethod
    def from_table(cls, data: Any, where: str) -> Workflow:
        """A workflow from :meth:`to_table`'s data (functions may be given back in it): ``invalid_argument``
        naming the workflow, the step and the field for anything that is wrong."""
        if not isinstance(data, Mapping):
            raise _invalid(f"{where}: a workflow must be a table")
        unknown = [k for k in data if k not in _WORKFLOW_KEYS]
        if unknown:
            raise _invalid(f"{where}: {unknown[0]!r} is not a workflow field (fields: {', '.join(_WORKFLOW_KEYS)})")
        wf = cls.make(where, name=data.get("name"), type=_text(data.get("type"), f"{where}: type"),
                      max_concurrency=data.get("max_concurrency"), max_iterations=data.get("max_iterations"),
                      until=data.get("until"), description=data.get("description"))
        steps = data.get("steps")
        if steps is None or (isinstance(steps, Mapping) and not steps):
            steps = []  # an empty Lua table
        if not isinstance(steps, list):
            raise _invalid(f"{where}: workflow {wf.name!r}: steps must be a list")
        for index, item in enumerate(steps):
            if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
                raise _invalid(f"{where}: workflow {wf.name!r}: the {_ordinal(index + 1)} step needs a name "
                               "(a string)")
            wf.add(Step.from_table(item, f"{where}: workflow {wf.name!r}"), where)
        return wf


def agent_table(agent: AgentDefinition) -> dict[str, Any]:
    """An agent's definition as plain data (what ``llm.agent`` takes, tools by name)."""
    out: dict[str, Any] = {}
    for key in _AGENT_KEYS:
        value = getattr(agent, key)
        if key == "tools":
            value = list(value) or None
        if key == "description":
            value = value or None
        if value is not None:
            out[key] = dict(value) if key == "output_schema" else value
    return out


def _agent(value: Any, where: str) -> AgentDefinition:
    if isinstance(value, AgentDefinition):
        return value
    if not isinstance(value, Mapping):
        raise _invalid(f"{where} must be an agent or a table of its definition")
    fields: dict[str, Any] = {}
    for key, item in value.items():
        want = _AGENT_KEYS.get(key)
        if want is None:
            raise _invalid(f"{where}: {key!r} is not an agent field (fields: {', '.join(_AGENT_KEYS)})")
        if item is None:
            continue
        if isinstance(item, bool) or not isinstance(item, want):
            raise _invalid(f"{where}: {key} has the wrong type")
        fields[key] = item
    tools = fields.pop("tools", [])
    if not all(isinstance(t, str) for t in tools):
        raise _invalid(f"{where}: tools must be tool names")
    return AgentDefinition.make(where, tools=tools, **fields)


def _text(value: Any, where: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise _invalid(f"{where} must be a string")


def _function(value: Any, where: str) -> Function:
    if not callable(value):
        raise _invalid(f"{where} must be a function")
    return value


def _count(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _invalid(f"{where} must be a whole number from {low} to {high}")
    return value


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
