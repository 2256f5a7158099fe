"""spell.require (and Tengo's import of a file) the same in Lua, JavaScript and Tengo.

Through the CLI, as a user runs a spell: a module's exports come back (Tengo
gave the file's text); a relative path inside a module starts from that
module's folder; a module that fails gives its own error every time it is
required (Lua said "requires itself" the second time); a syntax error is the
module's, at its line; a cycle is said to be one, naming the modules
(JavaScript waited on a promise nothing would settle).
"""

from __future__ import annotations

import json

import pytest

LANGS = ("lua", "js", "tengo")
EXT = {"lua": "lua", "js": "js", "tengo": "tengo"}

#: attempt(path): the module's value, or "kind: where: message" of its failure.
ATTEMPT = {
    "lua": """local function attempt(p)
  local ok, v = pcall(spell.require, p)
  if ok then return v end
  if type(v) ~= "table" then return "runtime_error: " .. tostring(v) end
  return v.kind .. ": " .. (v.where and (v.where .. ": ") or "") .. v.message
end
""",
    "js": """async function attempt(p) {
  try { return await spell.require(p); } catch (e) {
    return (e.kind || "runtime_error") + ": " + (e.where ? e.where + ": " : "") + e.message;
  }
}
""",
    "tengo": """attempt := func(p) {
  v := spell.require(p)
  if is_error(v) { return v.value.kind + ": " + v.value.message }
  return v
}
""",
}
AWAIT = {"lua": "", "js": "await ", "tengo": ""}
RETURN = {"lua": "return ", "js": "return ", "tengo": "export "}

#: Per language: a module's body that exports VALUE, one that requires PATH and exports it.
EXPORT = {"lua": "return {value}", "js": "return {value};", "tengo": "export {value}"}
REQUIRE = {"lua": 'return spell.require("{path}")', "js": 'return await spell.require("{path}");',
           "tengo": 'export spell.require("{path}")'}
FAIL = {"lua": 'local x = 1\nerror("boom")', "js": 'const x = 1;\nthrow new Error("boom");',
        "tengo": "x := 0\nexport 1 / x"}
BAD = {"lua": "local x = 1\nlocal y = ) 1", "js": "const x = 1;\nconst y = ) 1;", "tengo": "x := 1\ny := ) 1"}


def _run(isolated, lang: str, body: str, *args: str) -> object:
    name = f"app/main.{EXT[lang]}"
    isolated.write(name, ATTEMPT[lang] + body)
    p = isolated.cli("run", name, "--json", *args)
    isolated.no_traceback(p.stdout, p.stderr)
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(p.stdout.rstrip("\n").rpartition("\n")[2])


def _attempts(lang: str, *paths: str) -> str:
    """The spell's result: attempt(path) of each path, in order."""
    calls = ", ".join(f'{AWAIT[lang]}attempt("{p}")' for p in paths)
    return f"{RETURN[lang]}{{{calls}}}\n" if lang == "lua" else f"{RETURN[lang]}[{calls}]\n"


@pytest.mark.parametrize("lang", LANGS)
def test_require_gives_the_modules_exports_and_nested_paths_start_from_the_module(isolated, lang):
    ext = EXT[lang]
    isolated.write(f"app/lib/sub/b.{ext}", EXPORT[lang].format(value='"b from lib/sub"'))
    isolated.write(f"app/sub/b.{ext}", EXPORT[lang].format(value='"b from app/sub (wrong folder)"'))
    isolated.write(f"app/lib/shared.{ext}", EXPORT[lang].format(value='"shared"'))
    isolated.write(f"app/lib/a.{ext}", {
        "lua": 'local b = spell.require("./sub/b.lua")\n'
               'return {b = b, up = spell.require("../top.lua"), twice = function(x) return x * 2 end}',
        "js": 'const b = await spell.require("./sub/b.js");\n'
              'return {b, up: await spell.require("../top.js"), twice: (x) => x * 2};',
        "tengo": 'b := spell.require("./sub/b.tengo")\n'
                 'export {b: b, up: spell.require("../top.tengo"), twice: func(x) { return x * 2 }}',
    }[lang])
    isolated.write(f"app/top.{ext}", EXPORT[lang].format(value='"top"'))
    body = {
        "lua": 'local a = spell.require("./lib/a.lua")\nreturn {a.b, a.up, a.twice(21)}\n',
        "js": 'const a = await spell.require("./lib/a.js");\nreturn [a.b, a.up, a.twice(21)];\n',
        "tengo": 'a := spell.require("./lib/a.tengo")\nexport [a.b, a.up, a.twice(21)]\n',
    }[lang]
    assert _run(isolated, lang, body) == ["b from lib/sub", "top", 42]


