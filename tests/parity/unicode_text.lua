local s = "naïve café ✓"
print(s)
print("bytes " .. #s .. ", characters " .. utf8.len(s))
local back = json.decode(json.encode({s = s})).s
print("round trip " .. tostring(back == s))
print(json.encode({emoji = "🎉", accents = "é"}))
return {s = s, n = utf8.len(s)}
