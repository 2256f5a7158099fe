"""``tools``: built-in tools (through the sandbox) and the spell's own tools.

A tool is a name, a description, a JSON Schema of its parameters and a
function.  The run's tools -- the built-in ones of :mod:`llmspell.tools` and
those a spell adds with ``tools.register`` (its handler is a script function,
run back in the spell's VM) -- are one :class:`~llmspell.tools.ToolService`
(``host.services.tools``), which looks them up, validates their arguments and
runs them.  This bridge only converts: ``tools.NAME(...)`` with one table of
parameters or positional arguments in the tool's positional order, a tool
definition, a tool handle.

Positional order is the same in every language for the same spell
(``tools/schema.py`` ``positional_order``): parameters registered as a list
bind in the list's order; otherwise the schema's ``required`` names in their
order, then the other parameters sorted by name -- never a table's or map's
own key order, which Lua and Tengo do not keep.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from ..errors import SpellError, host_error
from ..values import HostHandle, ScriptFunction
from .base import Bridge, Options, method


class ToolDefinition(Options):
    name: Annotated[str, "the tool's name (letters, digits, _ and -)"]
    description: Annotated[str, "what the tool does, for a model deciding to call it"] = ""
    parameters: Annotated[dict[str, Any] | list[Any] | None,
                          "{name = {type, required, description}}, a list of {name, type, required, "
                          "description} (whose order is the positional order), or a JSON Schema"] = None
    handler: Annotated[ScriptFunction, "called with the parameters table; its return value is the result"]


class MCPServer(Options):
    command: Annotated[str | None, "a program to start for the run, spoken to over its stdin and stdout "
                       "(needs --allow-run for it)"] = None
    args: Annotated[list[str], "the program's arguments"] = []
    env: Annotated[dict[str, str], "the program's whole environment (no variable of the host is passed)"] = {}
    url: Annotated[str | None, "a streamable HTTP endpoint (needs --allow-net for its host)"] = None
    headers: Annotated[dict[str, str], "sent with every request to url, never to another host"] = {}
    prefix: Annotated[str | None, "put with _ in front of the server's tool names (fs: fs_read_file)"] = None
    timeout: Annotated[float | None, "seconds the server may take to start, and to answer each call "
                       "(default 60)"] = None


class ToolInfo(Options):
    name: str
    description: str
    parameters: dict[str, Any]


class ToolHandle(Bridge):
    """A tool object, as ``tools.register`` returns it (agents take these)."""

    name = "tool"

    def __init__(self, host: Any, tool_name: str) -> None:
        super().__init__(host)
        self.tool_name = tool_name

    def script_attributes(self) -> dict[str, Any]:
        tool = self.host.services.tools.get(self.tool_name)
        return {"name": self.tool_name, "description": tool.description}

    @method
    async def call(self, params: Annotated[dict[str, Any] | None, "the tool's parameters"] = None) -> Any:
        """Call this tool."""
        return await self.host.services.tools.call(self.tool_name, params or {})


class ToolsBridge(Bridge):
    name = "tools"
    description = "Built-in tools (file_read, http_get, calculator, ...) and the spell's own."
    #: ``tools.NAME(...)`` for any NAME not a method is ``tools.call("NAME", ...)``.
    dynamic_method: ClassVar[str | None] = "call"

    def static_members(self) -> list[str]:
        """Names that ``tools.NAME`` reaches now (built-in and registered), for languages without a
        fallback lookup."""
        return self.host.services.tools.names()

    @method
    async def call(self, name: Annotated[str, "the tool's name"], *args: Annotated[Any, "parameters"]) -> Any:
        """Call a tool with one table of parameters, or with positional arguments.
        Positional order: a list of parameters' own order, else required ones as listed, then the rest by name."""
        tools = self.host.services.tools
        try:
            return await tools.call(name, tools.bind(name, list(args)))
        except SpellError:
            raise
        except Exception as exc:  # named after the tool the spell called, not after tools.call
            raise host_error(exc, f"tools.{name}") from None

    @method
    def register(self, spec: Annotated[ToolDefinition, "the tool"]) -> HostHandle:
        """Add a tool whose handler is a function of this spell; returns the tool object."""
        self.host.services.tools.register(spec.name, spec.description, spec.parameters, spec.handler,
                                          where="tools.register", reserved=ToolsBridge.specs)
        return ToolHandle(self.host, spec.name).handle()

    @method
    async def mcp(self, server: Annotated[str | MCPServer, "a server: {command, args, env} or {url, headers}, or "
                                          "the NAME of an [mcp.servers.NAME] of llmspell.toml"]) -> list[str]:
        """Connect a Model Context Protocol server for the rest of the run; its tools join tools.NAME,
        tools.list() and agents' tools. Returns their names."""
        given = server if isinstance(server, str) else server.model_dump(exclude_defaults=True)
        return await self.host.services.mcp.connect(given, reserved=ToolsBridge.specs)

    @method
    def list(self) -> list[ToolInfo]:
        """Every tool this spell can call: {name, description, parameters}."""
        return self.host.services.tools.list()
