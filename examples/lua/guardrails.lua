-- Guardrails check every prompt sent to a model (on = "input") and every answer (on = "output"),
-- for llm.complete, llm.stream and agents; a failed check is a validation_error with the reason.
--   llmspell run examples/lua/guardrails.lua --model test
guardrails.add({
  name = "no_passwords",
  on = "input",
  check = function(text)
    if text:lower():find("password") then return false, "the prompt contains a password" end
    return true
  end,
})
guardrails.add({
  name = "short_answers",
  on = "output",
  reason = "the answer is longer than 200 characters",  -- when check gives no reason of its own
  check = function(text) return #text <= 200 end,
})

local ok, err = pcall(llm.complete, {prompt = "My password is hunter2, keep it safe"})
print(err.kind .. ": " .. err.message)
local answer = llm.complete({prompt = "Say hello"})
print("passed: " .. answer.content)
local chunks = {}
llm.stream({prompt = "Say hello slowly"}, function(piece) chunks[#chunks + 1] = piece end)
print("streamed: " .. table.concat(chunks))
return {blocked = not ok}
