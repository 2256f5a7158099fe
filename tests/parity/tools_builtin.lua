-- Parity: the built-in tools (examples/lua/tools_builtin.lua) and their errors.
local order = {
  items = {
    {name = "pen", price = 2, tags = {"office"}},
    {name = "lamp", price = 40, tags = {"home", "light"}},
    {name = "book", price = 15, tags = {"home"}},
  },
}

-- Positional, in the tool's own order, or one table of named parameters: the same call.
print("6 * 7 = " .. tools.calculator("6 * 7"))
print("2 ** 10 = " .. tools.calculator({expression = "2 ** 10"}))

-- json_query takes JMESPath (jmespath.org): filters, projections, functions.
print("over 10: " .. json.encode(tools.json_query(order, "items[?price > `10`].name")))
print("cheapest: " .. tools.json_query(order, "sort_by(items, &price)[0].name"))
local home = tools.call("json_query", {data = order, path = "items[?contains(tags, 'home')].name"})
print("for home: " .. json.encode(home))
print("summary: " .. json.encode(tools.json_query(order, "{count: length(items), total: sum(items[*].price)}")))

-- A tool of the spell's own whose parameters are a list: positional arguments follow the list.
tools.register({
  name = "discount",
  description = "A price after a discount in percent",
  parameters = {
    {name = "price", type = "integer", required = true},
    {name = "percent", type = "integer", required = true},
  },
  handler = function(p) return p.price * (100 - p.percent) // 100 end,
})
print("40 less 25% = " .. tools.discount(40, 25))

-- What a model sees of each tool: its name, description and the JSON Schema of its parameters.
for _, t in ipairs(tools.list()) do
  print(t.name .. " requires " .. json.encode(t.parameters.required or json.array({})))
end

-- Files are refused until the run grants a folder (--allow-read=FOLDER).
local ok, err = pcall(tools.file_read, "notes.txt")
print("file_read: " .. tostring(ok) .. " " .. err.kind)

local function fails(f, ...)
  local ok, e = pcall(f, ...)
  print(e.kind .. ": " .. e.message)
end
fails(tools.json_query, order, "items[?price > `10`")
fails(tools.json_query, order, "items..name")
fails(tools.json_query, order, "size(items)")
fails(tools.calculator, "9 ** 9 ** 9")
fails(tools.calculator, "factorial(1000)")
fails(tools.calculator, "(1).__class__")
fails(tools.discount, 40, 25, 1)
fails(tools.discount, "40")
return tools.json_query(order, "items[-1].name")
