"""The two ways :mod:`.mcp` reaches an MCP server, as FastMCP transports, with the sandbox in them.

Imported only when a spell connects a server (FastMCP, the MCP SDK and httpx2
cost a fraction of a second to import).  Neither transport speaks the protocol:

- :class:`PipesTransport` hands the pipes of a program :mod:`.mcp` started to the
  SDK's own newline-delimited JSON-RPC framing (``mcp.server.stdio.stdio_server``
  with explicit streams: the same lines flow both ways) and the SDK's client
  session.  The pipes are read on the event loop (no thread to strand), through a
  ``StreamReader`` whose line limit caps one message.
- :class:`CheckedTransport` is the httpx2 transport under the SDK's streamable
  HTTP client: every request (the first, a redirect the SDK follows within the
  origin, a reconnect, the closing DELETE) is checked by the sandbox
  (``net.check_net_async``: the host against ``--allow-net``, DNS resolved once,
  each address checked) and sent to the address that was checked, with the name
  in ``Host`` and TLS SNI; a request for another host is refused; bodies are
  asked for uncompressed and capped.

What the MCP libraries log often carries a server's own words (a server's log
notifications, a message it sent that does not parse), and FastMCP writes its
log straight to the terminal: so from the first connection on, their loggers
write to llmspell's debug log only, each record one escaped line
(``LLMSPELL_DEBUG=1`` shows them).  A server cannot write to the user's terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from typing import Any

import httpx2
from fastmcp.client.transports.base import ClientTransport, TransportOptions
from mcp.server.stdio import stdio_server

from llmspell.display import one_line
from llmspell.errors import SpellError
from llmspell.sandbox.net import check_net_async
from llmspell.sandbox.policy import Policy

#: The most of one library log record kept.
_LOG_SHOWN = 2000
_log = logging.getLogger("llmspell.mcp")


class _DebugOnly(logging.Handler):
    """A record of the MCP libraries, as one escaped line of llmspell's debug log."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a record whose arguments do not fit its format
            text = str(record.msg)
        _log.debug("%s: %s", record.name, one_line(text)[:_LOG_SHOWN])


for _name in ("fastmcp", "mcp"):
    _logger = logging.getLogger(_name)
    _logger.handlers = [_DebugOnly()]
    _logger.propagate = False


class PipeLines:
    """A server's stdout as ``stdio_server`` reads its input: one line at a time, each at most
    the reader's limit; a longer one calls ``too_long`` and ends the input."""

    def __init__(self, reader: asyncio.StreamReader, too_long: Callable[[], None]) -> None:
        self.reader = reader
        self.too_long = too_long

    def __aiter__(self) -> PipeLines:
        return self

    async def __anext__(self) -> str:
        try:
            line = await self.reader.readuntil(b"\n")
        except asyncio.IncompleteReadError as exc:
            if not exc.partial:
                raise StopAsyncIteration from None
            line = exc.partial
        except asyncio.LimitOverrunError:
            self.too_long()
            raise StopAsyncIteration from None
        return line.decode("utf-8", "replace")


class PipeWriter:
    """A server's stdin as ``stdio_server`` writes its output.  A server that is gone is left
    to the reader to report (its stdout ends)."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self.writer = writer

    async def write(self, text: str) -> None:
        if not self.writer.is_closing():
            self.writer.write(text.encode("utf-8"))

    async def flush(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self.writer.drain()


class StderrTail(asyncio.Protocol):
    """Keeps the last ``size`` bytes a server wrote to stderr (to explain its end), drops the rest."""

    def __init__(self, into: bytearray, size: int) -> None:
        self.into = into
        self.size = size

    def data_received(self, data: bytes) -> None:
        self.into += data
        del self.into[:-self.size]


class PipesTransport(ClientTransport):
    """FastMCP's transport over a started program's pipes: ``start()`` gives its stdout and stdin."""

    def __init__(self, start: Callable[[], Awaitable[tuple[PipeLines, PipeWriter]]], label: str) -> None:
        self.start = start
        self.label = label

    @contextlib.asynccontextmanager
    async def connect_session(self, *, transport_options: TransportOptions | None = None,
                              **session_kwargs: Any) -> AsyncGenerator[Any, None]:
        options = transport_options or TransportOptions()
        lines, writer = await self.start()
        async with stdio_server(lines, writer) as (read, write):  # type: ignore[arg-type]
            async with options.session_class(read, write, **session_kwargs) as session:
                yield session

    def __repr__(self) -> str:
        return f"<MCP server {self.label}>"


class CheckedTransport(httpx2.AsyncBaseTransport):
    """Every request through the sandbox's network checks, to the address checked, for ``url``'s
    host only; ``refuse(error)`` records why a request was refused (the SDK only sees it fail)."""

    def __init__(self, policy: Policy, url: str, label: str, max_bytes: int,
                 refuse: Callable[[SpellError], None]) -> None:
        self.policy = policy
        self.host = httpx2.URL(url).host.strip("[]").lower().rstrip(".")
        self.label = label
        self.max_bytes = max_bytes
        self.refuse = refuse
        self.inner = httpx2.AsyncHTTPTransport(trust_env=False)

    def _refused(self, error: SpellError, request: httpx2.Request) -> httpx2.HTTPError:
        self.refuse(error)
        return httpx2.ConnectError(error.message, request=request)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        try:
            checked = await check_net_async(self.policy, str(request.url))
        except SpellError as exc:
            raise self._refused(exc, request) from None
        if checked.host != self.host:
            raise self._refused(SpellError(
                "permission_denied", f"the MCP server {self.label} sent the connection to another host "
                f"({checked.host}); a connection stays with the server it was made to"), request)
        request.url = request.url.copy_with(host=checked.ip)
        request.headers["Host"] = checked.host_header
        request.headers["Accept-Encoding"] = "identity"  # an inflated body could outgrow its cap
        if checked.scheme == "https" and not checked.is_ip_literal:
            request.extensions = {**request.extensions, "sni_hostname": checked.host}
        response = await self.inner.handle_async_request(request)
        encoding = response.headers.get("content-encoding", "identity").strip().lower()
        if encoding not in ("", "identity"):
            await response.aclose()
            raise self._refused(SpellError("tool_error", f"the MCP server {self.label}: it answered in "
                                           f"{encoding!r} encoding, which was not asked for"), request)
        response.stream = _Capped(response.stream, self, request)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


class _Capped(httpx2.AsyncByteStream):
    """A response body that fails once it is larger than the transport's ``max_bytes``."""

    def __init__(self, stream: Any, transport: CheckedTransport, request: httpx2.Request) -> None:
        self.stream = stream
        self.transport = transport
        self.request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        seen = 0
        limit = self.transport.max_bytes
        async for chunk in self.stream:
            seen += len(chunk)
            if seen > limit:
                self.transport.refuse(SpellError(
                    "tool_error", f"the MCP server {self.transport.label}: it sent a response larger than {limit} "
                    "bytes (the limit); the connection is closed"))
                raise httpx2.ReadError("the response is larger than the limit", request=self.request)
            yield chunk

    async def aclose(self) -> None:
        await self.stream.aclose()
