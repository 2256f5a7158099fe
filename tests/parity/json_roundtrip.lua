local data = {zeta = 1, alpha = {3, 2, 1}, mid = {b = true, a = "text"}, half = 0.5, whole = 4.0}
local text = json.encode(data)
print(text)
local back = json.decode(text)
print(json.encode(back) == text and "same text after a round trip" or "different")
print(json.encode({1, 2, {x = "y"}}))
print(json.encode("quote \" and \\ and newline\n"))
print(json.encode({k = "v"}, {indent = 2}))
local decoded = json.decode('{"list": [10, 20, 30], "obj": {"n": null, "t": true}}')
print("list[2] = " .. decoded.list[2] .. ", t = " .. tostring(decoded.obj.t))
return back
