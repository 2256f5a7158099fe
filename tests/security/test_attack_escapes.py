"""Escapes from the VM to the host language, bytecode loading, and what crosses the border.

A Lua spell gets only safe base libraries (no io, debug, package, os beyond
the clock, no binary chunks, no string.dump, collectgarbage("count") only) and
never a Python object; a JavaScript spell gets no host objects beyond the
bridges.  Errors from the host are plain data (kind and message), and bridge
arguments are converted inside the VM before the host sees them.
"""

from __future__ import annotations

import pytest
from tests.security.conftest import expect_error

# A valid-looking header of a Lua 5.4 binary chunk: enough for load() to know it is one.
_BYTECODE = 'string.char(27) .. "LuaT" .. string.char(0, 25, 147, 13, 10, 26, 10, 4, 8, 8)'

LUA_ESCAPES = [
    ("io_open", 'return io.open("/etc/passwd"):read("a")', "nil value"),
    ("io_popen", 'return io.popen("id"):read("a")', "nil value"),
    ("os_execute", 'return os.execute("touch pwned")', "nil value"),
    ("os_getenv", 'return os.getenv("OPENAI_API_KEY")', "nil value"),
    ("os_remove", 'return os.remove("outside/secret.txt")', "nil value"),
    ("os_rename", 'return os.rename("outside/secret.txt", "allowed/stolen")', "nil value"),
    ("os_exit", "os.exit(3)", "nil value"),
    ("os_tmpname", "return os.tmpname()", "nil value"),
    ("debug_registry", "return debug.getregistry()", "nil value"),
    ("debug_sethook", "debug.sethook()", "nil value"),
    ("package_loadlib", 'return package.loadlib("libc.so.6", "system")', "nil value"),
    ("require_os", 'return require("os")', "nil value"),
    ("dofile", 'return dofile("/etc/passwd")', "nil value"),
    ("loadfile", 'return loadfile("/etc/passwd")', "nil value"),
    ("python_global", 'return python.eval("__import__(\'os\')")', "nil value"),
    ("python_builtins", 'return python.builtins.open("/etc/passwd")', "nil value"),
    ("string_dump", "return string.dump(function() end)", "nil value"),
    ("string_dump_method", 'return ("x").dump(print)', "nil value"),
    ("load_binary_chunk", f"return assert(load({_BYTECODE}))", "binary chunk"),
    ("load_binary_mode_b", f'return assert(load({_BYTECODE}, "x", "b"))', "binary chunk"),
    ("load_reader_function", 'return load(function() return nil end)', "only source text"),
    ("collectgarbage_collect", 'collectgarbage("collect")', "only \"count\""),
    ("collectgarbage_stop", 'collectgarbage("stop")', "only \"count\""),
    ("string_metatable", 'local mt = getmetatable(""); mt.__index = {}', "boolean value"),
    ("yield_to_host_forged", 'coroutine.yield("\\0call", 1, {n = 0})', "outside a coroutine"),
]


@pytest.mark.parametrize("source,contains", [c[1:] for c in LUA_ESCAPES], ids=[c[0] for c in LUA_ESCAPES])
def test_lua_escape_is_a_runtime_error(spell, tree, source, contains):
    before = tree.snapshot()
    result = spell("lua", source)
    expect_error(result, "runtime_error", contains=contains)
    assert tree.snapshot() == before
    assert not (tree.root / "pwned").exists()


def test_lua_globals_are_only_safe_libraries(spell):
    source = """
    local names = {}
    for k in pairs(_G) do names[#names + 1] = k end
    table.sort(names)
    local os_names = {}
    for k in pairs(os) do os_names[#os_names + 1] = k end
    table.sort(os_names)
    return {globals = names, os = os_names, dump = string.dump == nil}
    """
    result = spell("lua", source, "--json")
    assert result.code == 0, result.err
    import json

    data = json.loads(result.out)
    safe = {
        "_G", "_VERSION", "assert", "collectgarbage", "coroutine", "error", "getmetatable", "ipairs", "load",
        "math", "next", "os", "pairs", "pcall", "print", "rawequal", "rawget", "rawlen", "rawset", "select",
        "setmetatable", "string", "table", "tonumber", "tostring", "type", "utf8", "warn", "xpcall",
    }
    bridges = {"llm", "json", "log", "logger", "env", "tools", "spell", "params",
               "events", "hooks", "guardrails", "state", "workflow"}
    assert set(data["globals"]) <= safe | bridges, set(data["globals"]) - safe - bridges
    assert set(data["os"]) <= {"clock", "time", "date", "difftime"}
    assert data["dump"] is True


