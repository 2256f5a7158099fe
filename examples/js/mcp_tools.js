// Tools from an MCP server: a Python program started for this run, its tools called like any other.
//   llmspell run examples/js/mcp_tools.js --allow-run=python3 --allow-read=examples/mcp_server.py
// (--param python=PATH names another Python: the one must have the mcp package, as llmspell's does;
//  the server starts in the spell's folder, so ../mcp_server.py is examples/mcp_server.py)
const python = params.python ?? "python3";
const names = await tools.mcp({command: python, args: ["../mcp_server.py"], prefix: "text"});
console.log("tools: " + names.join(", "));
console.log("reversed: " + await tools.text_reverse("spell"));
console.log("words: " + await tools.text_word_count({text: "tools from elsewhere"}));
