"""``env``: environment variables, only those the policy names (--allow-env)."""

from __future__ import annotations

from typing import Annotated

from ..sandbox.env import get_env
from .base import Bridge, method


class EnvBridge(Bridge):
    name = "env"
    description = "Environment variables the sandbox policy allows (nothing by default)."

    @method
    def get(self, name: Annotated[str, "the variable's name"]) -> str | None:
        """The variable's value (nil when unset); permission_denied unless --allow-env grants it."""
        return get_env(self.host.policy, name)
