-- Stream an answer: print each piece as it arrives (one per line), then a summary.
--   llmspell run examples/lua/stream.lua --param topic=tides
local topic = params.topic or "tides"
local pieces = 0
local r = llm.stream({
  system = "You explain things in two short sentences.",
  prompt = "Explain " .. topic .. ".",
  max_tokens = 64,
}, function(piece)
  pieces = pieces + 1
  print("[" .. pieces .. "] " .. piece)
end)
print(string.format("(%d pieces, %d tokens, finish: %s)", pieces, r.usage.total_tokens, r.finish_reason))
return {pieces = pieces, content = r.content}
