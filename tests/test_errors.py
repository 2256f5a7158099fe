"""What a user sees when a spell fails: kind, message, file:line(:col), the
source line with a caret, the spell's own stack -- and never a Python traceback."""

from __future__ import annotations

import pytest

from llmspell import SpellError

SYNTAX = {
    "lua": ("local x = 1\nlocal y = = 2\n", 2, 11, "local y = = 2"),
    "js": ("const x = 1;\nconst y = = 2;\n", 2, 11, "const y = = 2;"),
}


@pytest.mark.parametrize("lang", ["lua", "js"])
def test_syntax_error_shows_file_line_col_the_line_and_a_caret(isolated, lang):
    src, line, col, text = SYNTAX[lang]
    isolated.write(f"bad.{lang}", src)
    p = isolated.cli("run", f"bad.{lang}")
    assert p.returncode == 1
    lines = p.stderr.splitlines()
    assert lines[0].startswith(f"bad.{lang}:{line}:")
    assert "syntax_error" in lines[0]
    assert lines[1] == "    " + text
    caret = lines[2].index("^") - 4 + 1
    assert text[caret - 1] == "="  # the caret is under the offending token
    isolated.no_traceback(p.stderr)


@pytest.mark.parametrize("lang", ["lua", "js"])
def test_syntax_error_through_runtime(isolated, lang):
    src, line, _, text = SYNTAX[lang]
    rt, _ = isolated.runtime()
    with pytest.raises(SpellError) as info:
        rt.run(source=src, language={"lua": "lua", "js": "javascript"}[lang], filename=f"s.{lang}")
    e = info.value
    assert (e.kind, e.file, e.line, e.source_line) == ("syntax_error", f"s.{lang}", line, text)
    assert e.column and text[e.column - 1] == "="


RUNTIME = {
    "lua": """local function inner(t)
  return t.x.y
end
local function outer()
  local v = inner({})
  return v
end
outer()
""",
    "js": """function inner(t) {
  return t.x.y;
}
function outer() {
  const v = inner({});
  return v;
}
outer();
""",
}


@pytest.mark.parametrize("lang", ["lua", "js"])
def test_runtime_error_has_message_and_the_spells_stack(isolated, lang):
    isolated.write(f"rt.{lang}", RUNTIME[lang])
    p = isolated.cli("run", f"rt.{lang}")
    assert p.returncode == 1
    lines = p.stderr.splitlines()
    assert lines[0].startswith(f"rt.{lang}:2: runtime_error: ")
    assert ("field 'x'" if lang == "lua" else "property 'y' of undefined") in lines[0]
    assert lines[1] == "spell stack:"
    frames = [line.strip() for line in lines[2:]]
    assert frames[0] == f"rt.{lang}:2 in inner"
    assert frames[1] == f"rt.{lang}:5 in outer"
    assert frames[2].startswith(f"rt.{lang}:8")
    assert all("(llmspell)" not in f and "100" not in f for f in frames)  # no prelude frames
    isolated.no_traceback(p.stderr)


@pytest.mark.parametrize("lang", ["lua", "js"])
def test_runtime_error_through_runtime_has_frames(isolated, lang):
    rt, _ = isolated.runtime()
    with pytest.raises(SpellError) as info:
        rt.run(source=RUNTIME[lang], language={"lua": "lua", "js": "javascript"}[lang], filename=f"r.{lang}")
    e = info.value
    assert (e.kind, e.file, e.line) == ("runtime_error", f"r.{lang}", 2)
    assert [(f.line, f.name) for f in e.stack[:2]] == [(2, "inner"), (5, "outer")]


@pytest.mark.parametrize("lang,src,message", [
    ("lua", "error('plain message')", "plain message"),
    ("lua", "error({kind = 'not_found', message = 'gone'})", "gone"),
    ("js", "throw new Error('plain message')", "plain message"),
    ("js", "throw new RangeError('out of range')", "RangeError: out of range"),
    ("js", "throw 'a string'", "uncaught a string"),
])
def test_thrown_values(isolated, lang, src, message):
    rt, _ = isolated.runtime()
    with pytest.raises(SpellError) as info:
        rt.run(source=src, language={"lua": "lua", "js": "javascript"}[lang], filename=f"t.{lang}")
    assert message in info.value.message


@pytest.mark.parametrize("lang,src", [
    ("lua", "local x = 1\nllm.complete({model = 'test', prompt = 'x', temperature = 9})"),
    ("js", "const x = 1;\nawait llm.complete({model: 'test', prompt: 'x', temperature: 9});"),
])
def test_uncaught_bridge_error_names_method_argument_and_file(isolated, lang, src):
    isolated.write(f"b.{lang}", src)
    p = isolated.cli("run", f"b.{lang}")
    assert p.returncode == 1
    head = p.stderr.splitlines()[0]
    assert head.startswith(f"b.{lang}")
    assert "invalid_argument: llm.complete: temperature" in head
    isolated.no_traceback(p.stderr)


def test_lua_bridge_error_points_at_the_calling_line(isolated):
    isolated.write("b.lua", "local x = 1\n\nllm.complete({model = 'test'})\n")
    p = isolated.cli("run", "b.lua")
    assert p.stderr.startswith("b.lua:3: invalid_argument: llm.complete: give prompt")


@pytest.mark.parametrize("lang,src", [
    ("lua", "local t = setmetatable({}, {__index = function() error('meta boom') end})\nreturn t.x"),
    ("lua", "return string.rep('x', -1) .. nil"),
    ("lua", "coroutine.yield(1)"),
    ("js", "await new Promise(() => {});"),
    ("js", "return Symbol('s')"),
    ("js", "null.x"),
])
def test_odd_failures_are_spell_errors_without_traceback(isolated, lang, src):
    isolated.write(f"o.{lang}", src)
    p = isolated.cli("run", f"o.{lang}", "--timeout", "10")
    assert p.returncode == 1
    assert p.stderr.startswith(f"o.{lang}")
    isolated.no_traceback(p.stdout, p.stderr)


def test_error_value_tostring_in_lua(isolated):
    rt, _ = isolated.runtime()
    src = "local ok, e = pcall(json.decode, '[')\nreturn {tostring(e), e.kind, type(e.message), e.where}"
    r = rt.run(source=src, language="lua", filename="e.lua")
    assert r[0] == f"{r[1]}: " + r[0].split(": ", 1)[1]
    assert r[1] == "invalid_argument" and r[2] == "string"
    assert r[3] == "e.lua:1"
