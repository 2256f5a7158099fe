-- spell.require inside a Lua VM: the host finds, checks and reads the module
-- (SpellBridge.require); it runs here, in this VM, once per run, in the
-- spell's globals.  Installed on the `spell` global by the engine
-- (SpellBridge.vm_code).  `vm` is the prelude's toolkit (lua_prelude.lua,
-- install_bridge_code): load, error, mkerror, env.
return function(spell, vm)
  local resolve = spell.require
  if resolve == nil then return end
  local raw_load, raw_error, mkerror, env, tostring = vm.load, vm.error, vm.mkerror, vm.env, tostring
  local cache, loading = {}, {}
  spell.require = function(a, b)
    local path = a
    if a == spell then path = b end
    local m = resolve(path)
    local hit = cache[m.name]
    if hit then return hit.value end
    if loading[m.name] then
      raw_error(mkerror("invalid_argument", "spell.require: " .. m.name .. " requires itself (a cycle)"), 2)
    end
    local chunk, err = raw_load(m.source, "=" .. m.name, "t", env)
    if not chunk then raw_error(mkerror("syntax_error", tostring(err)), 2) end
    loading[m.name] = true
    local value = chunk()
    loading[m.name] = nil
    cache[m.name] = { value = value }
    return value
  end
end
