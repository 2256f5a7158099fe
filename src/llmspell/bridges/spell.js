// spell.require inside a JavaScript VM: the host finds, checks and reads the
// module (SpellBridge.require; the engine has checked its syntax, naming the
// module); it runs here, in this VM, once per run, as the body of an async
// function whose result is the module's value.
// Installed on the `spell` global by the engine (SpellBridge.vm_code).
//
// Each module sees its own `spell` (its function's parameter), whose require
// starts a relative path from the module's folder (the host resolves it:
// module_path in spell.py) and knows the chain of modules that led to it, so
// that a module that requires one still loading on its chain is a cycle,
// said as such, rather than a wait on itself that nothing would end.
(function (o, methods, vm) {
  "use strict";
  if (!o.require) return o;
  const resolve = o.require, cache = new Map(), done = new Set();
  const SpellError = vm.SpellError, create = Object.create, join = (a) => a.join(" -> ");
  const AsyncFunction = (async function () {}).constructor;
  function requireFrom(chain, within) {
    return async (path) => {
      const m = await resolve(path, within);
      const name = m.name;
      if (!done.has(name) && chain.includes(name)) {
        throw new SpellError("invalid_argument",
          "spell.require: " + name + " requires itself (a cycle: " + join([...chain, name]) + ")");
      }
      if (!cache.has(name)) {
        const own = create(o, { require: { value: requireFrom([...chain, name], name), enumerable: true } });
        const loading = (async () => new AsyncFunction("spell", m.source)(own))();
        cache.set(name, loading);
        // A module that fails is not kept: requiring it again runs it again.
        loading.then(() => { done.add(name); }, () => { if (cache.get(name) === loading) cache.delete(name); });
      }
      return cache.get(name);
    };
  }
  o.require = requireFrom([], null);
  return o;
})
