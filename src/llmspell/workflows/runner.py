"""Running a workflow: its steps in order, at once, when a condition holds, or again until done.

The runners are plain asyncio: ``sequential`` and ``conditional`` await one
step after another, ``loop`` runs them again until ``until`` says so or
``max_iterations`` is reached, ``parallel`` starts every step as a task of an
:class:`asyncio.TaskGroup` under a semaphore of ``max_concurrency``; the
actions of one ``wf:run`` (nested workflows' included) share one more, of the
sandbox's ``max_concurrent`` less one (past that, the agents service refuses
an agent run, and in a worker the parent refuses model requests).  A TaskGroup is what gives the two guarantees the
API makes: a step that fails cancels the others, and cancelling the run (its
timeout) cancels every step still running.  (pydantic-graph's builder would
add a graph library for what is four small loops here, and its steps could not
run the spell's functions on the spell's VM any differently.)

A step's action goes the roads everything else goes: an agent through
:func:`~llmspell.agents.run_agent` on the run's models and account, a tool
through ``services.tools.call`` (found, permitted, validated, observed), a
function back on the spell's VM.  Templates are filled first, from the
inputs and the earlier steps' records.  A failing step is retried
(``on_error = "retry"``, waiting ``backoff_ms`` and then twice as long each
time), recorded and passed over (``continue``), or it fails the workflow with
its own error kind and a message naming the workflow and the step.  A limit
of the run or a cancellation is never a step's failure: it ends the run.

Events: ``workflow.started``, ``workflow.step.started``,
``workflow.step.completed`` and ``workflow.completed``, each with the
workflow's and the step's names and timings, built only when someone listens.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from llmspell.agents import run_agent
from llmspell.errors import SpellError

from .definition import MAX_DEPTH, Step, Workflow
from .result import COMPLETED, FAILED, SKIPPED, StepRecord, WorkflowResult

if TYPE_CHECKING:
    from llmspell.services import RunServices

#: Errors that retrying cannot mend: a refusal stays a refusal.
_NOT_RETRIED = ("permission_denied",)


def _ends_run(exc: SpellError) -> bool:
    from llmspell.host import is_run_limit

    return is_run_limit(exc) or exc.kind == "cancelled"


def _failed(wf: Workflow, step: Step, exc: SpellError) -> SpellError:
    message = f"workflow {wf.name!r}: step {step.name!r} failed: {exc.message}"
    if dataclasses.is_dataclass(exc):
        return dataclasses.replace(exc, message=message)
    return SpellError(exc.kind, message, hint=exc.hint)


class WorkflowRunner:
    """Runs workflows for one spell run: its services, its file (for errors) and the sandbox's cap."""

    def __init__(self, services: RunServices, *, filename: str | None = None, max_concurrent: int | None = None,
                 clock: Any = time.perf_counter) -> None:
        self.services = services
        self.filename = filename
        #: The sandbox's cap on what runs at once (``max_concurrent``); ``None``: none.
        self.max_concurrent = max_concurrent
        #: Held by every step's action (never by a nested workflow's step, whose own steps take it: no step
        #: waits for a slot that a step it waits on holds), so parallel workflows inside parallel workflows
        #: still run at most ``max_concurrent`` less one actions at once: the agents service refuses an
        #: agent run past that (one call is kept for the tools' handlers, agents/run.py), and a workflow's
        #: steps wait for their turn instead.
        self._actions = asyncio.Semaphore(max(1, max_concurrent - 1)) if max_concurrent else None
        self._clock = clock

    async def run(self, wf: Workflow, inputs: Mapping[str, Any] | None = None, *, depth: int = 1) -> WorkflowResult:
        """Run ``wf`` on ``inputs``; a failing step (``on_error = "fail"``) raises its error."""
        if depth > MAX_DEPTH:
            raise SpellError("invalid_argument", f"workflow {wf.name!r}: workflows nest more than {MAX_DEPTH} deep")
        # The steps as the run starts: one a step adds (wf:addStep from a function) waits for the next run.
        steps = tuple(wf.steps)
        if depth == 1 and inputs:
            clash = next((s.name for s in steps if s.name in inputs), None)
            if clash is not None:
                raise SpellError("invalid_argument", f"workflow {wf.name!r}: the input {clash!r} has the name of a "
                                 "step, and templates would not know which one {{" + clash + "}} means",
                                 hint="rename the input or the step")
        events = self.services.events
        started = self._clock()
        if events.listening("workflow.started"):
            await events.emit("workflow.started", {"workflow": wf.name, "type": wf.type,
                                                   "steps": [s.name for s in steps]})
        status = FAILED
        try:
            names = dict(inputs or {})
            if wf.type == "parallel":
                result = await self._parallel(wf, steps, names, depth)
            elif wf.type == "loop":
                result = await self._loop(wf, steps, names, depth)
            else:
                result = await self._in_order(wf, steps, names, depth, WorkflowResult())
            status = COMPLETED
            return result
        finally:
            if status == COMPLETED or not _cancelling():
                if events.listening("workflow.completed"):
                    await events.emit("workflow.completed", {
                        "workflow": wf.name, "type": wf.type, "status": status,
                        "duration_ms": round((self._clock() - started) * 1000, 3)})

    # -- the runners -------------------------------------------------------------------
    async def _in_order(self, wf: Workflow, steps: tuple[Step, ...], names: dict[str, Any], depth: int,
                        result: WorkflowResult) -> WorkflowResult:
        """``sequential`` and ``conditional`` (and one pass of a loop): each step sees the ones before it."""
        for step in steps:
            record = await self._step(wf, step, names, depth)
            result.steps[step.name] = record
            names[step.name] = record.table()
            if record.status == COMPLETED:
                result.output = record.output
        return result

    async def _loop(self, wf: Workflow, steps: tuple[Step, ...], names: dict[str, Any], depth: int) -> WorkflowResult:
        assert wf.max_iterations is not None and wf.until is not None
        result = WorkflowResult(iterations=0)
        for iteration in range(1, wf.max_iterations + 1):
            names["iteration"] = iteration
            result.iterations = iteration
            await self._in_order(wf, steps, names, depth, result)
            done = await wf.until(names)
            if not isinstance(done, bool):
                raise SpellError("invalid_argument", f"workflow {wf.name!r}: until must return true or false, "
                                 f"not {_kind_of(done)}")
            if done:
                break
        return result

    async def _parallel(self, wf: Workflow, steps: tuple[Step, ...], names: dict[str, Any],
                        depth: int) -> WorkflowResult:
        """Every step at once (at most the cap), each seeing the inputs alone; the first failure cancels the rest."""
        result = WorkflowResult(output={})
        if not steps:
            return result
        caps = [len(steps), wf.max_concurrency]
        gate = asyncio.Semaphore(min(c for c in caps if c))
        await self._warm(steps)
        failures: list[SpellError] = []

        async def one(step: Step) -> None:
            async with gate:
                try:
                    record = await self._step(wf, step, dict(names), depth)
                except SpellError as exc:
                    failures.append(exc)
                    raise
            result.steps[step.name] = record

        try:
            async with asyncio.TaskGroup() as group:
                for step in steps:
                    group.create_task(one(step))
        except BaseExceptionGroup as group_error:
            if failures:
                raise failures[0] from None
            raise group_error.exceptions[0] from None
        # The record lists steps in the order they were added, whatever order they finished in.
        result.steps = {s.name: result.steps[s.name] for s in steps}
        result.output = {n: r.output for n, r in result.steps.items() if r.status == COMPLETED}
        return result

    async def _warm(self, steps: tuple[Step, ...]) -> None:
        """The models of the agent steps about to start at once, resolved first (see ModelService.warm)."""
        models: dict[str, Any] = {}
        for step in steps:
            if step.agent is not None:
                models.setdefault(repr(step.agent.model), step.agent.model)
        if models:
            await self.services.models.warm(list(models.values()))

    # -- one step ----------------------------------------------------------------------
    async def _step(self, wf: Workflow, step: Step, names: dict[str, Any], depth: int) -> StepRecord:
        events = self.services.events
        if step.condition is not None:
            ok = await step.condition(names)
            if not isinstance(ok, bool):
                raise SpellError("invalid_argument", f"workflow {wf.name!r}: step {step.name!r}: condition must "
                                 f"return true or false, not {_kind_of(ok)}")
            if not ok:
                record = StepRecord(SKIPPED)
                await self._completed(wf, step, record)
                return record
        if events.listening("workflow.step.started"):
            await events.emit("workflow.step.started", {"workflow": wf.name, "step": step.name, "kind": step.kind})
        started = self._clock()
        record = StepRecord(FAILED)
        #: A template's error names the workflow and the step already.
        named = False
        try:
            action = self._prepare(wf, step, names)
        except SpellError as exc:
            record.error, named = exc, True  # a template naming what is not there: retrying cannot mend it
        else:
            for attempt in range(1 + step.retries):
                record.attempts = attempt + 1
                try:
                    if self._actions is None or step.kind == "workflow":
                        record.output = await self._act(step, action, names, depth)
                    else:
                        async with self._actions:
                            record.output = await self._act(step, action, names, depth)
                    record.status, record.error = COMPLETED, None
                    break
                except SpellError as exc:
                    if _ends_run(exc):
                        raise
                    record.error = exc
                    if exc.kind in _NOT_RETRIED or attempt == step.retries:
                        break
                    await asyncio.sleep(step.backoff_ms * (2 ** attempt) / 1000)
        record.duration_ms = (self._clock() - started) * 1000
        await self._completed(wf, step, record)
        if record.status == FAILED and step.on_error != "continue":
            assert record.error is not None
            raise record.error if named else _failed(wf, step, record.error)
        return record

    def _prepare(self, wf: Workflow, step: Step, names: Mapping[str, Any]) -> Any:
        """The step's templates filled: the agent's prompt or the tool's params."""
        from . import template  # Jinja2, imported when a workflow first runs

        at = f"workflow {wf.name!r}: step {step.name!r}"
        if step.kind == "agent":
            assert step.prompt is not None
            return template.fill(step.prompt, names, f"{at}: prompt")
        if step.kind == "tool":
            return template.fill_all(step.params or {}, names, f"{at}: params")
        return None

    async def _act(self, step: Step, prepared: Any, names: dict[str, Any], depth: int) -> Any:
        if step.kind == "agent":
            assert step.agent is not None
            result = await run_agent(self.services, step.agent, prepared, where="agent:run", filename=self.filename)
            return result.output
        if step.kind == "tool":
            assert step.tool is not None
            return await self.services.tools.call(step.tool, prepared)
        if step.kind == "fn":
            assert step.fn is not None
            return await step.fn(dict(names))
        assert step.workflow is not None
        return (await self.run(step.workflow, names, depth=depth + 1)).output

    async def _completed(self, wf: Workflow, step: Step, record: StepRecord) -> None:
        events = self.services.events
        if events.listening("workflow.step.completed"):
            data = {"workflow": wf.name, "step": step.name, "kind": step.kind, **record.table()}
            data.pop("output")
            await events.emit("workflow.step.completed", data)


def _cancelling() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _kind_of(value: Any) -> str:
    from llmspell.bridges.base import describe_value

    return describe_value(value)
