-- The run's events: the built-in ones (a tool ran, a model answered, ...) and the spell's own,
-- by name or by glob; once, off, and emit.
--   llmspell run examples/lua/events.lua --model test
events.on("tool.executed", function(e)
  print(e.toolName .. " ran, success: " .. tostring(e.success))  -- e.duration: milliseconds
end)
local model_events = {}
events.on("llm.*", function(e) model_events[#model_events + 1] = e.name end)
events.once("job.*", function(e) print("the first job event: " .. e.name) end)
local progress = events.on("job.progress", function(e) print("progress " .. e.step .. "/" .. e.of) end)

for step = 1, 3 do events.emit("job.progress", {step = step, of = 3}) end
events.off(progress)
local reached = events.emit("job.progress", {step = 4, of = 3})  -- no one listens any more
print("listeners of the last progress event: " .. reached)

tools.calculator("1 + 1")
pcall(tools.calculator, "1 +")
llm.complete({prompt = "hello"})
print("model events: " .. table.concat(model_events, ", "))

events.on("job.failed", function(e) error({kind = "validation_error", message = "cannot handle " .. e.what}) end)
local ok, err = pcall(events.emit, "job.failed", {what = "this"})
print(err.kind .. ": " .. err.message)
return {model_events = #model_events}
