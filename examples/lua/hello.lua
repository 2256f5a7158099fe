-- Ask the default model a question and print its answer.
-- With nothing configured, the default is the embedded SmolLM2 model:
-- no API key, no network.
--   llmspell run examples/lua/hello.lua --param question="Why is the sky blue?"
local question = params.question or "What is the capital of France?"
local answer = llm.complete({
  system = "You answer in one short sentence.",
  prompt = question,
  max_tokens = 48,
})
print(answer.content)
