// Workflow Orchestration: a research pipeline of agents, tools, functions and nested workflows.
//   llmspell run examples/js/workflow_orchestration.js --model test
//   llmspell run examples/js/workflow_orchestration.js --param topic="rust ownership"
// Templates fill prompts and params from the inputs ({{topic}}) and earlier steps ({{outline.output}}).
const topic = params.topic ?? "rust ownership";

const researcher = await llm.agent({name: "researcher", system: "You research topics and answer in short notes."});
const writer = await llm.agent({name: "writer", system: "You write clear, short articles."});

// Three angles at once: at most two model calls run together.
const gather = await workflow.create({name: "gather", type: "parallel", max_concurrency: 2});
await gather.addStep({name: "basics", agent: researcher, prompt: "The basics of {{topic}}, in three notes."});
await gather.addStep({name: "pitfalls", agent: researcher, prompt: "Common mistakes with {{topic}}."});
await gather.addStep({name: "words", tool: "calculator", params: {expression: "{{length}} * 250"}});

const article = await workflow.create({name: "article", type: "sequential"});
await article.addStep({name: "research", workflow: gather});
await article.addStep({name: "outline", fn: (ctx) =>
  ["Introduction to " + ctx.topic, "The basics", "Pitfalls", "Summary"]});
await article.addStep({name: "draft", agent: writer, on_error: "retry", retries: 2, backoff_ms: 50,
  prompt: "Write about {{topic}} in about {{research.output.words}} words.\n"
        + "Sections: {{outline.output | join(', ')}}\nNotes: {{research.output.basics}}"});

// A review that only runs for long articles.
await article.addStep({name: "review", agent: writer, prompt: "Review this draft: {{draft.output}}",
  condition: (ctx) => ctx.length > 2});

// Polish until the text is long enough, three times at most.
const polish = await workflow.create({name: "polish", type: "loop", max_iterations: 3,
  until: (ctx) => ctx.grow.output.length >= 3});
await polish.addStep({name: "grow", fn: (ctx) => [...(ctx.grow ? ctx.grow.output : []), "pass " + ctx.iteration]});
await article.addStep({name: "polish", workflow: polish, on_error: "continue"});

// Each step of the article as it completes (the parallel ones finish in any order).
events.on("workflow.step.completed", (e) => {
  if (e.workflow === "article") console.log(`  ${e.step.padEnd(9)} ${e.status.padEnd(9)} ${e.duration_ms.toFixed(0)} ms`);
});

const result = await article.run({topic, length: 4});
console.log("draft: " + String(result.steps.draft.output).slice(0, 60));
console.log("review ran: " + result.steps.review.status);
console.log("words: " + result.steps.research.output.words);
console.log(await article.to_mermaid());
return {steps: (await article.to_table()).steps.length, output: result.output};
