"""An embedder's bridge that brings its own code into the VM (Bridge.vm_code),
for tests that the engines install such code generically, by language."""

from __future__ import annotations

from typing import Annotated

from llmspell.bridges.base import Bridge, method


class ProbeBridge(Bridge):
    name = "probe"
    description = "A host method and, in Lua and JavaScript, a VM-side helper built on it."
    vm_code = {"javascript": "vm_probe.js", "lua": "vm_probe.lua"}

    @method
    def shout(self, text: Annotated[str, "what to shout"]) -> str:
        """The text in capitals."""
        return text.upper()