def test_tengo_import_inside_a_module_starts_from_the_modules_folder(isolated):
    isolated.write("app/lib/sub/b.tengo", 'export "b from lib/sub"')
    isolated.write("app/sub/b.tengo", 'export "b from app/sub (wrong folder)"')
    isolated.write("app/lib/a.tengo", 'b := import("./sub/b")\nc := import("sub/b")\nexport [b, c]')
    assert _run(isolated, "tengo", 'export import("./lib/a")\n') == ["b from lib/sub", "b from lib/sub"]


def test_tengo_import_and_require_name_the_module_the_same(isolated):
    """The same text names two files from two folders; each is its own module."""
    isolated.write("app/util.tengo", 'export "app util"')
    isolated.write("app/lib/util.tengo", 'export "lib util"')
    isolated.write("app/lib/a.tengo", 'export import("./util")')
    assert _run(isolated, "tengo", 'export [import("./util"), import("./lib/a")]\n') == ["app util", "lib util"]


@pytest.mark.parametrize("lang", LANGS)
def test_a_module_that_fails_gives_its_own_error_each_time(isolated, lang):
    ext = EXT[lang]
    isolated.write(f"app/lib/boom.{ext}", FAIL[lang])
    first, second = _run(isolated, lang, _attempts(lang, f"./lib/boom.{ext}", f"./lib/boom.{ext}"))
    assert first == second, (first, second)
    assert first.startswith("runtime_error: ")
    assert "cycle" not in first and "requires itself" not in first
    assert ("boom" if lang != "tengo" else "division by zero") in first
    if lang != "js":  # JavaScript's Error says where in its stack, not its message
        assert f"lib/boom.{ext}:2" in first


@pytest.mark.parametrize("lang", LANGS)
def test_a_syntax_error_is_the_modules_at_its_line(isolated, lang):
    ext = EXT[lang]
    isolated.write(f"app/lib/bad.{ext}", BAD[lang])
    (got,) = _run(isolated, lang, _attempts(lang, f"./lib/bad.{ext}"))
    assert got.startswith(f"syntax_error: lib/bad.{ext}:2"), got


@pytest.mark.parametrize("lang", ["lua", "js"])
def test_an_uncaught_syntax_error_in_a_module_is_reported_at_the_module(isolated, lang):
    ext = EXT[lang]
    isolated.write(f"app/lib/bad.{ext}", BAD[lang])
    isolated.write(f"app/main.{ext}", REQUIRE[lang].format(path=f"./lib/bad.{ext}"))
    p = isolated.cli("run", f"app/main.{ext}")
    isolated.no_traceback(p.stdout, p.stderr)
    assert p.returncode == 1
    assert p.stderr.startswith(f"lib/bad.{ext}:2"), p.stderr
    assert "syntax_error: " in p.stderr.splitlines()[0]


@pytest.mark.parametrize("lang", LANGS)
def test_a_cycle_is_said_to_be_one_naming_the_modules(isolated, lang):
    ext = EXT[lang]
    isolated.write(f"app/lib/c1.{ext}", REQUIRE[lang].format(path=f"./c2.{ext}"))
    isolated.write(f"app/lib/c2.{ext}", REQUIRE[lang].format(path=f"./c1.{ext}"))
    (got,) = _run(isolated, lang, _attempts(lang, f"./lib/c1.{ext}"))
    assert got.startswith("invalid_argument: "), got
    assert got.endswith(f"spell.require: lib/c1.{ext} requires itself "
                        f"(a cycle: lib/c1.{ext} -> lib/c2.{ext} -> lib/c1.{ext})"), got


@pytest.mark.parametrize("lang", ["lua", "js"])
def test_the_same_module_required_twice_at_once_is_no_cycle(isolated, lang):
    ext = EXT[lang]
    isolated.write(f"app/lib/m.{ext}", EXPORT[lang].format(value="7"))
    body = {"lua": 'return {spell.require("./lib/m.lua"), spell.require("./lib/m.lua")}\n',
            "js": 'return await Promise.all([spell.require("./lib/m.js"), spell.require("./lib/m.js")]);\n'}[lang]
    assert _run(isolated, lang, body) == [7, 7]
