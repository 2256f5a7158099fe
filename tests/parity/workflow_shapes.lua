-- Every workflow type, templates and error policies, printed the same in every language.
local seq = workflow.create({name = "seq"})
seq:addStep({name = "notes", fn = function(ctx) return {title = "On " .. ctx.topic, tags = {"x", "y", "z"}} end})
seq:addStep({name = "count", tool = "calculator", params = {expression = "{{notes.output.tags | length}} * 2"}})
seq:addStep({name = "ask", agent = llm.agent({}), prompt = "{{notes.output.title}}: {{notes.output.tags[1]}}"})
local r = seq:run({topic = "owls"})
print("seq: " .. r.steps.count.output .. " " .. r.steps.ask.status .. " " .. r.output)

local par = workflow.create({name = "par", type = "parallel", max_concurrency = 2})
for i = 1, 4 do par:addStep({name = "p" .. i, fn = function(ctx) return ctx.base + i end}) end
par:addStep({name = "bad", tool = "no_such_tool", on_error = "continue"})
local pr = par:run({base = 10})
print("par: " .. json.encode(pr.output) .. " bad=" .. pr.steps.bad.status .. " " .. pr.steps.bad.error.kind)

local cond = workflow.create({name = "cond", type = "conditional"})
cond:addStep({name = "yes", fn = function() return "ran" end, condition = function(ctx) return ctx.n > 1 end})
cond:addStep({name = "no", fn = function() return "ran" end, condition = function(ctx) return ctx.n > 5 end})
local cr = cond:run({n = 3})
print("cond: " .. cr.steps.yes.status .. " " .. cr.steps.no.status)

local loop = workflow.create({name = "loop", type = "loop", max_iterations = 10,
  ["until"] = function(ctx) return ctx.sum.output >= 10 end})
loop:addStep({name = "sum", fn = function(ctx) return (ctx.sum and ctx.sum.output or 0) + ctx.iteration end})
local lr = loop:run({})
print("loop: " .. lr.output .. " after " .. lr.iterations)

local tries = 0
local retry = workflow.create({name = "retry"})
retry:addStep({name = "flaky", on_error = "retry", retries = 3, backoff_ms = 0, fn = function()
  tries = tries + 1
  if tries < 3 then error("not yet") end
  return "ok"
end})
local rr = retry:run({})
print("retry: " .. rr.output .. " attempts=" .. rr.steps.flaky.attempts)

local tpl = workflow.create({name = "tpl"})
tpl:addStep({name = "add", tool = "calculator", params = {expression = "{{x}} + 1"}, on_error = "retry", retries = 1})
local ok, err = pcall(tpl.run, tpl, {})
print("missing: " .. err.kind .. " / " .. err.message)
local back = workflow.from_table(tpl:to_table())
print("again: " .. back:run({x = 41}).output)
print("table: " .. json.encode(back:to_table().steps[1]))
print(par:to_mermaid())
return {seq = r.steps.ask.output, loop = lr.output}
