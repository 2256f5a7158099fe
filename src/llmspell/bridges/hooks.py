"""``hooks``: the spell's functions around every model request and tool call of the run.

The run's :class:`~llmspell.hooks.HookRegistry` (``host.services.hooks``)
keeps them; the model wrapper (models/observed.py) and the tool service
(tools/observed.py) run them, for ``llm.complete``, ``llm.stream``, agent
runs and every tool call alike.  This bridge only converts.
"""

from __future__ import annotations

from typing import Annotated

from ..values import ScriptFunction
from .base import Bridge, Options, method


class HookSet(Options):
    beforeGenerate: Annotated[ScriptFunction | None,  # noqa: N815 -- API.md's names
                              "fn(ctx, request) -> request: may change temperature, max_tokens, stop, messages"] = None
    afterGenerate: Annotated[ScriptFunction | None,  # noqa: N815
                             "fn(ctx, request, response) -> response: sees usage, may change content"] = None
    beforeToolCall: Annotated[ScriptFunction | None,  # noqa: N815
                              "fn(ctx, tool, input) -> input: may change the input, or raise to refuse"] = None
    afterToolCall: Annotated[ScriptFunction | None,  # noqa: N815
                             "fn(ctx, tool, input, output) -> output: may change the output"] = None


class HooksBridge(Bridge):
    name = "hooks"
    description = ("Functions run around every model request and tool call (llm.complete, llm.stream, each step "
                   "of an agent, tools). Returning nothing leaves the value unchanged; a request or response "
                   "returned may leave out fields it does not change. Raising aborts the call with the hook's "
                   "kind and message (in a tool hook: permission_denied stays, anything else is a tool_error). "
                   "With an afterGenerate hook, llm.stream's chunks come once the whole answer is through it. "
                   "A hook's own model requests and tool calls pass the hooks too.")

    @method
    def register(self, hooks: Annotated[HookSet, "any of the four hooks"]) -> int:
        """Add hooks for the rest of the run; returns an id for hooks.unregister."""
        return self.host.services.hooks.register(hooks.model_dump())

    @method
    def unregister(self, id: Annotated[int, "what hooks.register returned"]) -> bool:
        """Remove hooks; false if there were none with that id."""
        return self.host.services.hooks.unregister(id)
