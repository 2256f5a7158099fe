local sum = 0
for i = 1, 10 do sum = sum + i end
print("sum 1..10 = " .. sum)
local evens = {}
for i = 10, 1, -1 do if i % 2 == 0 then evens[#evens + 1] = i end end
print("evens down " .. table.concat(evens, " "))
local n, steps = 27, 0
while n ~= 1 do
  if n % 2 == 0 then n = n // 2 else n = 3 * n + 1 end
  steps = steps + 1
end
print("collatz(27) steps " .. steps)
local found
for i, v in ipairs({5, 8, 13, 21}) do
  if v > 10 then found = i; break end
end
print("first > 10 at " .. found)
local k = 0
repeat k = k + 3 until k > 10
print("repeat until " .. k)
local keys = {}
for key in pairs({banana = 1, apple = 2, cherry = 3}) do keys[#keys + 1] = key end
table.sort(keys)
print("sorted keys " .. table.concat(keys, ","))
local grid = {}
for r = 1, 3 do
  local row = {}
  for c = 1, 3 do row[c] = r * c end
  grid[r] = row
end
print("grid[3][2] = " .. grid[3][2])
local answers = {}
for i = 1, 3 do answers[i] = llm.complete({prompt = "q" .. i}).model end
print("calls in a loop: " .. table.concat(answers, ","))
return {sum = sum, steps = steps, grid = grid}
