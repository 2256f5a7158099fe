// spell.require inside a JavaScript VM: the host finds, checks and reads the
// module (SpellBridge.require); it runs here, in this VM, once per run, as
// the body of an async function whose result is the module's value.
// Installed on the `spell` global by the engine (SpellBridge.vm_code).
(function (o, methods, vm) {
  "use strict";
  if (!o.require) return o;
  const resolve = o.require, cache = new Map();
  const AsyncFunction = (async function () {}).constructor;
  o.require = async (path) => {
    const m = await resolve(path);
    if (!cache.has(m.name)) {
      cache.set(m.name, (async () => new AsyncFunction(m.source)())());
    }
    return cache.get(m.name);
  };
  return o;
})
