local function counter(start)
  local n = start
  return function(step)
    n = n + (step or 1)
    return n
  end
end
local c1, c2 = counter(0), counter(100)
c1(); c1(); c2(5)
print("c1 = " .. c1() .. ", c2 = " .. c2())
local function map(list, f)
  local out = {}
  for i, v in ipairs(list) do out[i] = f(v, i) end
  return out
end
local squares = map({1, 2, 3, 4}, function(v) return v * v end)
print("squares " .. table.concat(squares, ","))
local function compose(f, g) return function(x) return f(g(x)) end end
local inc_then_double = compose(function(x) return x * 2 end, function(x) return x + 1 end)
print("compose " .. inc_then_double(5))
local handlers = {}
local function on(name, fn) handlers[name] = fn end
on("greet", function(who) return "hi " .. who end)
print(handlers.greet("there"))
local fns = {}
for i = 1, 3 do fns[i] = function() return i * 10 end end
print("captured " .. fns[1]() .. " " .. fns[2]() .. " " .. fns[3]())
local pieces = {}
llm.stream({prompt = "x"}, function(p) pieces[#pieces + 1] = string.upper(p) end)
print("callback saw " .. tostring(#pieces > 0))
return squares
