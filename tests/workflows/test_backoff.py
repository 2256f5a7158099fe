"""A retried step waits backoff_ms, then twice as long each time; a refusal is not retried; a limit of the run
ends it at once, whatever the step's on_error says (the runner on its own, with the run's event bus)."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from llmspell.errors import SpellError
from llmspell.events import EventBus
from llmspell.workflows import Step, Workflow, WorkflowRunner
from llmspell.workflows import runner as runner_module


def _flaky(failures: list[SpellError]) -> Any:
    calls: list[int] = []

    async def fn(ctx: dict) -> str:
        calls.append(1)
        if failures:
            raise failures.pop(0)
        return f"ok after {len(calls)}"

    fn.calls = calls  # type: ignore[attr-defined]
    return fn


def _run(step: dict, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[float]]:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(runner_module.asyncio, "sleep", sleep)
    wf = Workflow.make("t", name="w")
    wf.add(Step.from_table(step, "t"), "t")
    runner = WorkflowRunner(SimpleNamespace(events=EventBus()))  # type: ignore[arg-type]
    try:
        return asyncio.run(runner.run(wf, {})), waits
    except SpellError as exc:
        return exc, waits


def test_each_retry_waits_twice_as_long_as_the_one_before(monkeypatch):
    fn = _flaky([SpellError("tool_error", "down")] * 3)
    result, waits = _run({"name": "s", "fn": fn, "on_error": "retry", "retries": 3, "backoff_ms": 10}, monkeypatch)
    assert result.steps["s"].status == "completed" and result.output == "ok after 4"
    assert waits == [0.01, 0.02, 0.04]


def test_a_refusal_is_not_retried(monkeypatch):
    fn = _flaky([SpellError("permission_denied", "no")])
    result, waits = _run({"name": "s", "fn": fn, "on_error": "retry", "retries": 3}, monkeypatch)
    assert isinstance(result, SpellError) and result.kind == "permission_denied"
    assert len(fn.calls) == 1 and waits == []


@pytest.mark.parametrize("on_error", ["continue", "retry"])
def test_a_limit_of_the_run_ends_it_whatever_on_error_says(monkeypatch, on_error):
    limit = SpellError("timeout", "the spell ran longer than its time limit", run_limit=True)
    fn = _flaky([limit, limit])
    result, waits = _run({"name": "s", "fn": fn, "on_error": on_error}, monkeypatch)
    assert result is limit and len(fn.calls) == 1 and waits == []
