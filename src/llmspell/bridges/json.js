// The json bridge inside a JavaScript VM: the host's json bridge mirrored
// (sorted keys, the same errors), run in the VM because JSON is pure and a
// call that crosses to the host costs more than the work.  Installed on the
// `json` global by the engine (JsonBridge.vm_code); `vm` is the prelude's
// toolkit (see js_prelude.js, installBridgeCode).
(function (o, methods, vm) {
  "use strict";
  const SpellError = vm.SpellError, stringify = vm.stringify, parse = vm.parse, MAX_DEPTH = vm.MAX_DEPTH;
  const put = vm.put;  // a "__proto__" key stays an own property (js_prelude.js)
  function sortKeys(v, depth, seen) {
    if (v === null || typeof v !== "object") return v;
    if (depth > MAX_DEPTH) throw new SpellError("invalid_argument", "json.encode: value nests too deeply");
    if (seen.has(v)) throw new SpellError("invalid_argument", "json.encode: value contains a cycle");
    seen.add(v);
    let r;
    if (Array.isArray(v)) r = v.map((x) => sortKeys(x, depth + 1, seen));
    else if (typeof v.toJSON === "function") r = v;
    else {
      r = {};
      for (const k of Object.keys(v).sort()) put(r, k, sortKeys(v[k], depth + 1, seen));
    }
    seen.delete(v);
    return r;
  }
  return Object.assign(o, {
    encode(value, opts) {
      const indent = opts && opts.indent ? opts.indent : undefined;
      const check = (k, x) => {
        if (typeof x === "number" && !Number.isFinite(x)) {
          throw new SpellError("invalid_argument", "json.encode: NaN and infinity have no JSON form");
        }
        return x;
      };
      const text = stringify(sortKeys(value, 0, new Set()), check, indent);
      return text === undefined ? "null" : text;
    },
    decode(text) {
      if (typeof text !== "string") throw new SpellError("invalid_argument", "json.decode: text must be a string");
      try { return parse(text); } catch (e) { throw new SpellError("invalid_argument", "json.decode: " + e.message); }
    },
  });
})
