"""One run's tools: the built-in ones and those registered during the run, behind one registry.

Whoever calls a tool -- a spell through the ``tools`` bridge today, an agent
loop on a model's behalf later -- goes through :class:`ToolService`, so a tool
is found, permitted, validated and run the same way for every caller: the name
is looked up (``not_found`` lists what exists), the policy may disable it
(``tools.NAME`` in ``disabled_builtins``), its arguments are validated against
its JSON Schema (:mod:`.schema`), and a registered tool's own failure becomes a
``tool_error`` that names it.  Nothing here knows what language a registered
function is written in: it is an async function of one dict.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any

from llmspell.errors import SpellError

from .observed import ToolObservers
from .registry import TOOL_SPECS, ToolContext, ToolSpec
from .schema import listed_order, to_json_schema

#: A tool's function, registered at run time: the validated parameters in, the result out.
ToolFunction = Callable[[dict[str, Any]], Awaitable[Any]]


class ToolService:
    """The tools one run may call: ``built_in`` (the same for every run) and its own registered ones."""

    def __init__(self, context: ToolContext, built_in: Mapping[str, ToolSpec] = TOOL_SPECS) -> None:
        self.context = context
        self.built_in = built_in
        self.registered: dict[str, ToolSpec] = {}
        #: The run's tool hooks and listeners (tools/observed.py), set by the run's services.
        self.observers: ToolObservers | None = None

    def names(self) -> list[str]:
        """Every tool's name, sorted."""
        return sorted({*self.built_in, *self.registered})

    def get(self, name: str) -> ToolSpec:
        """The tool called ``name`` (a registered one first), or ``not_found`` listing the tools."""
        tool = self.registered.get(name) or self.built_in.get(name)
        if tool is None:
            raise SpellError("not_found", f"there is no tool named {name!r} (tools: {', '.join(self.names())})")
        return tool

    def describe(self, name: str) -> dict[str, Any]:
        """``{name, description, parameters}`` of one tool."""
        return self.get(name).describe()

    def list(self) -> list[dict[str, Any]]:
        """Every tool, described, by name."""
        return [self.describe(name) for name in self.names()]

    def bind(self, name: str, args: list[Any]) -> dict[str, Any]:
        """The parameters of a call given one dict of them, or positional arguments in the tool's
        positional order (schema.positional_order: the same in every language).  An unset (None)
        argument counts as not given: a language may pass nil for a missing one."""
        props = self.get(name).positional
        while args and args[-1] is None:
            args = args[:-1]
        if len(args) == 1 and isinstance(args[0], dict) and (set(args[0]) <= set(props) or not props):
            return args[0]
        if len(args) > len(props):
            raise SpellError("invalid_argument", f"tools.{name}: takes at most {len(props)} argument(s) "
                             f"({', '.join(props) or 'none'}), got {len(args)}")
        return {key: value for key, value in zip(props, args, strict=False) if value is not None}

    def register(self, name: str, description: str, parameters: Mapping[str, Any] | list | None,
                 function: ToolFunction, *, where: str, reserved: Collection[str] = ()) -> ToolSpec:
        """Add a tool for the rest of the run (replacing a registered one of the same name).
        ``parameters``: a JSON Schema object, the short ``{name: {type, required}}`` form or a list
        of ``{name, type, required}`` (whose order is the positional order);
        ``reserved``: names the caller keeps for itself; ``where`` starts error messages."""
        if name in self.built_in or name in reserved:
            raise SpellError("invalid_argument", f"{where}: {name!r} is already a built-in name")
        schema = to_json_schema(parameters, where)
        tool = ToolSpec(name, description, schema, _failing_as_tool_error(name, function), takes_dict=True,
                        order=listed_order(parameters))
        self.registered[name] = tool
        return tool

    async def call(self, name: str, params: Mapping[str, Any], *, caller: str = "tools") -> Any:
        """Run a tool: ``not_found``, then the policy's ``permission_denied``, then argument validation;
        between the run's tool hooks and ``tool.*`` events when any would see it (tools/observed.py).
        ``caller``: who asks (the hooks' ``ctx.caller``), a spell's ``tools`` or an agent."""
        tool = self.get(name)
        self.context.policy.check_builtin(f"tools.{name}")
        observers = self.observers
        if observers is None or not observers.watching():
            return await tool.invoke(params, self.context)
        return await observers.call(name, params, lambda p: tool.invoke(p, self.context), caller)


def _failing_as_tool_error(name: str, function: ToolFunction) -> ToolFunction:
    """``function``, whose own errors become ``tool_error: NAME: message``; a limit of the
    run and a cancellation pass through untouched (they end the run, not the tool), and so
    does a ``permission_denied`` (a refusal is not the tool's failure: an agent's run ends on it)."""
    from llmspell.host import is_run_limit

    async def run(params: dict[str, Any]) -> Any:
        try:
            return await function(params)
        except SpellError as exc:
            if is_run_limit(exc) or exc.kind in ("cancelled", "permission_denied"):
                raise
            raise SpellError("tool_error", f"{name}: {exc.message}", hint=exc.hint) from None

    return run
