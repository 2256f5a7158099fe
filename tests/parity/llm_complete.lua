local r = llm.complete({prompt = "Say something", system = "Be brief"})
print("model: " .. r.model)
print("content: " .. r.content)
print("finish: " .. r.finish_reason)
print("tokens add up: " .. tostring(r.usage.input_tokens + r.usage.output_tokens == r.usage.total_tokens))
local r2 = llm.complete({model = "test", messages = {{role = "user", content = "one"}, {role = "assistant", content = "two"}, {role = "user", content = "three"}}})
return {content = r2.content, model = r2.model}
