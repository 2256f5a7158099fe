"""The one place a spell observes and steers its tool calls: tool hooks and ``tool.*`` events.

Every tool call -- ``tools.NAME(...)`` from a spell, a model's call in an
agent run -- goes through ``ToolService.call``, which hands it here when a
``beforeToolCall``/``afterToolCall`` hook is registered or someone listens to
``tool.called``/``tool.executed`` (and only then: otherwise the call costs
one check more).  In order:

1. ``tool.called`` (``toolName``, ``input``, ``caller``) is emitted;
2. ``beforeToolCall(ctx, tool, input)`` hooks may return other input (a
   table), which is then validated against the tool's schema like any input,
   or refuse the call by raising;
3. the tool runs;
4. ``afterToolCall(ctx, tool, input, output)`` hooks may return another output;
5. ``tool.executed`` (``toolName``, ``duration`` in milliseconds, ``success``,
   and ``error`` = ``{kind, message}`` when it failed) is emitted, for a
   refused or failed call too.

A hook's error is the tool call's, as a handler's is: ``permission_denied``
stays a refusal (an agent's run ends with it), anything else is a
``tool_error`` naming the tool and the hook (an agent's model reads it and
goes on); a hook that returns something that is not input (a table) is the
spell's mistake, an ``invalid_argument``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llmspell.errors import SpellError

if TYPE_CHECKING:
    from llmspell.events import EventBus
    from llmspell.hooks import HookRegistry


@dataclass
class ToolObservers:
    """What watches a run's tool calls: its hooks and event listeners."""

    hooks: HookRegistry
    events: EventBus

    def watching(self) -> bool:
        """Whether a tool call would run a hook or reach a listener."""
        return (self.hooks.tool_active or self.events.listening("tool.called")
                or self.events.listening("tool.executed"))

    async def call(self, name: str, params: Mapping[str, Any], run: Callable[[Mapping[str, Any]], Awaitable[Any]],
                   caller: str) -> Any:
        """Run the call ``run(params)`` of tool ``name`` for ``caller`` between its hooks and events."""
        hooks, events = self.hooks, self.events
        if events.listening("tool.called"):
            await events.emit("tool.called", {"toolName": name, "input": dict(params), "caller": caller})
        started = time.perf_counter()
        ctx = {"caller": caller}
        try:
            if hooks.has("beforeToolCall"):
                params = await self._hook("beforeToolCall", name, ctx, dict(params), accept=_input)
            output = await run(params)
            if hooks.has("afterToolCall"):
                output = await self._hook("afterToolCall", name, ctx, dict(params), output,
                                          accept=lambda new, old: new)
        except SpellError as exc:
            await self._executed(name, started, caller, exc)
            raise
        await self._executed(name, started, caller, None)
        return output

    async def _hook(self, hook: str, name: str, ctx: dict[str, Any], *args: Any,
                    accept: Callable[[Any, Any], Any]) -> Any:
        try:
            return await self.hooks.apply(hook, ctx, name, *args, accept=accept)
        except SpellError as exc:
            raise _as_tool_failure(name, exc) from None

    async def _executed(self, name: str, started: float, caller: str, error: SpellError | None) -> None:
        if not self.events.listening("tool.executed"):
            return
        fields: dict[str, Any] = {"toolName": name, "duration": round((time.perf_counter() - started) * 1000, 3),
                                  "success": error is None, "caller": caller}
        if error is not None:
            fields["error"] = {"kind": error.kind, "message": error.message}
        await self.events.emit("tool.executed", fields)


def _input(new: Any, old: Any) -> dict[str, Any]:
    from llmspell.bridges.base import describe_value

    if isinstance(new, dict):
        return new
    if isinstance(new, list) and not new:  # an empty Lua table
        return {}
    raise SpellError("invalid_argument", f"beforeToolCall: must return the input (a table) or nothing, "
                     f"not {describe_value(new)}")


def _as_tool_failure(name: str, exc: SpellError) -> SpellError:
    """A hook's error as the tool call's (see the module)."""
    from llmspell.host import is_run_limit

    if is_run_limit(exc) or exc.kind in ("cancelled", "invalid_argument"):
        return exc
    kind = "permission_denied" if exc.kind == "permission_denied" else "tool_error"
    return SpellError(kind, f"{name}: {exc.message}", file=exc.file, line=exc.line, column=exc.column,
                      stack=exc.stack, hint=exc.hint)
