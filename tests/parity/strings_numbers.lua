local s = "Hello, Spell"
print(string.upper(s) .. " " .. string.lower(s))
print("length " .. #s)
print("sub " .. string.sub(s, 1, 5))
print("find " .. string.find(s, "Spell", 1, true))
print("replace " .. (string.gsub(s, "l", "L")))
print("repeat " .. string.rep("ab", 3))
print("7 // 2 = " .. 7 // 2 .. ", 7 % 3 = " .. 7 % 3 .. ", 2^10 = " .. math.floor(2 ^ 10))
print("3 / 4 = " .. 3 / 4)
print("pi ~ " .. string.format("%.3f", math.pi))
print("tonumber " .. tonumber("42") + 1 .. " " .. tonumber("2.5") * 2)
print("max " .. math.max(3, 9, 4) .. " min " .. math.min(3, 9, 4) .. " abs " .. math.abs(-5))
print("big " .. 9007199254740991)
local words = {}
for w in string.gmatch("split these words", "%S+") do words[#words + 1] = w end
print("words " .. #words .. ": " .. table.concat(words, "|"))
print("trim [" .. string.match("   padded   ", "^%s*(.-)%s*$") .. "]")
return {int = 7 // 2, neg = -12, float = 0.25, big = 9007199254740991, str = "x" .. 1}
