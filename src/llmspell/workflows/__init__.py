"""Workflows: steps (agents, tools, functions, other workflows) run in order, at once, on a condition or in a loop.

A workflow is data (:mod:`.definition`: checked when made, written out and
read back as tables, drawn by :mod:`.mermaid`); running it is
:mod:`.runner` (plain asyncio), which fills each step's templates
(:mod:`.template`, Jinja2's sandbox) and sends its action down the roads the
rest of the run uses: agents through :mod:`llmspell.agents`, tools through
``services.tools.call``, functions back on the spell's VM.  What a run gives
back is :mod:`.result`.  Nothing here knows what language a spell is written
in: the ``workflow`` bridge (bridges/workflow.py) only converts.
"""

from __future__ import annotations

from .definition import ACTIONS, ON_ERROR, TYPES, Step, Workflow
from .mermaid import to_mermaid
from .result import StepRecord, WorkflowResult
from .runner import WorkflowRunner

__all__ = ["ACTIONS", "ON_ERROR", "TYPES", "Step", "StepRecord", "Workflow", "WorkflowResult", "WorkflowRunner",
           "to_mermaid"]
