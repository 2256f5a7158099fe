-- Hooks around every model request and tool call of the run (llm.complete, llm.stream,
-- agents, tools.*): change what is sent, see what comes back, refuse a call by raising.
--   llmspell run examples/lua/hooks.lua --model test
hooks.register({
  beforeGenerate = function(ctx, request)
    request.temperature = 0.2  -- this is the temperature the provider receives
    return request
  end,
  afterGenerate = function(ctx, request, response)
    print("sent at temperature " .. request.temperature .. ", tokens used: " .. response.usage.total_tokens)
    return {content = response.content .. " [reviewed]"}
  end,
  beforeToolCall = function(ctx, tool, input)
    if tool == "file_write" and input.path:sub(1, 5) == "/etc/" then
      error({kind = "permission_denied", message = "no writes to /etc/"})
    end
    -- returning nothing leaves the input as it is
  end,
  afterToolCall = function(ctx, tool, input, output)
    if tool == "calculator" then return input.expression .. " = " .. output end
  end,
})

local answer = llm.complete({prompt = "Say hello"})
print(answer.content)
print(tools.calculator("6 * 7"))
local ok, err = pcall(tools.file_write, "/etc/motd", "hello")
print(err.kind .. ": " .. err.message)
return {content = answer.content, refused = not ok}
