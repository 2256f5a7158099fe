-- Tools from an MCP server: a Python program started for this run, its tools called like any other.
--   llmspell run examples/lua/mcp_tools.lua --allow-run=python3 --allow-read=examples/mcp_server.py
-- (--param python=PATH names another Python: the one must have the mcp package, as llmspell's does;
--  the server starts in the spell's folder, so ../mcp_server.py is examples/mcp_server.py)
local python = params.python or "python3"
local names = tools.mcp({command = python, args = {"../mcp_server.py"}, prefix = "text"})
print("tools: " .. table.concat(names, ", "))
print("reversed: " .. tools.text_reverse("spell"))
print("words: " .. tools.text_word_count({text = "tools from elsewhere"}))
