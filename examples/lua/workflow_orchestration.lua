-- Workflow Orchestration: a research pipeline of agents, tools, functions and nested workflows.
--   llmspell run examples/lua/workflow_orchestration.lua --model test
--   llmspell run examples/lua/workflow_orchestration.lua --param topic="rust ownership"
-- Templates fill prompts and params from the inputs ({{topic}}) and earlier steps ({{outline.output}}).
local topic = params.topic or "rust ownership"

local researcher = llm.agent({name = "researcher", system = "You research topics and answer in short notes."})
local writer = llm.agent({name = "writer", system = "You write clear, short articles."})

-- Three angles at once: at most two model calls run together.
local gather = workflow.create({name = "gather", type = "parallel", max_concurrency = 2})
gather:addStep({name = "basics", agent = researcher, prompt = "The basics of {{topic}}, in three notes."})
gather:addStep({name = "pitfalls", agent = researcher, prompt = "Common mistakes with {{topic}}."})
gather:addStep({name = "words", tool = "calculator", params = {expression = "{{length}} * 250"}})

local article = workflow.create({name = "article", type = "sequential"})
article:addStep({name = "research", workflow = gather})
article:addStep({name = "outline", fn = function(ctx)
  return {"Introduction to " .. ctx.topic, "The basics", "Pitfalls", "Summary"}
end})
article:addStep({name = "draft", agent = writer, on_error = "retry", retries = 2, backoff_ms = 50,
  prompt = "Write about {{topic}} in about {{research.output.words}} words.\n"
        .. "Sections: {{outline.output | join(', ')}}\nNotes: {{research.output.basics}}"})

-- A review that only runs for long articles.
article:addStep({name = "review", agent = writer, prompt = "Review this draft: {{draft.output}}",
  condition = function(ctx) return ctx.length > 2 end})

-- Polish until the text is long enough, three times at most.
local polish = workflow.create({name = "polish", type = "loop", max_iterations = 3,
  ["until"] = function(ctx) return #ctx.grow.output >= 3 end})
polish:addStep({name = "grow", fn = function(ctx)
  local parts = ctx.grow and ctx.grow.output or {}
  table.insert(parts, "pass " .. ctx.iteration)
  return parts
end})
article:addStep({name = "polish", workflow = polish, on_error = "continue"})

-- Each step of the article as it completes (the parallel ones finish in any order).
events.on("workflow.step.completed", function(e)
  if e.workflow == "article" then print(string.format("  %-9s %-9s %.0f ms", e.step, e.status, e.duration_ms)) end
end)

local result = article:run({topic = topic, length = 4})
print("draft: " .. tostring(result.steps.draft.output):sub(1, 60))
print("review ran: " .. result.steps.review.status)
print("words: " .. result.steps.research.output.words)
print(article:to_mermaid())
return {steps = #article:to_table().steps, output = result.output}
