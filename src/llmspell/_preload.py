"""Libraries a spell's forked worker would import, imported once in the runtime's process instead.

A worker is forked for every run (sandbox/worker.py), so whatever it
imports, it imports again each run: the model libraries cost about 0.8 s,
the run's services (tools, events, hooks, models, state) 15-35 ms, Jinja2
about 25 ms.  A :class:`~llmspell.Runtime` that serves many runs imports the
libraries a spell's text names here, the first time a spell names them, and
what its language's engine imports at every start (``Engine.run_imports``), so
every later worker starts with them.  A spell that names none of these words
pays for none of them (``llmspell run hello.lua`` stays as quick to start).
``bench/warm_runs.py`` measures a run in a Runtime that serves many.
"""

from __future__ import annotations

#: What every bridge with run services needs (services.py imports tools, events, hooks, models, state).
_SERVICES = ("llmspell.services", "jsonschema")

_MODELS = ("pydantic_ai.direct", "pydantic_ai.agent", "pydantic_ai.models.openai", "pydantic_ai.providers.openai",
           "pydantic_ai.models.test", "pydantic_ai.models.fallback", "llmspell.models.calls",
           "llmspell.models.remote", "llmspell.bridges.agent", "llmspell.agents.run")

#: A word a spell's text may hold, and the modules a run of that spell would import.
PRELOADS: dict[str, tuple[str, ...]] = {
    "llm": _SERVICES + _MODELS,
    "workflow": _SERVICES + ("llmspell.workflows.runner", "llmspell.workflows.template"),
    "tools": _SERVICES,
    "state": _SERVICES,
    "events": _SERVICES,
    "hooks": _SERVICES,
    "guardrails": _SERVICES,
}


def preload(text: str, done: set[str]) -> None:
    """Import the modules of the words of :data:`PRELOADS` in ``text`` that are not in ``done`` yet."""
    for word, modules in PRELOADS.items():
        if word not in done and word in text:
            preload_modules(word, modules, done)


def preload_modules(key: str, modules: tuple[str, ...], done: set[str]) -> None:
    """Import ``modules`` (an engine's ``run_imports``, a word's libraries) and add ``key`` to ``done``."""
    done.add(key)
    for name in modules:
        try:
            __import__(name)
        except ImportError:  # an optional provider's extra is missing: the run will say so
            pass
