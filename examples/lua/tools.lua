-- A tool of the spell's own next to a built-in one, called directly and by name.
--   llmspell run examples/lua/tools.lua --param word=spell
local word = params.word or "spell"
tools.register({
  name = "reverse",
  description = "Reverse a word",
  parameters = {text = {type = "string", required = true, description = "the word"}},
  handler = function(args) return string.reverse(args.text) end,
})
local reversed = tools.reverse(word)
local sum = tools.calculator("6 * 7")
local again = tools.call("reverse", {text = reversed})
print(word .. " reversed is " .. reversed .. ", and back: " .. again)
print("6 * 7 = " .. sum)
local names = {}
for _, t in ipairs(tools.list()) do names[#names + 1] = t.name end
print("tools: " .. table.concat(names, ", "))
return {reversed = reversed, sum = sum}