def test_lua_no_python_object_is_reachable(spell):
    """Walk everything reachable from _G (bridges, handles, host error values, metatables):
    no userdata, no thread that is not the spell's own."""
    source = """
    local tool = tools.register({name = "t", handler = function() return 1 end})
    local ok, err = pcall(tools.file_read, "/etc/passwd")
    local ok2, err2 = pcall(json.decode, "{")
    local roots = {_G, tool, err, err2, getmetatable(err) or {}, getmetatable(tools) or {}}
    local seen, bad, n = {}, {}, 0
    local function walk(v, path)
      local t = type(v)
      if t == "userdata" or t == "thread" then bad[#bad + 1] = path .. ":" .. t end
      if t ~= "table" or seen[v] then return end
      seen[v] = true
      n = n + 1
      for k, x in pairs(v) do
        walk(k, path .. "<key>")
        walk(x, path .. "." .. tostring(k))
      end
      local mt = getmetatable(v)
      if type(mt) == "table" then walk(mt, path .. "<mt>") end
    end
    for i, r in ipairs(roots) do walk(r, "root" .. i) end
    assert(type(err) == "table" and err.kind == "permission_denied", tostring(err))
    assert(err2.kind == "invalid_argument", tostring(err2))
    assert(#bad == 0, table.concat(bad, ", "))
    return n
    """
    result = spell("lua", source)
    assert result.code == 0, result.err
    assert int(result.out) > 10


def test_lua_host_errors_in_flight_are_plain_data(spell):
    """A host error unwinding through a to-be-closed variable, or left in a dead coroutine, is seen
    by spell code that no pcall wraps: it must be plain data too."""
    source = """
    local seen = {}
    local function probe(f, ...)
      local args = table.pack(...)
      local ok, e = pcall(function()
        local guard <close> = setmetatable({}, {__close = function(_, err) seen[#seen + 1] = type(err) end})
        f(table.unpack(args, 1, args.n))
      end)
      seen[#seen + 1] = type(e)
    end
    probe(json.decode, "{")
    probe(tools.file_read, "/etc/passwd")
    probe(print, setmetatable({}, {__tostring = function() return {} end}))
    local co = coroutine.create(function() json.decode("{") end)
    local _, e1 = coroutine.resume(co)
    local _, e2 = coroutine.close(co)
    seen[#seen + 1] = type(e1)
    seen[#seen + 1] = type(e2)
    return table.concat(seen, ",")
    """
    result = spell("lua", source)
    assert result.code == 0, result.err
    kinds = result.out.strip().split(",")
    assert len(kinds) == 8 and "userdata" not in kinds, kinds


def test_lua_host_error_is_plain_data(spell):
    source = """
    local ok, e = pcall(tools.file_read, "/etc/passwd")
    local keys = {}
    for k, v in pairs(e) do keys[#keys + 1] = k .. "=" .. type(v) end
    table.sort(keys)
    return table.concat(keys, ",") .. "|" .. tostring(e)
    """
    result = spell("lua", source)
    assert result.code == 0, result.err
    keys, _, text = result.out.strip().partition("|")
    assert set(keys.split(",")) <= {"kind=string", "message=string", "where=string"}
    assert text.startswith("permission_denied: ")
    assert "--allow-read=/etc/passwd" in text


JS_ESCAPES = [
    ("require_fs", 'return require("fs").readFileSync("/etc/passwd")', "runtime_error", "ReferenceError"),
    ("import_os", 'const m = await import("os"); return m.exec(["id"])', "runtime_error", "could not load module"),
    ("import_std", 'const m = await import("std"); return m.getenv("HOME")', "runtime_error",
     "could not load module"),
    ("process_env", "return process.env.OPENAI_API_KEY", "runtime_error", "ReferenceError"),
    ("std_global", 'return std.loadFile("/etc/passwd")', "runtime_error", "ReferenceError"),
    ("os_global", 'return os.exec(["id"])', "runtime_error", "ReferenceError"),
    ("deno_global", 'return Deno.readTextFileSync("/etc/passwd")', "runtime_error", "ReferenceError"),
    ("function_constructor_global", 'return Function("return this")().python.eval("1")', "runtime_error",
     "TypeError"),
    ("bridge_frozen", 'tools.file_read = () => "stolen"; return tools.file_read("x")', "runtime_error",
     "TypeError"),
]


