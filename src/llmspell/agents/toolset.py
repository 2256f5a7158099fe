"""The run's tools as pydantic-ai tools: every call a model asks for goes through ``ToolService.call``.

Each tool an agent may use becomes a pydantic-ai ``Tool`` made from its JSON
Schema (``Tool.from_schema``), whose function does one thing: call the run's
tool service -- the one road where a tool is found, permitted, validated and
observed, for a spell's own calls and a model's alike.  pydantic-ai runs the
calls of one model response at once, as tasks; a script handler among them is
run back on the spell's VM by its engine.

What a failed call means for the run: an error of the tool (its handler
raised, its arguments were invalid, it returned what a model cannot read, its
result is larger than a prompt may be) goes back to the model as a failed
tool result (pydantic-ai's ``ToolFailed``) and the run goes on; a refusal
(``permission_denied``), a limit of the run or a cancellation ends the agent's
run with that error.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from llmspell.errors import SpellError
from llmspell.values import NULL, HostHandle, ScriptFunction

if TYPE_CHECKING:
    from llmspell.tools.service import ToolService


def ends_the_run(exc: SpellError) -> bool:
    """Does this error of a tool call end the agent's run (rather than go back to the model)?"""
    from llmspell.host import is_run_limit

    return exc.kind in ("permission_denied", "cancelled") or is_run_limit(exc)


def agent_tools(tools: ToolService, names: Sequence[str], max_result: int | None) -> list[Any]:
    """pydantic-ai tools for ``names`` (looked up now: ``not_found`` names the missing one); each call
    is recorded in its run's record (``ctx.deps.record``, see build.RunState)."""
    return [_tool(tools, tools.describe(name), max_result) for name in names]


def _tool(tools: ToolService, info: dict[str, Any], max_result: int | None) -> Any:
    from pydantic_ai import Tool
    from pydantic_ai.exceptions import ToolFailed

    name = info["name"]

    async def call(ctx: Any, **params: Any) -> Any:
        record = ctx.deps.record
        entry = record.start(name, params)
        try:
            result = model_readable(name, await tools.call(name, params), max_result)
        except SpellError as exc:
            record.finish(entry, f"{exc.kind}: {exc.message}", False)
            if ends_the_run(exc):
                raise
            raise ToolFailed(f"{exc.kind}: {exc.message}") from None
        record.finish(entry, result, True)
        return result

    return Tool.from_schema(call, name=name, description=info["description"] or None,
                            json_schema=info["parameters"], takes_ctx=True)


def model_readable(tool: str, value: Any, max_result: int | None) -> Any:
    """A tool's result as JSON data a model reads; ``tool_error`` for a function or a handle in it,
    or for a result larger than ``max_result`` bytes of JSON."""
    plain = _plain(tool, value, "")
    if max_result is not None:
        size = len(plain) if isinstance(plain, str) else len(json.dumps(plain, ensure_ascii=False))
        if size > max_result:
            raise SpellError("tool_error", f"{tool}: its result is {size} characters long, more than a prompt "
                             f"may hold ({max_result} bytes); return less")
    return plain


def _plain(tool: str, value: Any, path: str) -> Any:
    if value is NULL or value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, ScriptFunction | HostHandle):
        what = "a function" if isinstance(value, ScriptFunction) else "a handle"
        at = f" at {path}" if path else ""
        raise SpellError("tool_error", f"{tool}: returned {what}{at}, which a model cannot read; return data")
    if isinstance(value, list):
        return [_plain(tool, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):  # keys sorted: a Lua table has no order, and the model reads the same text
        return {str(k): _plain(tool, value[k], f"{path}.{k}" if path else str(k))
                for k in sorted(value, key=str)}
    return value
