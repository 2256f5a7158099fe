"""The run's event bus: built-in events (``llm.*``, ``agent.*``, ``tool.*``, ``workflow.*``,
``state.changed``) and a spell's own, delivered to the spell's listeners (see :mod:`.bus`)."""

from .bus import Event, EventBus, Listener

__all__ = ["Event", "EventBus", "Listener"]
