"""A small MCP server the test suite starts itself (the MCP SDK's ``MCPServer``, formerly FastMCP).

    python tests/support/mcp_server.py stdio [NAME]
    python tests/support/mcp_server.py http PORT [NAME]   # streamable HTTP at http://127.0.0.1:PORT/mcp

Its tools cover what ``tools.mcp`` must handle: arguments and a JSON Schema
(``add``, ``echo``), a structured result (``stats``), a large result (``blob``),
a tool error (``fail``), a server that dies mid-call (``crash``) or never answers
(``stall``), what the server was given (``env``, ``env_names``, ``header``), may read
(``read``) and is (``pid``).  It is started
under the spell worker's confinement, so it reads and writes nothing it does not need.
"""

from __future__ import annotations

import os
import sys
import time

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError


def build(name: str) -> MCPServer:
    server = MCPServer(name, log_level="ERROR")

    @server.tool(description="Add two integers.")
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool(description="Return the text, with the server's name in front.")
    def echo(text: str) -> str:
        return f"{name}: {text}"

    @server.tool(description="Count and sum a list of numbers.")
    def stats(numbers: list[float]) -> dict:
        return {"count": len(numbers), "sum": sum(numbers)}

    @server.tool(description="A text of `size` bytes.")
    def blob(size: int) -> str:
        return "x" * size

    @server.tool(description="Always fails with the message given.")
    def fail(message: str) -> str:
        raise ToolError(message)

    @server.tool(description="The server process exits at once, mid-call.")
    def crash() -> str:
        os._exit(3)

    @server.tool(description="Never answers.")
    def stall() -> str:
        while True:
            time.sleep(1)

    @server.tool(description="The value of an environment variable of the server process ('' if unset).")
    def env(name: str) -> str:
        return os.environ.get(name, "")

    @server.tool(description="The names of every environment variable of the server process.")
    def env_names() -> list[str]:
        return sorted(os.environ)

    @server.tool(description="The text of a file, if the server process may read it.")
    def read(path: str) -> str:
        try:
            with open(path, encoding="utf-8") as f:
                return f.read()
        except OSError as exc:
            raise ToolError(exc.strerror or "cannot read") from None

    @server.tool(description="Sends the text to the client as a log message (at error level), then answers ok.")
    async def shout(text: str, ctx: Context) -> str:
        await ctx.error(text)
        return "ok"

    @server.tool(description="The server's process id.")
    def pid() -> int:
        return os.getpid()

    @server.tool(description="A header of the HTTP request that called this tool ('' over stdio).")
    def header(name: str, ctx: Context) -> str:
        request = ctx.request_context.request
        return request.headers.get(name, "") if request is not None else ""

    for i in range(int(os.environ.get("MANY_TOOLS", "0"))):  # a server that offers too much
        server.add_tool(lambda: "", name=f"extra_{i}", description="One of many.")
    return server


def main(argv: list[str]) -> None:
    mode = argv[1] if len(argv) > 1 else "stdio"
    if mode == "http":
        port = int(argv[2])
        name = argv[3] if len(argv) > 3 else "test"
        build(name).run("streamable-http", host="127.0.0.1", port=port)
    else:
        name = argv[2] if len(argv) > 2 else "test"
        build(name).run("stdio")


if __name__ == "__main__":
    main(sys.argv)
