"""A tiny MCP server for the mcp_tools examples: text tools over stdio.

    python examples/mcp_server.py

It is the MCP SDK's ``MCPServer`` (what was FastMCP), installed with llmspell.
A spell starts it with ``tools.mcp({command = PYTHON, args = {"../mcp_server.py"}})``
under ``--allow-run=PYTHON --allow-read=examples/mcp_server.py``.
"""

from mcp.server.mcpserver import MCPServer

server = MCPServer("text-tools", log_level="ERROR")


@server.tool(description="Reverse a text.")
def reverse(text: str) -> str:
    return text[::-1]


@server.tool(description="Count the words of a text.")
def word_count(text: str) -> int:
    return len(text.split())


if __name__ == "__main__":
    server.run("stdio")
