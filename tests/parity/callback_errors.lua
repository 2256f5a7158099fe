-- a tool handler's own error, as the caller sees it
tools.register({name = "boom", description = "fails", parameters = {type = "object", properties = {}},
  handler = function(p) error("the disk is full") end})
local ok, e = pcall(tools.boom, {})
print("tool: " .. e.kind .. " / " .. e.message)
-- a workflow step's function
local wf = workflow.create({name = "w", type = "sequential"})
wf:addStep({name = "a", fn = function(ctx) error("step broke") end})
local ok2, e2 = pcall(function() return wf:run({}) end)
print("step: " .. e2.kind .. " / " .. e2.message)
-- a listener
events.on("app.saved", function(ev) error("listener broke") end)
local ok3, e3 = pcall(events.emit, "app.saved", {})
print("listener: " .. e3.kind .. " / " .. e3.message)
-- uncaught, the spell's own words end the run
error("gave up")
