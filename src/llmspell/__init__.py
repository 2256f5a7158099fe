"""llmspell: run Lua, JavaScript and Tengo spells that drive LLMs, safely.

The public Python API::

    from llmspell import Runtime, SpellError
    result = Runtime(model="test").run("examples/lua/hello.lua", {"name": "Ada"})
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import SpellError

__version__ = "0.1.0"
__all__ = ["Call", "Interceptor", "Policy", "Runtime", "SpellError", "__version__"]

if TYPE_CHECKING:
    from .dispatch import Call, Interceptor
    from .runtime import Runtime
    from .sandbox.policy import Policy


def __getattr__(name: str) -> Any:
    # Lazy, so that `import llmspell` (and the CLI's start) stays cheap.
    if name == "Runtime":
        from .runtime import Runtime

        return Runtime
    if name in ("Interceptor", "Call"):
        from . import dispatch

        return getattr(dispatch, name)
    if name == "Policy":
        from .sandbox.policy import Policy

        return Policy
    raise AttributeError(name)
