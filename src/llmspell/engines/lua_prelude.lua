-- The sandbox of a Lua spell, run once in each fresh VM before the spell.
--
-- It receives the few host functions it needs, keeps the privileged pieces
-- (debug hooks, raw coroutine functions, the host functions) in upvalues that
-- no spell can reach, gives the spell its own global table of safe libraries
-- (the VM's real one, which lupa reads on every call from Python, stays out
-- of reach), and returns the functions the host drives the spell with.
--
-- Two rules keep the limits whole:
-- * No Python object becomes a value the spell can hold.  lupa makes a
--   Python exception a Lua error value (a userdata whose metatable every
--   Python callable shares); every frame of spell code runs under an xpcall
--   whose message handler replaces such a value before any <close> handler,
--   pcall or coroutine sees it, and that metatable is locked anyway.
-- * No spell code runs where the count hook does not: the host reads spell
--   values raw (lua.py), and finalizers (__gc, which Lua runs with hooks off)
--   cannot be installed.
local host_check, host_print, host_take, nonce, HOOK_EVERY = ...

local G = _G
local sethook, traceback, getinfo = debug.sethook, debug.traceback, debug.getinfo
local co_create, co_resume, co_yield, co_status = coroutine.create, coroutine.resume, coroutine.yield, coroutine.status
local co_running, co_isyieldable, co_close = coroutine.running, coroutine.isyieldable, coroutine.close
local raw_load, raw_xpcall, raw_error = load, xpcall, error
local pack, unpack, select, type, tostring, setmetatable = table.pack, table.unpack, select, type, tostring, setmetatable
local concat, raw_collectgarbage = table.concat, collectgarbage
local rawequal, rawget, as_function, format = rawequal, rawget, python.as_function, string.format

-- The metatable lupa gives every Python object in the VM: locked, so that
-- getmetatable/setmetatable on such an object (should one ever leak) fail.
getmetatable(host_check).__metatable = false
-- The host functions as C functions: calling them uses no metatable at all.
host_check, host_print, host_take = as_function(host_check), as_function(host_print), as_function(host_take)

