-- Strings of every size, and deep and wide tables, through every bridge that
-- takes data.  tests/test_sizes_parity.py fills in the two literals, runs this
-- spell and its JavaScript and Tengo twins, and compares all three with the
-- values the test computes itself.
local lit600 = "<<600-character literal>>"
local lit64k = "<<64 KiB literal>>"
tools.register({name = "echo", description = "gives back its argument", parameters = {v = {description = "any value"}},
                handler = function(args) return args end})

local function through(name, s, withModel)
  local r = {v = s}
  r.json = json.decode(json.encode(s)) == s
  r.tool = tools.echo({v = s}).v == s
  local w = tools.file_write("out/" .. name .. ".txt", s)
  r.bytes = w.bytes
  r.file = tools.file_read("out/" .. name .. ".txt") == s
  if withModel then
    local c = llm.complete({prompt = s})
    r.tokens = c.usage.input_tokens
    local got = ""
    local st = llm.stream({prompt = s}, function(d) got = got .. d end)
    r.stream = got == st.content and st.usage.input_tokens == c.usage.input_tokens
    if not s:find("\n", 1, true) then log.warn("case " .. name .. "=" .. s) end
  end
  print("<" .. name .. ">")
  print(s)
  return r
end

local doubled = "ab c"
for _ = 1, 18 do doubled = doubled .. doubled end
local lines = ""
for i = 1, 5000 do lines = lines .. "line " .. i .. ": é✓😀\n" end
local a, b = string.rep("lorem ipsum ", 3000), string.rep("é✓😀 ", 5000)

local cases = {}
cases.empty = through("empty", "", false)
cases.one = through("one", "x", true)
cases.rep511 = through("rep511", string.rep("x", 511), true)
cases.rep512 = through("rep512", string.rep("y", 512), true)
cases.cat600 = through("cat600", "a" .. string.rep("b ", 299) .. "c", true)
cases.lit600 = through("lit600", lit600, true)
cases.tmpl = through("tmpl", string.format("<%s|%s>", a, b), true)
cases.lit64k = through("lit64k", lit64k, true)
cases.rep64k = through("rep64k", string.rep("abc ", 16384), true)
cases.uni64k = through("uni64k", string.rep("é✓😀 ", 6554), true)
cases.lines = through("lines", lines, true)
cases.dbl1m = through("dbl1m", doubled, true)
cases.rep4m = through("rep4m", string.rep("abc ", 1048576), false)

local deep = {leaf = "end"}
for i = 1, 50 do deep = {d = deep, n = i} end
local wideObj, wideArr = {}, {}
for i = 0, 9999 do
  wideObj[string.format("k%05d", i)] = i
  wideArr[#wideArr + 1] = "e" .. i
end
local tables = {}
for _, pair in ipairs({{"deep", deep}, {"wideObj", wideObj}, {"wideArr", wideArr}}) do
  local name, t = pair[1], pair[2]
  local text = json.encode(t)
  print("<" .. name .. ">")
  print(text)
  tables[name] = {v = t, json = json.decode(text), text = text, tool = tools.echo({v = t}).v}
end
return {cases = cases, tables = tables}
