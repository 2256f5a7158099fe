"""Agents: a model that calls tools until it has an answer, run by pydantic-ai's ``Agent``.

A spell describes an agent (:class:`~.definition.AgentDefinition`); a run
(:mod:`.run`) builds a pydantic-ai ``Agent`` for it on the run's model
(``host.services.models.model_for``), gives it the run's tools through the one
road every tool call takes (``host.services.tools.call``, :mod:`.toolset`),
validates a structured answer against its JSON Schema (:mod:`.output`),
accounts the run's usage in the spell's one account and records what happened
(:mod:`.record`).  The loop itself -- model requests, tool calls in parallel,
retries -- is pydantic-ai's, never ours.  Nothing here knows what language a
spell is written in: the ``llm`` bridge and the agent handle
(bridges/agent.py) only convert.
"""

from __future__ import annotations

from .definition import AgentDefinition
from .run import AgentResult, run_agent
from .subagent import register_agent_tool

__all__ = ["AgentDefinition", "AgentResult", "register_agent_tool", "run_agent"]