@pytest.mark.parametrize("source,kind,contains", [c[1:] for c in JS_ESCAPES], ids=[c[0] for c in JS_ESCAPES])
def test_js_escape_fails(spell, tree, source, kind, contains):
    before = tree.snapshot()
    result = spell("js", '"use strict";\n' + source)
    expect_error(result, kind, contains=contains)
    assert tree.snapshot() == before


def test_js_globals_are_standard_or_bridges(spell):
    source = """
    return Object.getOwnPropertyNames(globalThis);
    """
    result = spell("js", source, "--json")
    assert result.code == 0, result.err
    import json

    names = set(json.loads(result.out))
    ecmascript = {
        "Object", "Function", "Error", "EvalError", "RangeError", "ReferenceError", "SyntaxError", "TypeError",
        "URIError", "InternalError", "AggregateError", "SuppressedError", "Iterator", "Array", "parseInt",
        "parseFloat", "isNaN", "isFinite", "queueMicrotask", "decodeURI", "decodeURIComponent", "encodeURI",
        "encodeURIComponent", "escape", "unescape", "Infinity", "NaN", "undefined", "eval", "Number", "Boolean",
        "String", "Math", "Reflect", "Symbol", "DisposableStack", "AsyncDisposableStack", "globalThis", "BigInt",
        "Date", "RegExp", "JSON", "Proxy", "Map", "Set", "WeakMap", "WeakSet", "WeakRef", "FinalizationRegistry",
        "ArrayBuffer", "SharedArrayBuffer", "DataView", "Int8Array", "Uint8Array", "Uint8ClampedArray",
        "Int16Array", "Uint16Array", "Int32Array", "Uint32Array", "BigInt64Array", "BigUint64Array",
        "Float16Array", "Float32Array", "Float64Array", "TypedArray", "Promise", "Atomics", "Performance",
        "performance", "Intl", "navigator", "AsyncIterator", "Generator",
        "atob", "btoa", "DOMException",  # QuickJS-ng's pure web-compat builtins
    }
    ours = {"llm", "json", "log", "logger", "env", "tools", "spell", "params", "print", "console",
            "events", "hooks", "guardrails", "state", "workflow"}
    unexpected = {n for n in names - ecmascript - ours if not n.startswith("__llmspell_")}
    assert not unexpected, unexpected


def test_js_host_error_carries_kind_and_message_only(spell):
    source = """
    try { await tools.file_read("/etc/passwd"); return "read it" }
    catch (e) { return {keys: Object.keys(e), kind: e.kind, message: e.message, text: String(e),
                        isError: e instanceof Error} }
    """
    result = spell("js", source, "--json")
    assert result.code == 0, result.err
    import json

    data = json.loads(result.out)
    assert set(data["keys"]) <= {"kind", "where"}
    assert data["kind"] == "permission_denied" and data["isError"] is True
    assert data["text"] == "permission_denied: " + data["message"]
    assert "--allow-read=/etc/passwd" in data["message"]


def test_js_getter_runs_in_the_vm_and_the_host_sees_plain_data(spell):
    """The getter runs once, during conversion inside the VM; the tool gets the plain value."""
    source = """
    let runs = 0;
    const data = { get secret() { runs++; return {n: runs}; } };
    const got = await tools.json_query(data, "secret.n");
    return [got, runs];
    """
    result = spell("js", source, "--json")
    assert result.code == 0, result.err
    assert result.out.strip() == "[1, 1]"


def test_js_proxy_traps_run_in_the_vm_only(spell):
    source = """
    let traps = 0;
    const p = new Proxy({a: {b: 2}}, {
      get(t, k) { traps++; return t[k]; },
      ownKeys(t) { traps++; return Reflect.ownKeys(t); },
    });
    const got = await tools.json_query(p, "a.b");
    const after = traps;
    await tools.calculator("1+1");
    return [got, after > 0, traps === after];
    """
    result = spell("js", source, "--json")
    assert result.code == 0, result.err
    assert result.out.strip() == "[2, true, true]"