-- Markers the host compares as strings (Lua tables have no identity in Python).
local HOSTCALL, DONE, FAIL = "\0call" .. nonce, "\0done" .. nonce, "\0fail" .. nonce
-- What a failed host call raises (lupa's own words, see _Raised in lua.py):
-- the error table waits on the host side, and sanitize() fetches it.
local HOST_ERROR = "error during Python call"
local limit_error = nil -- once a limit is hit, every hook raises it again


local function hook()
  local e = limit_error or host_check(HOOK_EVERY)
  if e then
    limit_error = e
    raw_error(e, 0)
  end
end

-- Limit errors (the run's own deadline, memory, output, budgets) end the run:
-- no pcall, xpcall or coroutine may swallow them.
local function is_limit(e)
  if limit_error ~= nil and e == limit_error or e == "not enough memory" then return true end
  return type(e) == "table" and rawget(e, "fatal") == true
end

-- Errors from the host are plain tables {kind=..., message=...}; tostring
-- gives "kind: message".
local error_meta = {
  __tostring = function(e) return tostring(rawget(e, "kind")) .. ": " .. tostring(rawget(e, "message")) end,
  __metatable = false,
}

local function mkerror(kind, message)
  return setmetatable({ kind = kind, message = message }, error_meta)
end

-- What host data says that a plain Lua table cannot (values.NULL, lists):
-- NULL stands for a null that keeps its place in a table, and ARRAY_MT marks
-- a table the host reads as an array, even an empty one (a bridge's VM code
-- names them, e.g. json.null and json.array).  Both metatables are locked: a
-- spell can neither reach them (a finalizer added to one would run with hooks
-- off) nor take the mark off a table.
local raw_getmetatable = debug.getmetatable
local NULL = setmetatable({}, {
  __metatable = false,
  __tostring = function() return "null" end,
  __newindex = function() raw_error("null cannot be changed", 2) end,
})
local ARRAY_MT = { __metatable = "array" }
local function new_array() return setmetatable({}, ARRAY_MT) end
local function is_array(t) return raw_getmetatable(t) == ARRAY_MT end

-- The spell's own line nearest to the top of the stack (not this prelude's).
local function where(level)
  for l = level, level + 20 do
    local info = getinfo(l, "Sl")
    if not info then return nil end
    if info.source ~= "=(llmspell)" and info.currentline and info.currentline > 0 then
      return info.short_src .. ":" .. info.currentline
    end
  end
end

-- What a pcall, xpcall, resume or the run catches, as the spell may see it.
-- A failed host call raised HOST_ERROR: its error table comes from the host
-- (with the spell's line, when the stack is still there to read: level).
-- Lua code cannot make userdata: a userdata error is a host exception that
-- lupa raised while converting a value (none is known: lupa reads every Lua
-- string as Latin-1, which cannot fail, and the host decodes it, see lua.py).
-- The spell gets plain data instead.
local function sanitize(e, level)
  if e == HOST_ERROR then
    local t = host_take()
    if t == nil then return e end
    if level and t.where == nil then t.where = where(level) end
    return t
  end
  if type(e) ~= "userdata" then return e end
  return mkerror("invalid_argument", "the host was given a value it cannot read")
end

-- A host call: yield to the host driver, which resumes with ok, value.
local function hostcall(id, ...)
  local ok, value = co_yield(HOSTCALL, id, pack(...))
  if ok then return value end
  if type(value) == "table" and value.where == nil then value.where = where(3) end
  raw_error(value, 3)
end

-- ---------------------------------------------------------------------------
-- Coroutines: host calls made inside a spell's own coroutine pass through it
-- to the host; limit errors cannot be swallowed by a resume.
local function resume(co, ...)
  local res = pack(co_resume(co, ...))
  while res[1] and res[2] == HOSTCALL and co_status(co) == "suspended" do
    local back = pack(co_yield(HOSTCALL, res[3], res[4]))
    res = pack(co_resume(co, unpack(back, 1, back.n)))
  end
  if not res[1] then
    res[2] = sanitize(res[2])
    if is_limit(res[2]) then raw_error(res[2], 0) end
  end
  return unpack(res, 1, res.n)
end

-- pcall is an xpcall whose handler only sanitizes: it runs where the error
-- happened (before any <close> handler sees the error), so a host error gets
-- the spell's line.
local function pcall_handler(e) return sanitize(e, 2) end

local function rethrow(ok, ...)
  if ok then return ... end
  raw_error((...), 0)
end

-- A spell's coroutine runs its function under the sanitizing handler too:
-- an error that kills a coroutine is plain data before its <close>
-- variables are closed (by the unwinding or by coroutine.close).
local function create(f)
  if type(f) ~= "function" then raw_error("bad argument #1 to 'create' (function expected)", 2) end
  return co_create(function(...)
    sethook(hook, "", HOOK_EVERY)
    return rethrow(raw_xpcall(f, pcall_handler, ...))
  end)
end

local function wrap(f)
  local co = create(f)
  return function(...)
    local res = pack(resume(co, ...))
    if res[1] then return unpack(res, 2, res.n) end
    local e = res[2]
    if type(e) == "string" then raw_error(e, 0) end
    raw_error(e, 0)
  end
end

local function pcall_(f, ...)
  local res = pack(raw_xpcall(f, pcall_handler, ...))
  if not res[1] then
    res[2] = sanitize(res[2])  -- a memory error skips the handler
    if is_limit(res[2]) then raw_error(res[2], 0) end
  end
  return unpack(res, 1, res.n)
end

local function xpcall_(f, handler, ...)
  local res = pack(raw_xpcall(f, function(e)
    e = sanitize(e, 2)
    if is_limit(e) then return e end
    return handler(e)
  end, ...))
  if not res[1] and is_limit(res[2]) then raw_error(res[2], 0) end
  return unpack(res, 1, res.n)
end

-- ---------------------------------------------------------------------------
-- The spell's global table: the safe libraries, in a table of its own.  The
-- VM's real global table stays out of the spell's reach: lupa looks up
-- "debug" there (through any metatable) on every call from Python into Lua,
-- on the main thread, where no count hook runs.
local env = {}
for k, v in pairs(G) do env[k] = v end
for _, name in ipairs({ "io", "debug", "package", "require", "dofile", "loadfile", "python", "collectgarbage",
                        "warn" }) do
  env[name] = nil
end
env._G = env
G.debug = nil
local os_ = G.os
env.os = { clock = os_.clock, time = os_.time, date = os_.date, difftime = os_.difftime }
string.dump = nil
getmetatable("").__metatable = false

env.coroutine = {
  create = create, resume = resume, wrap = wrap, yield = co_yield, status = co_status,
  running = co_running, isyieldable = co_isyieldable,
  close = function(co)
    local res = pack(co_close(co))
    if not res[1] then
      res[2] = sanitize(res[2])
      if is_limit(res[2]) then raw_error(res[2], 0) end
    end
    return unpack(res, 1, res.n)
  end,
}
-- Lua runs a finalizer (__gc) inside the garbage collector with hooks off,
-- at any allocation (the host's included) or when the VM closes: no limit
-- could stop it, so a spell cannot install one.  (Lua marks an object for
-- finalization only if __gc is in its metatable when setmetatable is called.)
env.setmetatable = function(t, mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then
    raw_error("setmetatable: __gc finalizers are not available in a spell (nothing could bound their time)", 2)
  end
  return setmetatable(t, mt)
end
env.pcall, env.xpcall = pcall_, xpcall_
env.collectgarbage = function(opt)
  if opt == "count" then return raw_collectgarbage("count") end
  raw_error("collectgarbage: only \"count\" is allowed in a spell", 2)
end
env.load = function(chunk, name, mode, e)
  if type(chunk) ~= "string" then raw_error("load: only source text can be loaded in a spell", 2) end
  return raw_load(chunk, name, "t", e or env)
end
env.print = function(...)
  local n = select("#", ...)
  local parts = {}
  for i = 1, n do parts[i] = tostring((select(i, ...))) end
  host_print(concat(parts, "\t") .. "\n")
end

-- ---------------------------------------------------------------------------
-- Bridges: a table per global (or handle); each method works with . and :
-- A sync method is the host function itself, made a C function (no Lua
-- wrapper on the hot path; its Python object is an upvalue no spell can
-- read).  On a global, the host tells obj:m(...) from obj.m(...); on a
-- handle, where the colon is the usual form, a Lua wrapper drops the self.
local function sync_method(t, f, handle)
  local g = as_function(f)
  if not handle then return g end
  return function(a, ...)
    if rawequal(a, t) then return g(...) end
    return g(a, ...)
  end
end

local function async_method(t, id)
  return function(a, ...)
    if rawequal(a, t) then return hostcall(id, ...) end
    return hostcall(id, a, ...)
  end
end

-- Host side builds a table of method name -> {async=bool, fn=pyfunc or id}.
local function make_object(methods, fields, dynamic, handle)
  local t = {}
  for k, v in pairs(fields) do t[k] = v end
  for name, m in pairs(methods) do
    if m.async then t[name] = async_method(t, m.id) else t[name] = sync_method(t, m.fn, handle) end
  end
  if dynamic then
    -- any other name k: obj.k(...) is obj.<dynamic>(k, ...)
    setmetatable(t, { __metatable = false, __index = function(_, k)
      if type(k) ~= "string" then return nil end
      return function(a, ...)
        if rawequal(a, t) then return hostcall(dynamic, k, ...) end
        return hostcall(dynamic, k, a, ...)
      end
    end })
  end
  return t
end

-- What a bridge itself puts in the VM (Bridge.vm_code): a chunk returning
-- function(object, vm), loaded out of the spell's reach and named like this
-- prelude (so that error locations skip its frames), called once on the
-- bridge's global before the spell runs.
-- raise(kind, message): fail with an error table that points at the spell's line.
local bridge_vm = {
  load = raw_load, error = raw_error, mkerror = mkerror, env = env,
  null = NULL, is_array = is_array,
  -- t (a table without a metatable) marked as an array.
  mark_array = function(t) return setmetatable(t, ARRAY_MT) end,
  raise = function(kind, message)
    local e = mkerror(kind, message)
    e.where = where(2)
    raw_error(e, 0)
  end,
}
local function install_bridge_code(code, object)
  local chunk, err = raw_load(code, "=(llmspell)", "t", G)
  if not chunk then raw_error(err, 0) end
  chunk()(object, bridge_vm)
end

-- Runs f in the current (host-driven) coroutine with hooks on, reporting
-- DONE, results... or FAIL, error, traceback to the host.
local function run(f, ...)
  sethook(hook, "", HOOK_EVERY)
  local res = pack(raw_xpcall(f, function(e)
    return { sanitize(e, 2), traceback("", 2) }
  end, ...))
  if res[1] then return DONE, unpack(res, 2, res.n) end
  -- A memory error skips the message handler: the error is the bare message.
  if type(res[2]) ~= "table" then return FAIL, res[2], "" end
  return FAIL, res[2][1], res[2][2]
end

local function compile(source, chunkname)
  return raw_load(source, "=" .. chunkname, "t", env)
end

return {
  env = env, run = run, compile = compile, make_object = make_object, mkerror = mkerror,
  install_bridge_code = install_bridge_code,
  null = NULL, new_array = new_array, is_array = is_array,
  HOSTCALL = HOSTCALL, DONE = DONE, FAIL = FAIL, rawequal = rawequal,
  -- A table's identity for the host (which has none for Lua tables): its address.
  address = function(t) return format("%p", t) end,
  -- A value as returned by a call on the main thread (see to_python in lua.py).
  anchor = function(v) return v end,
}
