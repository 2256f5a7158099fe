// Answers of a given shape: llm.structured returns a value valid against a
// JSON Schema (an invalid answer is sent back to the model, retries times,
// then it is a validation_error naming the failing path), and an agent with
// output_schema answers the same way.
//   llmspell run examples/js/structured_output.js --param dish=pancakes
const dish = params.dish ?? "pancakes";
const recipeSchema = {
  type: "object",
  required: ["title", "servings", "ingredients"],
  properties: {
    title: {type: "string"},
    servings: {type: "integer", minimum: 1},
    ingredients: {type: "array", maxItems: 5, items: {
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
  max_tokens: 300,
});
console.log("title: " + recipe.title);
console.log("servings: " + recipe.servings);
for (const item of recipe.ingredients) console.log("- " + item.amount + " " + item.name);

const checker = await llm.agent({
  system: "You add numbers and answer with the sum.",
  output_schema: {type: "object", required: ["sum"], properties: {sum: {type: "number"}}},
  max_tokens: 32,
});
const checked = await checker.run("What is 17 + 25?");
console.log("sum: " + typeof checked.sum);
return {title: recipe.title, servings: recipe.servings, ingredients: recipe.ingredients.length};