def test_js_getter_that_throws_during_conversion_is_invalid_argument(spell):
    source = 'await tools.json_query({get x() { throw new Error("boom") }}, "x")'
    expect_error(spell("js", source), "invalid_argument", contains="boom")


def test_js_forged_conversion_marker_is_invalid_argument(spell):
    source = """
    const name = Object.getOwnPropertyNames(globalThis).find((k) => k.startsWith("__llmspell_start"));
    const nonce = name.slice("__llmspell_start".length);
    return await tools.json_query({a: {["$num" + nonce]: {x: 1}}}, "a");
    """
    result = spell("js", source)
    assert "TypeError" not in result.err and "float()" not in result.err
    expect_error(result, "invalid_argument")


@pytest.mark.parametrize("replacement", ['() => "[1,2"', '() => "garbage"'], ids=["truncated", "not_json"])
def test_js_sabotaged_json_stringify_is_not_a_host_error(spell, replacement):
    result = spell("js", f"JSON.stringify = {replacement};\nreturn await tools.calculator('1+1')")
    assert "JSONDecodeError" not in result.err and "internal" != result.kind
    assert result.code == 0 or result.kind == "runtime_error"


_LUA_NOT_UTF8_REASON = (
    "engines/lua.py: a Lua string that is not UTF-8 crossing to the host (bridge argument, print, result) raises "
    "a Python UnicodeDecodeError inside lupa's conversion: pcall hands the spell the live Python exception "
    "(type 'userdata', its metatable readable), uncaught it shows as 'internal: UnicodeDecodeError: ...' or "
    "'runtime_error: 'utf-8' codec can't decode ...'; strings should cross as bytes and fail as invalid_argument")


@pytest.mark.parametrize(("call", "second_value"), [('json.encode("\\xff")', "string"), ('print("\\xff")', "nil"),
                                                  ('log.info("\\xff")', "nil"), ('tools.calculator("\\xff")', "table")],
                         ids=["json", "print", "log", "tool"])
def test_lua_non_utf8_string_never_yields_a_python_exception(spell, call, second_value):
    """The bytes are U+FFFD on every path, sync or async: json gives its text, print and log succeed
    (nothing), and the calculator refuses U+FFFD as it refuses any text that is not arithmetic, with an
    error table the spell can read.  pcall's second value is checked by its Lua type."""
    result = spell("lua", f"local ok, e = pcall(function() return {call} end)\nreturn type(e)")
    assert result.code == 0, result.err
    assert result.out.strip().splitlines()[-1] == second_value


def test_lua_non_utf8_result_is_not_an_internal_error(spell):
    result = spell("lua", 'return "\\xff"')
    assert "UnicodeDecodeError" not in result.err
    assert result.code == 0 and result.out == "\ufffd\n", (result.out, result.err)


def test_js_tampered_builtins_never_run_outside_the_time_limit(isolated):
    """The host takes a lone call and answers it with QuickJS's time limit off (drainFast/resolveFast):
    no getter, prototype method or global the spell replaced may run there.  Inline, with no worker to
    kill it, a spin in such an entry would hang this test.  (Traps that the prelude's own code with the
    limit on walks into end the run with a timeout instead: the spell only hurts itself.)"""
    import threading

    from llmspell import Policy, Runtime, SpellError

    source = """
    const spin = { get() { for (;;) {} }, configurable: true };
    for (const k of ["then", "length", "constructor", "resolve"]) {
      for (const proto of [Object.prototype, Function.prototype]) {
        try { Object.defineProperty(proto, k, spin); } catch (e) {}
      }
    }
    const forever = () => { for (;;) {} };
    Array.prototype.push = Array.prototype.pop = Map.prototype.get = Map.prototype.set = forever;
    JSON.stringify = JSON.parse = forever;
    globalThis.Promise = forever;
    let n = 0;
    for (let i = 0; i < 20; i++) { await log.info("x"); n++; }
    return n;
    """
    outcome: list = []

    def go() -> None:
        rt = Runtime(policy=Policy(timeout=2), isolation="inline", cwd=isolated.cwd, output=lambda _: None)
        try:
            outcome.append(rt.run(source=source, language="javascript"))
        except SpellError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=go, daemon=True)
    worker.start()
    worker.join(10)
    assert not worker.is_alive(), "the run did not end: spell code ran with the time limit off"
    assert outcome == [20]
