-- ProbeBridge's Lua side: twice(x) calls the host's shout and repeats it;
-- fail() raises an error at the spell's line (vm.raise).
return function(probe, vm)
  local shout, raise = probe.shout, vm.raise
  probe.twice = function(x) local s = shout(x) return s .. s end
  probe.fail = function() raise("invalid_argument", "probe.fail: on purpose") end
end
