-- Answers of a given shape: llm.structured returns a value valid against a
-- JSON Schema (an invalid answer is sent back to the model, retries times,
-- then it is a validation_error naming the failing path), and an agent with
-- output_schema answers the same way.
--   llmspell run examples/lua/structured_output.lua --param dish=pancakes
local dish = params.dish or "pancakes"
local recipe_schema = {
  type = "object",
  required = {"title", "servings", "ingredients"},
  properties = {
    title = {type = "string"},
    servings = {type = "integer", minimum = 1},
    ingredients = {type = "array", maxItems = 5, items = {
      type = "object", required = {"name", "amount"},
      properties = {name = {type = "string"}, amount = {type = "string"}},
    }},
  },
}
local recipe = llm.structured({
  system = "You answer with data only.",
  prompt = "A simple recipe for " .. dish .. ": its title, servings and ingredients with amounts.",
  schema = recipe_schema,
  retries = 2,
  max_tokens = 300,
})
print("title: " .. recipe.title)
print("servings: " .. recipe.servings)
for _, item in ipairs(recipe.ingredients) do print("- " .. item.amount .. " " .. item.name) end

local checker = llm.agent({
  system = "You add numbers and answer with the sum.",
  output_schema = {type = "object", required = {"sum"}, properties = {sum = {type = "number"}}},
  max_tokens = 32,
})
local checked = checker:run("What is 17 + 25?")
print("sum: " .. type(checked.sum))
return {title = recipe.title, servings = recipe.servings, ingredients = #recipe.ingredients}
