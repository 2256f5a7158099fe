// The host side of a JavaScript spell, run once in each fresh QuickJS context.
//
// QuickJS refuses to call into Python while its time limit is on, and the time
// limit must stay on, so the spell never calls the host directly: a bridge
// call queues [id, method, args] and returns a Promise; the host drains the
// queue (one JSON string per round), runs the calls on its event loop, and
// settles the promises in one call.  Printing is buffered the same way.
(function (NONCE, description, bridgeCode) {
  "use strict";
  const FN = "$fn" + NONCE, HANDLE = "$h" + NONCE, NUM = "$num" + NONCE;
  // Our own copies: a spell may replace the globals, not these.
  const stringify = JSON.stringify, parse = JSON.parse;
  // Data is data whatever its keys: a "__proto__" key is an own property,
  // never the object's prototype (an assignment would set the prototype).
  const defineProperty = Object.defineProperty;
  function put(o, k, value) {
    if (k === "__proto__") defineProperty(o, k, { value, writable: true, enumerable: true, configurable: true });
    else o[k] = value;
  }

  // ---- stacks, call sites and out-of-memory ----------------------------------
  // QuickJS asks Error.prepareStackTrace to format every error it makes, its
  // own "out of memory" included.  That is how a spell that catches running
  // out of memory is still stopped (memory_limit, as in Lua), and how a bridge
  // call keeps its call site:
  // - an async method (a model call: slow anyway) captures the raw call sites
  //   when it is called, formatted only if it fails;
  // - a sync method's failure is an error made with no stack at all
  //   (prepareStackTrace gives undefined while `deferStack` is set).  QuickJS
  //   builds the stack of such an error where it is first thrown in bytecode:
  //   at the spell's `await` of the failed call, which is the line a user
  //   wants, for nothing on the hot path (capturing costs ~0.8 µs a call).
  const SITE = Symbol("site");
  let deferStack = false;
  const internalProto = InternalError.prototype, getProto = Object.getPrototypeOf, toText = String;
  const captureStack = Error.captureStackTrace;
  let oomSeen = false;
  // The instruction budget (loop iterations + calls), when the run has one:
  // the spell's source calls tick() at each (see js_instrument.py).  Once
  // over, every tick throws again and the host ends the run at its next look,
  // so catching the error buys nothing.
  let budget = description.budget, overBudget = false;
  function formatSites(head, sites) {
    let s = head;
    for (let i = 0; i < sites.length; i++) {
      const c = sites[i];
      s += "\n    at " + (c.getFunctionName() || "<anonymous>") + " (" + (c.getFileName() || "native") + ":" +
        c.getLineNumber() + ":" + c.getColumnNumber() + ")";
    }
    return s;
  }
  function prepareStackTrace(e, sites) {
    if (deferStack) return undefined;
    if (e !== null && typeof e === "object") {
      if (e[SITE] === true) return sites;
      if (getProto(e) === internalProto && e.message === "out of memory") {
        oomSeen = true;
        return "InternalError: out of memory";
      }
    }
    let head;
    try { head = toText(e); } catch (_) { head = "Error"; }
    return formatSites(head, sites);
  }
  // Set it through QuickJS's own setter (which fills an internal slot), then
  // put a locked accessor in its place, so a spell cannot swap it out.
  Object.getOwnPropertyDescriptor(Error, "prepareStackTrace").set.call(Error, prepareStackTrace);
  Object.defineProperty(Error, "prepareStackTrace", {
    get() { return prepareStackTrace; }, set(_) {}, enumerable: false, configurable: false,
  });
  // Numbers that must equal Python's come in the description, never written here:
  // values.MAX_DEPTH, and the line the prelude starts on (javascript._PRELUDE_OFFSET).
  const MAX_DEPTH = description.maxDepth, PRELUDE_LINE = description.preludeLine;
  const NativePromise = Promise;
  const queue = [];        // calls waiting for the host: [callId, methodId, args]
  // callId -> [resolve, reject, site].  No prototype: reading it runs no spell code.
  const waiting = Object.create(null);
  // A lone call (the only one since the last drain, with plain arguments) is
  // kept out of the queue, as its text "callId methodId args" and its parts,
  // until drainFast takes it or a second call joins it in the queue.
  let lone = null, loneId = 0, loneMethod = 0, loneArgs = null;
  function flushLone() {
    queue.push([loneId, loneMethod, loneArgs]);
    lone = loneArgs = null;
  }
  const fns = [];          // spell functions the host may call back, by index
  const finished = [];     // callbacks the host ran: [invocationId, ok, value]
  let out = [];            // printed text, drained each round
  let result = null;       // [ok, value] once the spell has finished
  let nextCall = 1;
  // QuickJS joins long strings lazily, as a "rope" (a + b when b has more
  // than 512 characters), and the Python binding cannot read a rope: every
  // string the host receives from the VM goes through flat().  String() of a
  // rope copies it into one piece; a string of 512 characters or fewer is
  // never a rope, so the common case costs one comparison.
  const flat = (s) => s.length > 512 ? toText(s) : s;

  // ---- values: JS -> host ---------------------------------------------------
  function enc(v, depth, path, seen) {
    if (v === undefined || v === null) return null;
    const t = typeof v;
    if (t === "string" || t === "boolean") return v;
    if (t === "number") {
      if (Number.isFinite(v)) return v !== 0 || 1 / v > 0 ? v : { [NUM]: "-0" };  // JSON writes -0 as 0
      return { [NUM]: String(v) };
    }
    if (t === "function") {
      if (v[HANDLE] !== undefined) return { [HANDLE]: v[HANDLE] };
      fns.push(v);
      return { [FN]: fns.length - 1 };
    }
    if (t === "bigint") throw new SpellError("invalid_argument", (path || "value") + ": a BigInt cannot be passed to the host");
    if (t === "symbol") throw new SpellError("invalid_argument", (path || "value") + ": a Symbol cannot be passed to the host");
    if (depth >= MAX_DEPTH) {
      throw new SpellError("invalid_argument", shortPath(path) + " nests more than " + MAX_DEPTH + " levels deep (is it a cycle?)");
    }
    if (seen.has(v)) throw cycleError(path);
    if (v[HANDLE] !== undefined) return { [HANDLE]: v[HANDLE] };
    seen.add(v);
    try {
      if (Array.isArray(v)) {
        const a = new Array(v.length);
        for (let i = 0; i < v.length; i++) a[i] = enc(v[i], depth + 1, path + "[" + i + "]", seen);
        return a;
      }
      if (v instanceof Error) {
        return { kind: v.kind || "runtime_error", message: String(v.message) };
      }
      const proto = getProto(v);
      if (proto !== objectProto && proto !== null) throw notPlain(v, proto, path);
      const o = {};
      for (const k of Object.keys(v)) {
        put(o, k, enc(v[k], depth + 1, path ? path + "." + k : k, seen));
      }
      return o;
    } finally {
      seen.delete(v);
    }
  }
  const encode = (v, path) => enc(v, 0, path || "", new Set());
  // A path too deep to show whole, cut as values.depth_error cuts it: its start says enough.
  function shortPath(path) {
    if (path.length <= 60) return path || "value";
    const start = path.slice(0, 60), dot = start.lastIndexOf(".");
    return (dot >= 0 ? start.slice(0, dot) : start) + "...";
  }
  // A value that contains itself, named as values.cycle_error names it: the
  // path where a container comes round again.
  const cycleError = (path) => new SpellError("invalid_argument", (path || "value") + " contains a cycle (an object inside itself)");
  // The same error for a walker that found a cycle without keeping paths
  // (json's twin): the first container met again, walked as enc walks.
  function findCycle(value) {
    const onPath = new Set(), clear = new Set();
    function find(v, path, depth) {
      if (v === null || typeof v !== "object" || clear.has(v) || depth > MAX_DEPTH) return null;
      if (onPath.has(v)) return path || "value";
      onPath.add(v);
      const array = Array.isArray(v), keys = array ? [...v.keys()] : Object.keys(v);
      for (const k of keys) {
        const at = find(v[k], array ? path + "[" + k + "]" : path ? path + "." + k : k, depth + 1);
        if (at !== null) return at;
      }
      onPath.delete(v);
      clear.add(v);
      return null;
    }
    return cycleError(find(value, "", 0));
  }
  // A call's arguments: each one is a value of its own, as the host reads a
  // Lua or Tengo argument (its nesting and the path an error names start at it).
  function encodeArgs(args) {
    const a = new Array(args.length);
    for (let i = 0; i < args.length; i++) a[i] = enc(args[i], 0, "", new Set());
    return a;
  }
  // Only plain data crosses: an object made by a class (a Date, a Map, a Set,
  // a RegExp, a Promise, the spell's own classes) is refused, saying what to
  // pass instead, rather than arriving as {} (its own fields only, or none).
  const objectProto = Object.prototype, hasOwn = Object.prototype.hasOwnProperty;
  function notPlain(v, proto, path) {
    let name = "";
    try {
      const c = hasOwn.call(proto, "constructor") ? proto.constructor : undefined;
      if (typeof c === "function" && typeof c.name === "string") name = c.name;
    } catch (_) { /* a getter that throws: no name */ }
    const what = name ? "a " + name : "an object made by a class";
    const instead = name === "Date" ? "its text (date.toISOString())"
      : name === "Map" ? "an object (Object.fromEntries(map))"
      : name === "Set" ? "an array ([...set])"
      : name === "Promise" ? "its value (await it first)"
      : "plain data (an object literal, e.g. {...value})";
    return new SpellError("invalid_argument", (path || "value") + ": " + what + " cannot be passed to the host; pass " + instead);
  }

  // ---- values: host -> JS ---------------------------------------------------
  function dec(v) {
    if (v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) return v.map(dec);
    if (v[HANDLE] !== undefined) return makeObject(v[HANDLE], v.m, dec(v.f || {}), v.d);
    if (v[NUM] !== undefined) return Number(v[NUM]);
    const o = {};
    for (const k of Object.keys(v)) put(o, k, dec(v[k]));
    return o;
  }

  // ---- errors -----------------------------------------------------------------
  class SpellError extends Error {
    constructor(kind, message, where, site) {
      super(message);
      this.kind = kind;
      if (where) this.where = where;
      // Where the spell made the failed call: the stack of this error is the
      // host's settling code, so the call site is kept from the call itself.
      if (site) {
        // The spell's own frames only: prelude lines are numbered from PRELUDE_LINE on.
        const own = formatSites("", site.stack.filter((c) => c.getLineNumber() < PRELUDE_LINE)).slice(1);
        Object.defineProperty(this, "site", { value: own, enumerable: false });
        Object.defineProperty(this, "stack", { value: own, enumerable: false, writable: true, configurable: true });
      }
    }
    get name() { return "SpellError"; }
    toString() { return this.kind + ": " + this.message; }
  }
  function errinfo(e) {
    if (e instanceof SpellError) {
      return { kind: e.kind, message: e.message, where: e.where || null, stack: e.site || e.stack || "" };
    }
    if (e instanceof Error) {
      const kind = e.kind || "runtime_error";
      // A plain Error's message is the spell's own words, as Lua's error("...") is; TypeError and the
      // other built-in kinds keep their name, which says what went wrong.
      const named = e.kind || e.name === "Error" ? "" : e.name + ": ";
      return { kind: kind, message: named + e.message, stack: e.stack || "" };
    }
    let text;
    try { text = typeof e === "string" ? e : stringify(e); } catch (_) { text = String(e); }
    return { kind: "runtime_error", message: "uncaught " + text, stack: "" };
  }

  // ---- host calls ---------------------------------------------------------------
  // Strings, finite numbers, booleans, null and undefined: what argText writes
  // itself.  Anything else (a Symbol and a BigInt too) goes through encode(),
  // which converts it or says why it cannot.
  function plainArgs(args) {
    for (let i = 0; i < args.length; i++) {
      const a = args[i], t = typeof a;
      if (t === "string" || t === "boolean" || t === "undefined" || a === null || (t === "number" && a - a === 0 && (a !== 0 || 1 / a > 0))) {
        continue;
      }
      return false;
    }
    return true;
  }
  // The JSON text of plain arguments for the host, or null if they are not
  // plain.  One argument is written as its own value (the host reads a
  // non-array as one argument); numbers and booleans need no stringify.
  function argText(args) {
    if (args.length === 1) {
      const a = args[0];
      switch (typeof a) {
        case "number": return a - a === 0 && (a !== 0 || 1 / a > 0) ? "" + a : null;  // not NaN, infinite or -0
        case "string": return stringify(a);
        case "boolean": return a ? "true" : "false";
        case "undefined": return "null";
        case "object": return a === null ? "null" : null;
        default: return null;
      }
    }
    if (!plainArgs(args)) return null;
    let s = "[";
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (i) s += ",";
      s += typeof a === "string" ? stringify(a) : a === undefined ? "null" : "" + a;
    }
    return s + "]";
  }
  // One executor for every call's promise (no closure made per call).
  const captured = [null, null];
  function keepResolvers(resolve, reject) {
    captured[0] = resolve;
    captured[1] = reject;
  }
  // prefix: " methodId ", made once per method; capture: keep the call site
  // now (async methods, see deferStack).
  function hostCall(method, args, prefix, capture) {
    const text = argText(args);
    let encoded = args;
    if (text === null && !plainArgs(args)) {
      // Arguments that cannot cross fail the call where it is made, awaited or
      // not (log.info(cyclic) throws, as in Lua), never as a promise nobody reads.
      try {
        encoded = encodeArgs(args);
      } catch (e) {
        throw e instanceof SpellError ? e : new SpellError("invalid_argument", e.message);
      }
    }
    const id = nextCall++;
    if (lone !== null) flushLone();
    if (text !== null && queue.length === 0) {
      lone = id + (prefix || " " + method + " ") + text;
      loneId = id;
      loneMethod = method;
      loneArgs = encoded;
    } else {
      queue.push([id, method, encoded]);
    }
    let site = null;
    if (capture !== false) {
      site = { [SITE]: true };
      captureStack(site);
    }
    const promise = new NativePromise(keepResolvers);
    waiting[id] = [captured[0], captured[1], site];
    return promise;
  }

  const NOT_DYNAMIC = new Set(["then", "catch", "toJSON", "constructor", "valueOf", "toString", "inspect"]);
  function makeObject(handle, methods, fields, dynamic) {
    const o = Object.assign({}, fields);
    for (const [name, id, isAsync] of methods) {
      const prefix = " " + id + " ";
      o[name] = (...args) => hostCall(id, args, prefix, isAsync);
    }
    if (handle !== null) Object.defineProperty(o, HANDLE, { value: handle, enumerable: false });
    if (dynamic === undefined || dynamic === null) return o;
    // any other name k: obj.k(...) is obj.<dynamic>(k, ...)
    return new Proxy(Object.freeze(o), {
      get(t, k) {
        if (typeof k !== "string" || k in t || NOT_DYNAMIC.has(k)) return t[k];
        return (...args) => hostCall(dynamic, [k, ...args]);
      },
    });
  }

  // ---- printing -------------------------------------------------------------------
  function show(v, depth, seen) {
    if (typeof v === "string") return depth ? stringify(v) : v;
    if (v === undefined) return "undefined";
    if (v === null || typeof v !== "object") {
      if (typeof v === "function") return "[Function " + (v.name || "anonymous") + "]";
      return String(v);
    }
    if (v instanceof Error) return v.toString();
    if (seen.has(v)) return "[Circular]";
    if (depth > 4) return Array.isArray(v) ? "[Array]" : "[Object]";
    seen.add(v);
    let s;
    if (Array.isArray(v)) s = "[ " + v.map((x) => show(x, depth + 1, seen)).join(", ") + " ]";
    else {
      const keys = Object.keys(v);
      s = keys.length ? "{ " + keys.map((k) => k + ": " + show(v[k], depth + 1, seen)).join(", ") + " }" : "{}";
    }
    seen.delete(v);
    return s === "[  ]" ? "[]" : s;
  }
  const print = (...args) => { out.push(args.map((a) => show(a, 0, new Set())).join(" ") + "\n"); };
  const printErr = (level) => (...args) => {
    const text = args.map((a) => show(a, 0, new Set())).join(" ");
    if (description.log[level] === undefined) out.push(text + "\n");
    else hostCall(description.log[level], [text]);
  };

  // ---- what a bridge's own VM code may use (see Bridge.vm_code) ---------------------
  // call(methodId, args): a host call, as a method of the bridge's object makes it.
  const bridgeVM = Object.freeze({ call: hostCall, SpellError, stringify, parse, MAX_DEPTH, put, findCycle });

  // ---- calls answered in the VM, seen by the host ------------------------------------
  // A method a bridge's VM code answers here (json's twin) never crosses to the
  // host.  When the host has interceptors (dispatch.py) it names these methods
  // in description.observed, and each call is reported after the fact:
  // [methodId, args, ok, value or error, milliseconds], drained with the rest.
  const observedIds = description.observed, observed = [];
  const clock = typeof performance === "object" ? performance.now.bind(performance) : Date.now;
  function observe(fn, id) {
    return (...args) => {
      const started = clock();
      let ok = false, value;
      try {
        value = fn(...args);
        ok = true;
        return value;
      } catch (e) {
        value = errinfo(e);
        throw e;
      } finally {
        let sent = null, result = null;
        try { sent = encodeArgs(args); } catch (_) { /* the host sees no arguments it could not read */ }
        try { result = ok ? encode(value, "") : value; } catch (_) { /* nor such a result */ }
        observed[observed.length] = [id, sent, ok, result, clock() - started];  // no push: the spell may replace it
      }
    };
  }

  // ---- globals ----------------------------------------------------------------------
  const g = globalThis;
  for (const [name, methods] of Object.entries(description.globals)) {
    const dyn = description.dynamic[name];
    let o = dyn === undefined ? makeObject(null, methods, {}) : Object.assign({}, makeObject(null, methods, {}));
    // What the bridge itself puts in the VM (Bridge.vm_code): it gets the
    // object, its method ids by name, and the toolkit above.
    const code = bridgeCode[name];
    if (code !== undefined) o = code(o, Object.fromEntries(methods.map((m) => [m[0], m[1]])), bridgeVM);
    if (observedIds !== null) {
      for (const [m, id] of methods) if (observedIds.includes(id)) o[m] = observe(o[m], id);
    }
    const value = dyn === undefined ? Object.freeze(o) : new Proxy(Object.freeze(o), {
      get(t, k) {
        if (typeof k !== "string" || k in t || NOT_DYNAMIC.has(k)) return t[k];
        return (...args) => hostCall(dyn, [k, ...args]);
      },
    });
    Object.defineProperty(g, name, { value: value, writable: false, enumerable: false, configurable: false });
  }
  g.params = dec(description.params);
  g.print = print;
  g.console = Object.freeze({ log: print, info: print, debug: print, warn: printErr("warn"), error: printErr("error") });

  // ---- what the host calls -------------------------------------------------------
  function settleOne(id, ok, value) {
    const w = waiting[id];
    delete waiting[id];
    if (!w) return;
    if (ok) {
      w[0](value);
    } else if (w[2] !== null) {
      w[1](new SpellError(value.kind, value.message, value.where, w[2]));
    } else {
      deferStack = true;
      let e;
      try { e = new SpellError(value.kind, value.message, value.where, null); } finally { deferStack = false; }
      w[1](e);
    }
  }
  const api = {
    start(main) {
      Promise.resolve().then(main).then(
        (v) => {
          try { result = [true, encode(v, "result")]; } catch (e) { result = [false, errinfo(e)]; }
        },
        (e) => { result = [false, errinfo(e)]; },
      );
    },
    // "" when nothing happened; "id method [args]" for one call and nothing else;
    // else JSON [calls, printed, result, callbacks, observed calls].
    drain() {
      if (oomSeen) return "!oom";  // even if the spell caught it
      if (overBudget) return "!instructions";
      if (lone !== null) flushLone();
      if (!out.length && result === null && !finished.length && !observed.length) {
        if (!queue.length) return "";
        if (queue.length === 1) {
          const c = queue.pop();
          return flat(c[0] + " " + c[1] + " " + stringify(c[2]));
        }
      }
      const payload = flat(stringify([queue.splice(0), out.join(""), result, finished.splice(0), observed.splice(0)]));
      out = [];
      return payload;
    },
    // The host calls drainFast and resolveFast with the time limit off (each
    // entry with the limit on costs a CPU-clock system call), so they must
    // not run spell code, however the spell has changed the built-ins: they
    // only read and write this prelude's own variables, arrays and
    // prototype-less objects, and call a native resolve function with a
    // primitive (which looks up no "then").
    //
    // drainFast: after one job, a lone new call and nothing else to report
    // gives its text (and leaves the queue); nothing at all gives ""; anything
    // else gives null, and the host takes it all with drain().
    drainFast() {
      if (oomSeen || overBudget || out.length !== 0 || result !== null || finished.length !== 0) return null;
      if (queue.length !== 0 || observed.length !== 0) return null;
      if (lone === null) return "";
      const text = lone;
      lone = loneArgs = null;
      return text.length > 512 ? toText(text) : text;  // flat(text), inline: the hot path
    },
    // One result that is a plain string/number/boolean/null: no JSON either way.
    resolveFast(id, value) {
      const w = waiting[id];
      if (w === undefined) return;
      delete waiting[id];
      w[0](value);
    },
    // JSON [[id, ok, value]...], [[invocation, fn, args]...]
    settle(text) {
      const [results, invocations] = parse(text);
      for (const [id, ok, value] of results) settleOne(id, ok, ok ? dec(value) : value);
      for (const [inv, fn, args] of invocations) {
        Promise.resolve().then(() => fns[fn](...dec(args))).then(
          (v) => {
            try { finished.push([inv, true, encode(v, "result")]); } catch (e) { finished.push([inv, false, errinfo(e)]); }
          },
          (e) => { finished.push([inv, false, errinfo(e)]); },
        );
      }
    },
  };
  if (budget !== null) {
    const tick = () => {
      if (--budget < 0) {
        overBudget = true;
        throw new SpellError("limit_exceeded", "the spell ran more than its instruction limit");
      }
    };
    Object.defineProperty(g, "__llmspell_tick" + NONCE, { value: tick, enumerable: false });
  }
  for (const [k, f] of Object.entries(api)) {
    Object.defineProperty(g, "__llmspell_" + k + NONCE, { value: f, enumerable: false });
  }
})
