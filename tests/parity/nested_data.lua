local order = {
  id = 17,
  customer = {name = "Ada", tags = {"vip", "early"}},
  lines = {
    {sku = "A-1", qty = 2, price = 2.5},
    {sku = "B-2", qty = 1, price = 10},
  },
  notes = {},
  meta = {flags = {gift = true, rush = false}, depth = {a = {b = {c = {d = "deep"}}}}},
}
local total = 0
for _, line in ipairs(order.lines) do total = total + line.qty * line.price end
order.total = total
print("lines: " .. #order.lines .. ", total: " .. string.format("%.2f", total))
print("deep: " .. order.meta.depth.a.b.c.d)
return order
