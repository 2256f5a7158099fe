"""The services of one run: what bridges delegate to, in one documented dataclass.

Bridges convert a spell's values and delegate; the logic lives in services
that know nothing of scripts (``tools/``, ``models/``, later ``agents/``,
``state/``, ``events/``).  A run's services are made once per run and reached
as ``host.services`` -- typed fields, not a lookup of another bridge by its
global name -- so that two bridges share one thing (an agent and
``llm.complete`` one usage account, an agent and ``tools`` one tool registry)
by reading the same field.  Per-run state is this one dataclass, as
pydantic-ai keeps an agent run's dependencies in one: a later service or
resource (a state store, a connection pool) is one more field here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .events import EventBus
from .events._log import run_warning
from .guardrails import Guardrails
from .hooks import HookRegistry
from .models.observers import Observers
from .models.service import ModelService
from .models.usage import UsageAccount
from .state import StateService
from .tools.mcp import MCPServers
from .tools.observed import ToolObservers
from .tools.registry import ToolContext
from .tools.service import ToolService

if TYPE_CHECKING:
    from .host import SpellRun


@dataclass
class RunServices:
    """What one run's bridges use besides the host's own state (limits, output, policy)."""

    #: Model requests of the run (``llm.complete``, ``llm.stream``, what is available), under its limits.
    models: ModelService
    #: The run's tools: the built-in ones and those the spell registered.
    tools: ToolService
    #: Requests and tokens of the run (pydantic-ai's ``RunUsage`` and ``UsageLimits``); ``models`` counts here.
    usage: UsageAccount
    #: Who listens to which events (built-in and the spell's own); emitters ask ``events.listening(name)`` first.
    events: EventBus
    #: The spell's hooks around model requests and tool calls (``hooks.register``).
    hooks: HookRegistry
    #: The spell's checks of prompts and answers (``guardrails.add``).
    guardrails: Guardrails
    #: The MCP servers the spell connected (``tools.mcp``), whose tools are in ``tools``; closed with the run.
    mcp: MCPServers
    #: The run's states (``state.create``): their stores, open files and connections, closed with the run.
    state: StateService

    @classmethod
    def for_host(cls, host: SpellRun) -> RunServices:
        """The services of the run ``host`` describes: its settings, policy, limits, folder and default model."""
        usage = UsageAccount(max_llm_calls=host.limits.max_llm_calls, max_tokens=host.limits.max_tokens)
        models = ModelService(host.settings, policy=host.policy, default_model=host.model_override, account=usage)
        tools = ToolService(ToolContext(policy=host.policy, base=host.base_dir,
                                        search_endpoint=host.settings.search_endpoint,
                                        count_write=host.count_write))
        events = EventBus(warn=run_warning(host))
        hooks, guardrails = HookRegistry(), Guardrails()
        models.observers = Observers(hooks, guardrails, events)
        tools.observers = ToolObservers(hooks, events)
        state = StateService(host.policy, base=host.base_dir, reserve=host.count_write, events=events)
        mcp = MCPServers(tools=tools, policy=host.policy, children=host.children, base=host.base_dir,
                         configured=host.settings.mcp_servers, remaining=host.remaining)
        return cls(models=models, tools=tools, usage=usage, events=events, hooks=hooks, guardrails=guardrails,
                   mcp=mcp, state=state)

    def close(self) -> None:
        """Release what the run's services hold open (state databases), at the end of the run."""
        self.state.close()
