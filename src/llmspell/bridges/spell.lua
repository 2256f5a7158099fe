-- spell.require inside a Lua VM: the host finds, checks and reads the module
-- (SpellBridge.require); it runs here, in this VM, once per run, in the
-- spell's globals.  Installed on the `spell` global by the engine
-- (SpellBridge.vm_code).  `vm` is the prelude's toolkit (lua_prelude.lua,
-- install_bridge_code): load, error, mkerror, env.
--
-- Each module sees its own `spell` (a local its chunk starts with), whose
-- require starts a relative path from the module's folder, as every module
-- system does; the host resolves it (module_path in spell.py).  A module that
-- raises is not kept: requiring it again runs it again (as Lua's require
-- leaves package.loaded unset), so the caller sees the module's own error.
return function(spell, vm)
  local resolve = spell.require
  if resolve == nil then return end
  local raw_load, raw_error, mkerror, env, tostring = vm.load, vm.error, vm.mkerror, vm.env, tostring
  local setmetatable, concat = setmetatable, table.concat
  local cache, loading, chain = {}, {}, {}
  -- `local spell = ...` on the chunk's first line: no line number moves
  local PREFIX = "local spell = ...; "

  local function require_from(within, path)
    local m = resolve(path, within)
    local hit = cache[m.name]
    if hit then return hit.value end
    if loading[m.name] then
      chain[#chain + 1] = m.name
      local text = concat(chain, " -> ")
      chain[#chain] = nil
      raw_error(mkerror("invalid_argument", "spell.require: " .. m.name .. " requires itself (a cycle: " ..
        text .. ")"), 3)
    end
    local chunk, err = raw_load(PREFIX .. m.source, "=" .. m.name, "t", env)
    if not chunk then
      -- the module's error, at the module's line (as a syntax error of the spell is)
      err = tostring(err)
      local line, text = err:match("^.-:(%d+): (.*)$")
      local e = mkerror("syntax_error", text or err)
      if line then e.where = m.name .. ":" .. line end
      raw_error(e, 3)
    end
    local own = setmetatable({
      require = function(a, b)
        if a == spell then return require_from(m.name, b) end  -- spell:require(...)
        return require_from(m.name, a)
      end,
    }, { __index = spell, __newindex = spell, __metatable = false })
    loading[m.name] = true
    chain[#chain + 1] = m.name
    -- however the chunk ends (an error too), it is no longer loading
    local _ <close> = setmetatable({}, { __close = function()
      loading[m.name] = nil
      chain[#chain] = nil
    end })
    local value = chunk(own)
    cache[m.name] = { value = value }
    return value
  end

  spell.require = function(a, b)
    if a == spell then return require_from(nil, b) end
    return require_from(nil, a)
  end
end
