"""``events``: listen to the run's events (built-in and the spell's own) and emit the spell's own.

The run's :class:`~llmspell.events.EventBus` (``host.services.events``) holds
the listeners and delivers; this bridge converts.  A listener is a function
of the spell's, run back on its VM with ``{name, data, timestamp, id}``
merged with the event's fields.  The names of built-in events (``llm.*``,
``agent.*``, ``tool.*``, ``workflow.*``, ``state.*``) are the host's: a
spell listens to them but does not emit them, so a listener can trust that
``tool.executed`` means a tool ran.

A listener's error does not stop the others: ``events.emit`` raises the
first listener's error (its kind, and the event's name in its message) once
every listener ran; a listener of a built-in event that fails is reported on
the run's log and the tool call or model request goes on.
"""

from __future__ import annotations

from typing import Annotated, Any

from ..errors import SpellError, host_error
from ..values import ScriptFunction
from .base import Bridge, method

#: The namespaces of built-in events, which only the host emits.
BUILT_IN = ("llm.", "agent.", "tool.", "workflow.", "state.")


class EventsBridge(Bridge):
    name = "events"
    description = ("The run's events: listen to built-in ones and emit your own. Built-in: llm.request "
                   "{model, messages, temperature, max_tokens, stop, caller}, llm.response {content, model, "
                   "finish_reason, usage, duration (ms), caller}, tool.called {toolName, input, caller}, "
                   "tool.executed {toolName, duration (ms), success, error, caller}, agent.started, "
                   "agent.completed, workflow.*, state.changed. A listener's error does not stop the others; "
                   "for a built-in event it is logged as a warning.")

    def _on(self, what: str, pattern: str, fn: ScriptFunction, once: bool) -> int:
        if not pattern:
            raise SpellError("invalid_argument", f"events.{what}: pattern must not be empty "
                             "(an event name, or a glob such as agent.* or *)")

        async def listener(event: dict[str, Any]) -> None:
            await fn(event)

        return self.host.services.events.on(pattern, listener, once=once)

    @method
    def on(self, pattern: Annotated[str, "an event name or a glob (agent.*, *; * also matches dots)"],
           fn: Annotated[ScriptFunction, "called with the event: {name, data, timestamp, id} and its fields"]) -> int:
        """Call fn for every event whose name matches pattern; returns an id for events.off."""
        return self._on("on", pattern, fn, False)

    @method
    def once(self, pattern: Annotated[str, "an event name or a glob"],
             fn: Annotated[ScriptFunction, "called with the first matching event"]) -> int:
        """As on, for the first matching event only; returns an id for events.off."""
        return self._on("once", pattern, fn, True)

    @method
    def off(self, id: Annotated[int, "what events.on or events.once returned"]) -> bool:
        """Stop a listener; false if there was none with that id (already off, or a once that fired)."""
        return self.host.services.events.off(id)

    @method
    async def emit(self, name: Annotated[str, "the event's name (not llm.*, agent.*, tool.*, workflow.*, state.*)"],
                   data: Annotated[dict[str, Any] | None, "the event's fields"] = None) -> int:
        """Deliver an event of the spell's own to its listeners, in the order they were added; returns
        how many were called. Raises the first listener's error after all ran. Emitted while another
        event is being delivered (from a listener, say), it is delivered right after that one and emit
        returns at once; a listener that keeps emitting ends the run after 1000 such events."""
        if not name:
            raise SpellError("invalid_argument", "events.emit: name must not be empty")
        if name.startswith(BUILT_IN):
            raise SpellError("invalid_argument", f"events.emit: {name!r} is in the namespace of built-in "
                             "events, which only llmspell emits", hint="give your events a name of your own, "
                             "such as app.ready")
        called, failed = await self.host.services.events.deliver(name, data)
        if failed:
            event, exc = failed[0]
            if not isinstance(exc, SpellError):
                exc = host_error(exc)
            more = f" (and {len(failed) - 1} more listener error(s))" if len(failed) > 1 else ""
            raise SpellError(exc.kind, f"events.emit: a listener of {event!r} failed: {exc.message}{more}",
                             file=exc.file, line=exc.line, column=exc.column, stack=exc.stack, hint=exc.hint)
        return called
