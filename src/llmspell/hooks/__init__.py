"""A run's hooks: the spell's functions that see, and may change, each model request and answer and
each tool call before and after it happens (see :mod:`.registry`)."""

from .registry import GENERATE_HOOKS, HOOK_NAMES, TOOL_HOOKS, Hook, HookRegistry

__all__ = ["GENERATE_HOOKS", "HOOK_NAMES", "TOOL_HOOKS", "Hook", "HookRegistry"]
