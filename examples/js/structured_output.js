// Answers of a given shape: llm.structured returns a value valid against a
// JSON Schema (an invalid answer is sent back to the model, retries times,
// then it is a validation_error naming the failing path), and an agent with
// output_schema does the same after its tool calls.
//   llmspell run examples/js/structured_output.js --param dish=pancakes
const dish = params.dish ?? "pancakes";
const recipeSchema = {
  type: "object",
  required: ["title", "servings", "ingredients"],
  properties: {
    title: {type: "string"},
    servings: {type: "integer", minimum: 1},
    ingredients: {type: "array", items: {
      type: "object", required: ["name", "amount"],
      properties: {name: {type: "string"}, amount: {type: "string"}},
    }},
  },
};
const recipe = await llm.structured({
  system: "You answer with data only.",
  prompt: `A simple recipe for ${dish}: its title, servings and ingredients with amounts.`,
  schema: recipeSchema,
  retries: 2,
  max_tokens: 256,
});
console.log("title: " + recipe.title);
console.log("servings: " + recipe.servings);
for (const item of recipe.ingredients) console.log("- " + item.amount + " " + item.name);

const checker = await llm.agent({
  system: "You check sums with the calculator and answer with the result.",
  tools: ["calculator"],
  output_schema: {type: "object", required: ["sum"], properties: {sum: {type: "number"}}},
  max_steps: 4,
});
const checked = await checker.run("What is 17 + 25?");
console.log("sum: " + typeof checked.sum);
return {title: recipe.title, servings: recipe.servings, ingredients: recipe.ingredients.length};
