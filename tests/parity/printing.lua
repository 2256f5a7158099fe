print("hello, world")
print("number " .. 42 .. " and " .. -7)
print("float " .. 1.5)
local flag = true
print("flag is " .. tostring(flag) .. ", nil is " .. tostring(nil))
print("")
print("tab\tand unicode: héllo ✓")
local parts = {}
for i = 1, 3 do parts[#parts + 1] = "item" .. i end
print(table.concat(parts, ", "))
