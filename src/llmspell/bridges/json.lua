-- The json bridge's additions inside a Lua VM (JsonBridge.vm_code): Lua has
-- no null a table can hold and no array type, so, as lua-cjson and dkjson
-- do, `json.null` stands for a null inside data and `json.array(t)` marks a
-- table as an array (arrays from the host carry that mark), so that
-- `json.encode(json.decode('{"items":[],"ids":[1,null,3]}'))` gives the text
-- back.  `vm` is the prelude's toolkit (lua_prelude.lua, install_bridge_code).
return function(json, vm)
  local null, mark_array, is_array, raise = vm.null, vm.mark_array, vm.is_array, vm.raise
  local type, getmetatable = type, getmetatable
  json.null = null
  json.array = function(a, b)
    local t = a
    if rawequal(a, json) then t = b end
    if t == nil then return mark_array({}) end
    if type(t) ~= "table" or rawequal(t, null) then
      raise("invalid_argument", "json.array: expected a table, got " .. type(t))
    end
    if is_array(t) then return t end
    if getmetatable(t) ~= nil then
      raise("invalid_argument", "json.array: the table has a metatable of its own")
    end
    return mark_array(t)
  end
end
