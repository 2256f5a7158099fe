local a = hooks.register({beforeGenerate = function(ctx, req)
  print("a sees temperature " .. tostring(req.temperature) .. " and " .. #req.messages .. " message(s)")
  return {temperature = 0.5}
end})
hooks.register({
  beforeGenerate = function(ctx, req) print("b sees temperature " .. tostring(req.temperature)) end,
  afterGenerate = function(ctx, req, resp)
    print("after: " .. resp.finish_reason .. ", " .. resp.model .. ", total = input + output: " ..
          tostring(resp.usage.total_tokens == resp.usage.input_tokens + resp.usage.output_tokens))
    return {content = "<" .. resp.content .. ">"}
  end,
  beforeToolCall = function(ctx, tool, input)
    if tool == "calculator" and input.expression:find("/ 0") then error({kind = "permission_denied", message = "no dividing by zero"}) end
    if tool == "calculator" then return {expression = "(" .. input.expression .. ") + 1"} end
  end,
  afterToolCall = function(ctx, tool, input, output) return {tool = tool, caller = ctx.caller, hook = ctx.hook, value = output} end,
})
local r = llm.complete({prompt = "one", system = "be brief"})
print(r.content)
local calc = tools.calculator("2 * 3")
print(calc.tool .. " " .. calc.caller .. " " .. calc.hook .. " " .. calc.value)
local ok, e = pcall(tools.calculator, "1 / 0")
print(e.kind .. ": " .. e.message)
print(tostring(hooks.unregister(a)) .. " " .. tostring(hooks.unregister(a)))
hooks.register({afterGenerate = function() return 42 end})
local ok2, e2 = pcall(llm.complete, {prompt = "two"})
print(e2.kind .. ": " .. e2.message)
return {content = r.content, calc = calc.value}
