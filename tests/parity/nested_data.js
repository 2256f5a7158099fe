const order = {
  id: 17,
  customer: {name: "Ada", tags: ["vip", "early"]},
  lines: [
    {sku: "A-1", qty: 2, price: 2.5},
    {sku: "B-2", qty: 1, price: 10},
  ],
  notes: {},
  meta: {flags: {gift: true, rush: false}, depth: {a: {b: {c: {d: "deep"}}}}},
};
let total = 0;
for (const line of order.lines) total += line.qty * line.price;
order.total = total;
console.log("lines: " + order.lines.length + ", total: " + total.toFixed(2));
console.log("deep: " + order.meta.depth.a.b.c.d);
return order;
