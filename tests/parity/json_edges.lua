-- json: the same text and the same errors in every language (see _json_text.py)
local function try(f, ...)
  local ok, v = pcall(f, ...)
  if ok then return v end
  return "error " .. v.kind
end
local function says(f, ...)
  local ok, v = pcall(f, ...)
  if ok then return v end
  return v.kind .. ": " .. v.message
end
print(json.encode({1e-5, 1e-7, 2^60, 1e21, 1e20, 0.1, -0.0, 4.0, 100, 1.5e300, 5e-324, 123456.789}))
print(json.encode({["10"] = 1, ["9"] = 2, a = 3, [""] = 0, ["é"] = 4, ["😀"] = 5, ["\u{FFFF}"] = 6}))
print(json.encode({[true] = 1, [false] = 2}))
print(json.encode({a = {1, 2}, b = json.array()}, {indent = 0}))
print(json.encode({a = {1, {}}, b = "x"}, {indent = 3}))
print(try(json.encode, {1}, {indent = -1}) .. " " .. try(json.encode, {1}, {indent = 11}) .. " " .. try(json.encode, {1}, {indent = 2.5}))
print(says(json.decode, "NaN"))
print(says(json.decode, "[1,\n -Infinity]"))
print(says(json.decode, '{"a": Infinity}'))
print(try(json.decode, '{"a":1} x') .. " " .. try(json.decode, "") .. " " .. try(json.decode, "[1,]"))
print(json.encode(json.decode("12345678901234567890")) .. " " .. json.encode(json.decode("-9223372036854775809")))
print(json.encode(json.decode("9007199254740991")) .. " " .. tostring(json.encode(json.decode("1e400") == 1/0)))
print(json.encode(json.decode('"\\ud83c and \\ud83c\\udf89"')))
print(json.encode(json.decode('{"ids":[1,null,3],"items":[],"n":null,"deep":[[],{}]}')))
print(json.encode(json.decode('{"a":1,"a":2}')))
print(try(json.decode, string.rep("[", 65) .. string.rep("]", 65)))
print(json.encode(json.decode(string.rep("[", 64) .. string.rep("]", 64))) == string.rep("[", 64) .. string.rep("]", 64))
print(json.encode(nil) .. " " .. json.encode(json.null))
return "done"
