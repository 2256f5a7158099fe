-- guardrails.add inside a Lua VM: a Lua check returns two values, `ok, reason`,
-- and a function called from the host gives back only its first.  So the
-- check is wrapped here, in the VM, in a function that returns both as one
-- table {ok = ok, reason = reason}, which the host reads as JavaScript's and
-- Tengo's checks answer (guardrails/checks.py).  The spell's table is copied
-- raw (no __index/__pairs of the spell's runs here) and left as it was.
-- Installed on the `guardrails` global by the engine (GuardrailsBridge.vm_code).
return function(guardrails, vm)
  local add = guardrails.add
  if add == nil then return end
  local type, next, rawget = type, next, rawget

  local function two(check)
    return function(text)
      local ok, reason = check(text)
      if ok == nil and reason == nil then return nil end  -- nothing answered, as in the other languages
      return { ok = ok, reason = reason }
    end
  end

  guardrails.add = function(a, b)
    local spec = a
    if a == guardrails then spec = b end  -- guardrails:add{...}
    if type(spec) == "table" and type(rawget(spec, "check")) == "function" then
      local copy = {}
      for k, v in next, spec do copy[k] = v end
      copy.check = two(rawget(spec, "check"))
      spec = copy
    end
    return add(spec)
  end
end
