"""Tools from Model Context Protocol servers, connected for one run (``tools.mcp``).

A spell (or ``[mcp.servers.NAME]`` in llmspell.toml) names a server: a program
to start and speak to over its stdin/stdout, or a streamable HTTP endpoint.
Its tools become tools of the run (:class:`~llmspell.tools.ToolService`), so
``tools.NAME``, ``tools.call``, ``tools.list()`` and agents reach them like any
other, validated against the JSON Schema the server gives.

The protocol is pydantic-ai's :class:`~pydantic_ai.mcp.MCPToolset` (on FastMCP's
client and the MCP SDK): nothing here frames, parses or answers a message.  What
is ours is what the sandbox must decide:

- **stdio**: the program must be an ``--allow-run`` program (the policy's own
  check, so ``./DATA/python3`` or a link to another program is not ``python3``).
  It is started through the run's :class:`~llmspell.sandbox.processes.Children`,
  not by the SDK's ``stdio_client``, which starts it in a session of its own
  and with the host's ``HOME``, ``PATH``, ``USER``...: the run could not end it
  if its worker were killed, and it would get more than it was given.  Here it
  runs in a process group of its own inside the worker's session (ended when the
  run ends, or by the parent when it kills the worker), in the folder of the
  spell or config file that named it, with exactly the environment given.  The
  SDK's JSON-RPC line framing (``mcp.server.stdio.stdio_server``: the same
  newline-delimited messages both ways) runs over its pipes, read through a
  ``StreamReader`` whose line limit caps one message at :data:`MAX_MESSAGE`.
- **HTTP**: the URL must be an ``--allow-net`` host; every request the SDK
  makes (the first, each redirect it follows within the origin, each reconnect)
  is checked again by the sandbox (``net.check_net_async``: DNS resolved once,
  private and loopback addresses refused unless granted) and goes to the very
  address that was checked, never to another host; bodies are capped at
  :data:`MAX_MESSAGE` and never compressed.

**Where a server runs.**  In the spell's worker, as its child, under the
worker's kernel confinement (Landlock and seccomp are inherited, as for every
program a spell runs): it may execute only the ``--allow-run`` programs (and
their interpreters), read what the worker may read (the runtime's files, the
``--allow-read`` grants: a Python server's script must be one of those), write
only the ``--allow-write`` grants, and connect only to the worker's ports.
Nothing is loosened for it.  An inline run is not confined, so there the grant
of a program is the whole of its limit.

**Lifetime.**  Connections close when the run ends (normally, on an error or
on its time limit): a stdio server first gets its stdin closed and a moment to
exit, then its process group is killed.  Connecting and each call are bounded
by the server's ``timeout`` and by the run's own deadline; a server that hangs,
dies or says too much is a clear error naming it, never a wait past the run.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import re
import subprocess
from collections.abc import Callable, Collection, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmspell.config import MCPServerSettings
from llmspell.display import one_line
from llmspell.errors import SpellError
from llmspell.sandbox.net import DEFAULT_MAX_BYTES, check_net_async

from .schema import to_json_schema

if TYPE_CHECKING:
    from llmspell.sandbox.policy import Policy
    from llmspell.sandbox.processes import Children

    from .service import ToolService

#: The most one message from a server may hold (a tool's result, its list of tools), in bytes:
#: the cap of an HTTP response (sandbox/net.py).  A larger one ends the connection.
MAX_MESSAGE = DEFAULT_MAX_BYTES
#: Seconds a server may take to start and answer, and to answer each call, unless its table says.
DEFAULT_TIMEOUT = 60.0
#: Seconds a stdio server has to exit by itself once its stdin is closed, before it is killed.
STOP_GRACE = 0.5
#: Seconds closing one connection may take before it is abandoned.
CLOSE_WAIT = 2.0
#: Tools one server may offer.
MAX_TOOLS = 1000
#: The bytes of a server's stderr kept to explain its end (the last ones).
_STDERR_TAIL = 2000
#: Tool names a server may offer (MCP's recommended characters).
_TOOL_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")


class MCPServers:
    """The MCP servers one run connected, each kept open until :meth:`close`."""

    def __init__(self, *, tools: ToolService, policy: Policy, children: Children, base: Path,
                 configured: Mapping[str, MCPServerSettings] | None = None,
                 remaining: Callable[[], float | None] = lambda: None) -> None:
        self.tools = tools
        self.policy = policy
        self.children = children
        self.base = base
        self.configured = dict(configured or {})
        #: Seconds the run has left (``SpellRun.remaining``): no wait here outlasts it.
        self.remaining = remaining
        self._connections: list[_Connection] = []
        self._closed = False

    def settings_for(self, server: str | Mapping[str, Any], where: str = "tools.mcp") -> MCPServerSettings:
        """The server a spell names: a ``[mcp.servers.NAME]`` name, or a table of its own (checked)."""
        if isinstance(server, str):
            found = self.configured.get(server)
            if found is None:
                known = ", ".join(sorted(self.configured)) or "none"
                raise SpellError("not_found", f"{where}: there is no MCP server named {server!r} in the "
                                 f"configuration (configured: {known})",
                                 hint=f"add [mcp.servers.{server}] with command or url to llmspell.toml, "
                                      "or pass the server as a table")
            return found
        fields = {k: v for k, v in server.items() if v is not None}
        if "args" in fields:
            fields["args"] = tuple(fields["args"])
        settings = MCPServerSettings(name=_label(fields), folder=self.base, **fields)
        problem = settings.problem()
        if problem is not None:
            key, what = problem
            raise SpellError("invalid_argument", f"{where}: server{'.' + key if key else ''}: {what}")
        return settings

    async def connect(self, server: str | Mapping[str, Any], *, where: str = "tools.mcp",
                      reserved: Collection[str] = ()) -> list[str]:
        """Connect ``server`` for the rest of the run; its tools join the run's tools.  Returns their
        names.  ``reserved``: names a tool may not have (the ``tools`` bridge's own methods)."""
        settings = self.settings_for(server, where)
        if self._closed:
            raise SpellError("cancelled", f"{where}: the run has ended: no MCP server may connect now")
        for connection in self._connections:
            if connection.settings == settings and connection.alive():
                return list(connection.names)
        timeout = settings.timeout or DEFAULT_TIMEOUT
        try:  # refused before anything starts or is sent
            if settings.command is not None:
                program = self.policy.check_exec(settings.command, base=settings.folder or self.base)
                connection: _Connection = _StdioConnection(settings, program, self.children)
            else:
                assert settings.url is not None
                await check_net_async(self.policy, settings.url)
                connection = _HttpConnection(settings, self.policy)
        except SpellError as exc:
            exc.message = f"{where}: {exc.message}"
            raise
        self._connections.append(connection)
        try:
            listed = await self._bounded(connection.open(), connection, timeout, "start and list its tools")
            specs = self._tool_specs(connection, listed, reserved, where)
        except BaseException as exc:
            self._connections.remove(connection)
            await connection.close()
            if isinstance(exc, SpellError) and not exc.run_limit:
                exc.message = f"{where}: {exc.message}"
            raise
        for name, server_name, description, schema in specs:
            call = connection.caller(server_name, self._bounded, timeout)
            self.tools.register(name, description, schema, call, where=f"{where}: {connection.label}: {name}",
                                reserved=reserved)
        connection.names = [name for name, *_ in specs]
        return list(connection.names)

    def _tool_specs(self, connection: _Connection, listed: list[Any], reserved: Collection[str],
                    where: str) -> list[tuple[str, str, str, dict[str, Any]]]:
        """(name, the server's name, description, JSON Schema) of each tool, prefixed; every name and
        schema checked before any tool is added, so a server's tools join all together or not at all."""
        prefix = connection.settings.prefix
        if len(listed) > MAX_TOOLS:
            raise connection.failed(f"it offers {len(listed)} tools, more than the {MAX_TOOLS} a server may")
        specs = []
        seen: set[str] = set()
        for tool in listed:
            if not isinstance(tool.name, str) or not _TOOL_NAME.fullmatch(tool.name):
                shown = one_line(str(tool.name))[:80]
                raise connection.failed(f"it offers a tool named {shown!r}, which is not a tool name "
                                        "(letters, digits, _, . and -, at most 128)")
            name = f"{prefix}_{tool.name}" if prefix else tool.name
            if name in seen:
                raise connection.failed(f"it offers two tools named {name!r}")
            seen.add(name)
            if name in self.tools.names() or name in reserved:
                raise SpellError("invalid_argument", f"the MCP server {connection.label} offers a tool "
                                 f"named {name!r}, and the run already has one",
                                 hint='give the server a prefix (prefix = "NAME" puts NAME_ in front of its '
                                      "tool names)")
            schema = to_json_schema(tool.input_schema if isinstance(tool.input_schema, dict) else {},
                                    f"{connection.label}: {name}")
            specs.append((name, tool.name, str(tool.description or ""), schema))
        return specs

    async def _bounded(self, work: Any, connection: _Connection, timeout: float, what: str) -> Any:
        """``work`` within the server's ``timeout`` and the run's deadline; its failures named."""
        left = self.remaining()
        # Past the run's deadline the engine cancels the call and reports the run's own timeout.
        limit = timeout if left is None or timeout <= left else None
        try:
            async with asyncio.timeout(limit):
                return await work
        except TimeoutError:
            raise SpellError("timeout", f"the MCP server {connection.label} did not {what} within {timeout:g}s",
                             hint="check that the server works on its own, or give it longer with timeout = "
                                  "SECONDS in its table") from None
        except SpellError:
            raise
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - whatever the client raised becomes the server's error
            raise connection.explain(exc, what) from None

    async def close(self) -> None:
        """Close every connection (bounded: a server that does not go is killed or left)."""
        self._closed = True
        connections, self._connections = self._connections, []
        if connections:
            await asyncio.gather(*(c.close() for c in connections), return_exceptions=True)


class _Connection:
    """One server's connection: its toolset (pydantic-ai's MCPToolset) and what explains its failures."""

    def __init__(self, settings: MCPServerSettings) -> None:
        self.settings = settings
        self.label = f'"{settings.name}"'
        self.names: list[str] = []
        self.toolset: Any = None
        self._open = False
        #: Set when the sandbox refused something the client tried (a redirect, a message too large).
        self.refusal: SpellError | None = None

    def alive(self) -> bool:
        return self._open

    async def open(self) -> list[Any]:
        """Start or reach the server, and list its tools."""
        self.toolset = self.build()
        await self.toolset.__aenter__()
        self._open = True
        return await self.toolset.list_tools()

    def build(self) -> Any:
        raise NotImplementedError

    def caller(self, server_name: str, bounded: Callable[..., Any], timeout: float) -> Callable[[dict], Any]:
        """The function of the tool ``server_name`` of this server: the call, bounded, its result plain data."""

        async def call(params: dict[str, Any]) -> Any:
            if not self.alive():
                raise self.gone(server_name)
            result = await bounded(self._call(server_name, params), self, timeout, f"answer the call of {server_name}")
            return plain_result(result)

        return call

    async def _call(self, name: str, params: dict[str, Any]) -> Any:
        from pydantic_ai.exceptions import ModelRetry, ToolFailed

        try:
            return await self.toolset.direct_call_tool(name, params)
        except ToolFailed as exc:  # the server's own answer: the tool failed
            raise SpellError("tool_error", _one(exc.message)) from None
        except ModelRetry as exc:  # the protocol failed (tool_error_behavior="failed" keeps these apart)
            raise self.explain(exc.__cause__ or exc, f"answer the call of {name}") from None

    def ended(self) -> bool:
        """Has the server gone (its process ended)?"""
        return False

    def gone(self, name: str) -> SpellError:
        """Why the tool ``name`` cannot be called: the connection has ended."""
        return self.refusal or self.failed(f"the connection has ended; the call of {name} was not sent")

    def failed(self, what: str, hint: str | None = None) -> SpellError:
        return SpellError("tool_error", f"the MCP server {self.label}: {what}", hint=hint)

    def explain(self, exc: BaseException, what: str) -> SpellError:
        """The error a failure of ``what`` means: a refusal of the sandbox, the server's end, or its message."""
        if self.refusal is not None:
            return self.refusal
        return self.failed(f"could not {what}: {_one(_reason(exc))}")

    async def close(self) -> None:
        self._open = False
        if self.toolset is not None:
            with contextlib.suppress(Exception):  # the client's own teardown failing is nothing to report
                async with asyncio.timeout(CLOSE_WAIT):
                    await self.toolset.__aexit__(None, None, None)


class _StdioConnection(_Connection):
    """A program started for the run, spoken to over its stdin and stdout."""

    def __init__(self, settings: MCPServerSettings, program: str, children: Children) -> None:
        super().__init__(settings)
        self.program = program
        self.children = children
        self.process: subprocess.Popen | None = None
        self.stderr = bytearray()
        self._pipes: list[asyncio.BaseTransport] = []
        self.writer: asyncio.StreamWriter | None = None

    def build(self) -> Any:
        from pydantic_ai.mcp import MCPToolset

        from ._mcp_transports import PipesTransport

        return MCPToolset(PipesTransport(self.start, self.label), tool_error_behavior="failed",
                          init_timeout=None, read_timeout=None)

    async def start(self) -> tuple[Any, Any]:
        """Start the program (one of the run's Children) and connect its pipes to this event loop."""
        from ._mcp_transports import PipeLines, PipeWriter, StderrTail

        settings = self.settings
        argv = [self.program, *settings.args]  # the program the policy resolved, whatever name led to it
        folder = settings.folder
        self.process = self.children.start(
            argv, executable=self.program, env=dict(settings.env), cwd=os.fspath(folder) if folder else None,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_MESSAGE, loop=loop)
        out, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader, loop=loop),
                                              self.process.stdout)
        err, _ = await loop.connect_read_pipe(lambda: StderrTail(self.stderr, _STDERR_TAIL), self.process.stderr)
        into, protocol = await loop.connect_write_pipe(asyncio.streams.FlowControlMixin, self.process.stdin)
        self.writer = asyncio.StreamWriter(into, protocol, None, loop)
        self._pipes = [out, err, into]
        return PipeLines(reader, self.too_large), PipeWriter(self.writer)

    def too_large(self) -> None:
        self.refusal = self.failed(f"it sent a message larger than {MAX_MESSAGE} bytes (the limit); the "
                                   "connection is closed")
        self._open = False
        self._kill()

    def ended(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def alive(self) -> bool:
        return self._open and not self.ended()

    def gone(self, name: str) -> SpellError:
        return self.explain(None, f"answer the call of {name}")

    def explain(self, exc: BaseException | None, what: str) -> SpellError:
        if self.refusal is not None:
            return self.refusal
        process = self.process
        if process is not None and (process.poll() is not None or self._exits_soon(process)):
            self._open = False
            code = process.returncode
            how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
            said = bytes(self.stderr).decode("utf-8", "replace").strip()
            hint = f"its last words on stderr: {one_line(said[-500:])}" if said else \
                "run the server by itself to see why it stops"
            return self.failed(f"it {how} before it could {what}", hint=hint)
        return self.failed(f"could not {what}: {_one(_reason(exc))}")

    @staticmethod
    def _exits_soon(process: subprocess.Popen) -> bool:
        # Its closed pipe is often seen a moment before its exit.
        try:
            process.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            return False
        return True

    def _kill(self) -> None:
        if self.process is not None:
            self.children.kill(self.process)

    async def close(self) -> None:
        was_open, self._open = self._open, False
        process = self.process
        if process is not None and process.poll() is None:
            if self.writer is not None:  # MCP's way to stop a stdio server: close its input, then kill it
                self.writer.close()
            if was_open:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(STOP_GRACE):
                        while process.poll() is None:
                            await asyncio.sleep(0.01)
            self._kill()
        await super().close()
        for pipe in self._pipes:
            pipe.close()


class _HttpConnection(_Connection):
    """A streamable HTTP endpoint, every request to which the sandbox checks."""

    def __init__(self, settings: MCPServerSettings, policy: Policy) -> None:
        super().__init__(settings)
        self.policy = policy

    def build(self) -> Any:
        import httpx2
        from fastmcp.client.transports import StreamableHttpTransport
        from pydantic_ai.mcp import MCPToolset

        from ._mcp_transports import CheckedTransport

        url = self.settings.url or ""
        checked = CheckedTransport(self.policy, url, self.label, MAX_MESSAGE, self.refuse)
        headers = dict(self.settings.headers)
        timeout = httpx2.Timeout(self.settings.timeout or DEFAULT_TIMEOUT)

        def client(**_: Any) -> httpx2.AsyncClient:  # the SDK's own redirect handling stays within the origin
            return httpx2.AsyncClient(transport=checked, headers=headers, follow_redirects=False, trust_env=False,
                                      timeout=timeout)

        transport = StreamableHttpTransport(url, httpx_client_factory=client, max_sse_event_size=MAX_MESSAGE)
        return MCPToolset(transport, tool_error_behavior="failed", init_timeout=None, read_timeout=None)

    def refuse(self, error: SpellError) -> None:
        """The sandbox refused a request (or a response too large): the connection is over, and this is why."""
        self.refusal = error
        self._open = False


def plain_result(value: Any) -> Any:
    """A tool's result as plain data a spell can hold: binary parts (an image) as
    ``{type, media_type, data}`` with the data in base64."""
    from pydantic_ai.messages import BinaryContent

    if isinstance(value, BinaryContent):
        kind = "image" if value.is_image else "audio" if value.is_audio else "binary"
        return {"type": kind, "media_type": value.media_type, "data": base64.b64encode(value.data).decode("ascii")}
    if isinstance(value, list):
        return [plain_result(v) for v in value]
    return value


def _label(fields: Mapping[str, Any]) -> str:
    """How messages name a server a spell gave as a table: its program and arguments, or its URL."""
    if fields.get("command"):
        words = [os.path.basename(str(fields["command"])),
                 *[os.path.basename(a) if "/" in a and not a.startswith("-") else a for a in fields.get("args", ())]]
        text = " ".join(words)
    else:
        text = str(fields.get("url") or "")
    text = one_line(text)
    return text if len(text) <= 80 else text[:77] + "..."


def _reason(exc: BaseException | None) -> str:
    """The innermost message of a failure (the client wraps them in groups and runtime errors)."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    if exc is None:
        return "the connection ended"
    text = str(exc) or type(exc).__name__
    return text


def _one(text: str) -> str:
    text = one_line(text)
    return text if len(text) <= 500 else text[:497] + "..."

