// The json bridge inside a JavaScript VM: the twin of the host's JSON writer
// and reader (src/llmspell/_json_text.py, whose docstring gives the rules),
// run in the VM because JSON is pure and a call that crosses to the host costs
// more than the work.  It writes the same text: keys sorted by code point
// (JSON.stringify would put integer-like keys first and sorts by UTF-16 unit),
// numbers as String(number), a lone surrogate as U+FFFD, the same indent rule
// and errors of the same kinds.  Installed on the `json` global by the engine
// (JsonBridge.vm_code); `vm` is the prelude's toolkit (see js_prelude.js).
(function (o, methods, vm) {
  "use strict";
  const SpellError = vm.SpellError, stringify = vm.stringify, parse = vm.parse, MAX_DEPTH = vm.MAX_DEPTH;
  const put = vm.put;  // a "__proto__" key stays an own property (js_prelude.js)
  const MAX_INDENT = 10;
  const isArray = Array.isArray, keysOf = Object.keys, isFinite = Number.isFinite;
  const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
  const CONSTANT = /"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)/g, NOT_BRACKET = /[^[\]{}]+/g;
  const STRING = /"[^"\\]*(?:\\.[^"\\]*)*"/g;

  const wellFormed = (s) => (s.isWellFormed() ? s : s.toWellFormed());
  const quote = (s) => stringify(wellFormed(s));
  // Code point order (Python's sort): UTF-16 units differ only for a surrogate against E000-FFFF.
  function unit(c) { return c < 0xD800 ? c : c >= 0xE000 ? c - 0x800 : c + 0x2000; }
  function byCodePoint(a, b) {
    const n = a.length < b.length ? a.length : b.length;
    for (let i = 0; i < n; i++) {
      const x = a.charCodeAt(i), y = b.charCodeAt(i);
      if (x !== y) return unit(x) - unit(y);
    }
    return a.length - b.length;
  }
  const tooDeep = (verb) => new SpellError("invalid_argument",
    "json." + verb + ": the value nests more than " + MAX_DEPTH + " levels deep");
  function what(v) {
    const t = typeof v;
    return t === "function" ? "function" : t === "bigint" ? "BigInt" : t === "symbol" ? "Symbol" : t;
  }

  // The fast way: a copy with its keys in order and its values checked, which the
  // native JSON.stringify then writes as the walker below would.  NOT_NATIVE is
  // thrown where it could not (JavaScript writes integer-like keys first; a key
  // that is not well-formed Unicode would sort differently once replaced).
  const NOT_NATIVE = {}, CYCLE = {};

  // QuickJS writes a few doubles with 17 significant digits where fewer read back
  // the same (2**-24 is 5.9604644775390625e-8; the language's rule, the other
  // engines and the host's writer give 5.960464477539063e-8).  Such a number takes
  // the walker, which writes the shortest digits in JavaScript's notation.
  const SEVENTEEN = /^-?(?:0\.0*)?[1-9](?:\.?[0-9]){16}(?:e|$)/;
  function longForm(v) {
    return !Number.isInteger(v) && SEVENTEEN.test(String(v));
  }
  function shortest(v) {
    const s = String(v);
    if (!longForm(v)) return s;
    // The digits of p places nearest v may miss its rounding interval where a
    // neighbour one unit away is inside it: try those too, fewest digits first.
    const neg = v < 0 ? "-" : "";
    for (let p = 1; p < 17; p++) {
      const e = v.toExponential(p - 1), at = e.indexOf("e");
      const m = BigInt(e.slice(neg.length, at).replace(".", "")), shift = Number(e.slice(at + 1)) - (p - 1);
      for (const c of [m, m + 1n, m - 1n]) {
        if (c <= 0n || Number(neg + c + "e" + shift) !== v) continue;
        const all = String(c), n = all.length + shift, digits = all.replace(/0+$/, ""), k = digits.length;
        if (k <= n && n <= 21) return neg + digits + "0".repeat(n - k);
        if (0 < n && n <= 21) return neg + digits.slice(0, n) + "." + digits.slice(n);
        if (-6 < n && n <= 0) return neg + "0." + "0".repeat(-n) + digits;
        return neg + digits[0] + (k > 1 ? "." + digits.slice(1) : "") + "e" + (n > 0 ? "+" : "-") + Math.abs(n - 1);
      }
    }
    return s;
  }
  const INDEX_KEY = /(?:^|\u0000)(?:0|[1-9][0-9]*)(?:\u0000|$)/, WIDE = /[\uD800-\uFFFF]/;
  function copy(v, depth, seen) {
    if (typeof v === "string") return v.isWellFormed() ? v : v.toWellFormed();
    if (v === null || v === undefined) return null;
    if (typeof v === "boolean") return v;
    if (typeof v === "number") {
      if (!isFinite(v)) throw new SpellError("invalid_argument", "json.encode: NaN and infinity have no JSON form");
      if (longForm(v)) throw NOT_NATIVE;
      return v;
    }
    if (typeof v !== "object") throw new SpellError("invalid_argument", "json.encode: a " + what(v) + " has no JSON form");
    if (typeof v.toJSON === "function") {
      const j = v.toJSON();
      if (j !== v) return copy(j, depth, seen);
    }
    if (depth >= MAX_DEPTH) throw tooDeep("encode");
    if (seen.has(v)) throw CYCLE;
    seen.add(v);
    let r;
    if (isArray(v)) {
      r = new Array(v.length);
      for (let i = 0; i < v.length; i++) r[i] = copy(v[i], depth + 1, seen);
    } else {
      const keys = keysOf(v);
      const all = keys.join("\u0000");
      if (INDEX_KEY.test(all) || !all.isWellFormed()) throw NOT_NATIVE;
      keys.sort(WIDE.test(all) ? byCodePoint : undefined);
      r = {};
      for (const k of keys) if (v[k] !== undefined) put(r, k, copy(v[k], depth + 1, seen));
    }
    seen.delete(v);
    return r;
  }

  function encode(value, opts) {
    let indent = opts === undefined || opts === null ? undefined : opts.indent;
    if (indent !== undefined && indent !== null &&
        !(typeof indent === "number" && Number.isInteger(indent) && indent >= 0 && indent <= MAX_INDENT)) {
      throw new SpellError("invalid_argument", "json.encode: indent must be a whole number from 0 to " + MAX_INDENT);
    }
    let fast = NOT_NATIVE;
    try { fast = copy(value, 0, new Set()); } catch (e) {
      if (e === CYCLE) throw vm.findCycle(value);  // named with its path, as every language names it
      if (e !== NOT_NATIVE) throw e;
    }
    if (fast !== NOT_NATIVE) return stringify(fast, null, indent || undefined);
    const step = indent ? " ".repeat(indent) : "";
    const seen = new Set();
    let out = "";
    function walk(v, depth) {
      if (typeof v === "string") { out += quote(v); return; }
      if (v === null || v === undefined) { out += "null"; return; }
      if (typeof v === "boolean") { out += v ? "true" : "false"; return; }
      if (typeof v === "number") {
        if (!isFinite(v)) throw new SpellError("invalid_argument", "json.encode: NaN and infinity have no JSON form");
        out += shortest(v);
        return;
      }
      if (typeof v !== "object") throw new SpellError("invalid_argument", "json.encode: a " + what(v) + " has no JSON form");
      if (typeof v.toJSON === "function") {
        const j = v.toJSON();
        if (j !== v) { walk(j, depth); return; }
      }
      if (depth >= MAX_DEPTH) throw tooDeep("encode");
      if (seen.has(v)) throw vm.findCycle(value);
      seen.add(v);
      const array = isArray(v);
      const keys = array ? null : keysOf(v).filter((k) => v[k] !== undefined).map((k) => [wellFormed(k), k])
        .sort((a, b) => byCodePoint(a[0], b[0]));
      const n = array ? v.length : keys.length;
      if (n === 0) out += array ? "[]" : "{}";
      else {
        const inner = step ? "\n" + step.repeat(depth + 1) : "";
        out += array ? "[" : "{";
        for (let i = 0; i < n; i++) {
          out += i ? "," + inner : inner;
          if (array) walk(v[i], depth + 1);
          else {
            out += stringify(keys[i][0]) + (step ? ": " : ":");
            walk(v[keys[i][1]], depth + 1);
          }
        }
        if (step) out += "\n" + step.repeat(depth);
        out += array ? "]" : "}";
      }
      seen.delete(v);
    }
    walk(value, 0);
    return out;
  }

  // Where in the text: "line L column C", as the host's reader says it.
  function where(text, at) {
    let line = 1, start = 0;
    for (let i = text.indexOf("\n"); i !== -1 && i < at; i = text.indexOf("\n", i + 1)) { line++; start = i + 1; }
    return "line " + line + " column " + (at - start + 1);
  }
  // The message for text JSON.parse refused: NaN and Infinity as the host names them.
  function parseError(text, e) {
    if (e instanceof RangeError) return tooDeep("decode");
    const msg = String(e.message);
    CONSTANT.lastIndex = 0;
    for (let m = CONSTANT.exec(text); m !== null; m = CONSTANT.exec(text)) {
      if (m[1] === undefined) continue;
      const at = m.index, pos = /at position (\d+)/.exec(msg);
      if (msg.includes("'" + m[1].replace("-", "") + "'") || (pos && Number(pos[1]) === at)) {
        return new SpellError("invalid_argument", "json.decode: " + m[1] + " is not JSON at " + where(text, at));
      }
      break;
    }
    return new SpellError("invalid_argument", "json.decode: " + msg);
  }
  // Decoded data checked as the host's reader checks it: nesting, lone surrogates.
  function settle(v, depth, surrogates) {
    if (typeof v === "string") return surrogates ? wellFormed(v) : v;
    if (v === null || typeof v !== "object") return v;
    if (depth >= MAX_DEPTH) throw tooDeep("decode");
    if (isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = settle(v[i], depth + 1, surrogates);
      return v;
    }
    if (!surrogates) {
      for (const k of keysOf(v)) {
        const x = v[k], y = settle(x, depth + 1, false);
        if (y !== x) put(v, k, y);
      }
      return v;
    }
    const r = {};
    for (const k of keysOf(v)) put(r, wellFormed(k), settle(v[k], depth + 1, true));
    return r;
  }
  // The depth limit of the one walker (values.make), checked where it is passed.
  function checkDepth(v, depth) {
    if (depth >= MAX_DEPTH) throw tooDeep("decode");
    if (isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i];
        if (typeof x === "object" && x !== null) checkDepth(x, depth + 1);
      }
    } else {
      const keys = keysOf(v);
      for (let i = 0; i < keys.length; i++) {
        const x = v[keys[i]];
        if (typeof x === "object" && x !== null) checkDepth(x, depth + 1);
      }
    }
  }
  // Whether the text (valid JSON) nests deeper than the limit: its brackets
  // outside strings counted, without a walk of the data.
  function nestsDeep(text) {
    if (text.length <= MAX_DEPTH) return false;
    const brackets = text.replace(STRING, "").replace(NOT_BRACKET, "");
    if (brackets.length <= MAX_DEPTH) return false;
    let depth = 0;
    for (let i = 0; i < brackets.length; i++) {
      const c = brackets.charCodeAt(i);
      depth += c === 91 || c === 123 ? 1 : -1;  // [ {
      if (depth > MAX_DEPTH) return true;
    }
    return false;
  }

  return Object.assign(o, {
    encode,
    decode(text) {
      if (typeof text !== "string") throw new SpellError("invalid_argument", "json.decode: text must be a string");
      let v;
      try { v = parse(text); } catch (e) { throw parseError(text, e); }
      if (SURROGATE_ESCAPE.test(text)) return settle(v, 0, true);
      if (typeof v === "object" && v !== null && nestsDeep(text)) checkDepth(v, 0);
      return v;
    },
  });
})
