"""One run's hooks: which functions are registered, and running a chain of them over a value.

A spell registers sets of hooks (``hooks.register{beforeGenerate = fn, ...}``);
the model wrapper (models/observed.py) and the tool service (tools/service.py)
run them where every model request and every tool call passes, for the spell's
own calls and for an agent's alike.  The hooks of one name run in the order
they were registered, each given the value the one before returned: returning
nothing (nil, undefined) leaves the value as it was; anything else is checked
by the caller's ``accept`` (a hook that returns garbage gets a clear
``invalid_argument``, never a half-changed request).

A hook that raises aborts the call it hooks with its own kind and its message
named after the hook (``beforeToolCall: no writes to /etc/``); a run limit or
a cancellation ends the run as it would anywhere.  A set unregistered while a
chain runs (by one of its own hooks, or by another) is not called again, not
even later in the same chain.  Asking whether any hook of a name exists is one
dictionary lookup, so a run without hooks pays nothing for them.

A hook's own model requests and tool calls are hooked too (nothing tells a
call made by a hook from any other in every engine): a hook that makes the
very call it hooks recurses until a limit of the run ends it.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from llmspell.errors import SpellError

#: Hooks around a model request: ``beforeGenerate(ctx, request) -> request``,
#: ``afterGenerate(ctx, request, response) -> response``.
GENERATE_HOOKS = ("beforeGenerate", "afterGenerate")
#: Hooks around a tool call: ``beforeToolCall(ctx, tool, input) -> input``,
#: ``afterToolCall(ctx, tool, input, output) -> output``.
TOOL_HOOKS = ("beforeToolCall", "afterToolCall")
HOOK_NAMES = GENERATE_HOOKS + TOOL_HOOKS

#: A hook: awaited with ``ctx`` and the hook's arguments; ``None`` means "unchanged".
Hook = Callable[..., Awaitable[Any]]


class HookRegistry:
    """The hook sets of one run, by the id :meth:`register` gave them."""

    def __init__(self) -> None:
        self._sets: dict[int, dict[str, Hook]] = {}
        self._ids = itertools.count(1)
        #: How many registered sets have a hook of each name (a name absent: none).
        self._counts: dict[str, int] = {}

    def register(self, hooks: Mapping[str, Hook]) -> int:
        """Add a set of hooks (any of :data:`HOOK_NAMES`); returns the id :meth:`unregister` takes."""
        unknown = sorted(set(hooks) - set(HOOK_NAMES))
        if unknown:
            raise SpellError("invalid_argument", f"hooks.register: unknown hook {unknown[0]!r} "
                             f"(hooks: {', '.join(HOOK_NAMES)})")
        chosen = {name: fn for name, fn in hooks.items() if fn is not None}
        if not chosen:
            raise SpellError("invalid_argument", f"hooks.register: give at least one of {', '.join(HOOK_NAMES)}")
        hook_id = next(self._ids)
        self._sets[hook_id] = chosen
        for name in chosen:
            self._counts[name] = self._counts.get(name, 0) + 1
        return hook_id

    def unregister(self, hook_id: int) -> bool:
        """Remove a set; False if there was none with that id (never registered, or already removed)."""
        removed = self._sets.pop(hook_id, None)
        if removed is None:
            return False
        for name in removed:
            self._counts[name] -= 1
            if not self._counts[name]:
                del self._counts[name]
        return True

    def has(self, name: str) -> bool:
        """Whether any registered set has a hook called ``name``."""
        return name in self._counts

    @property
    def generate_active(self) -> bool:
        """Whether a model request would run any hook."""
        counts = self._counts
        return "beforeGenerate" in counts or "afterGenerate" in counts

    @property
    def tool_active(self) -> bool:
        """Whether a tool call would run any hook."""
        counts = self._counts
        return "beforeToolCall" in counts or "afterToolCall" in counts

    async def apply(self, name: str, ctx: Mapping[str, Any], *args: Any,
                    accept: Callable[[Any, Any], Any]) -> Any:
        """Run every hook called ``name`` in order over the last of ``args`` (the value it may change):
        each is awaited with ``ctx``, the other arguments and the value so far; a result that is not
        ``None`` becomes the value through ``accept(result, value)``, which raises if it is not one."""
        *fixed, value = args
        for hook_id, hooks in list(self._sets.items()):
            fn = hooks.get(name)
            if fn is None or hook_id not in self._sets:  # unregistered by an earlier hook of this chain
                continue
            try:
                result = await fn(dict(ctx, hook=name), *fixed, value)
            except SpellError as exc:
                raise _hook_failed(name, exc) from None
            if result is not None:
                value = accept(result, value)
        return value


def _hook_failed(name: str, exc: SpellError) -> SpellError:
    """The error a failed hook makes of the call it hooks: the hook's own kind, its message after the
    hook's name, its place in the spell; a run limit or a cancellation as it is."""
    from llmspell.host import is_run_limit

    if is_run_limit(exc) or exc.kind == "cancelled":
        return exc
    return dataclasses.replace(exc, message=f"{name}: {exc.message}")
