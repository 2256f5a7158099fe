"""Tengo spells through the public surface: the ``llmspell`` CLI and ``llmspell.Runtime``.

The spell API is the same as in Lua and JavaScript (API.md): the bridge globals,
``params``, ``fmt`` without an import, bridge errors as ``error`` values, the
result from ``export`` or else a global ``result``, printed by ``--json`` with
the encodings issue 4 lists.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import pytest

from llmspell import SpellError
from llmspell.bridges.base import Bridge, method

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def run(isolated, src, params=None, **kwargs):
    """Run Tengo source through a Runtime (model ``test``); returns (result, printed text)."""
    kwargs.setdefault("model", "test")
    rt, out = isolated.runtime(**kwargs)
    return rt.run(source=src, language="tengo", params=params, filename="spell.tengo"), "".join(out)


def fails(isolated, src, **kwargs) -> SpellError:
    with pytest.raises(SpellError) as info:
        run(isolated, src, **kwargs)
    return info.value


def cli(isolated, name, src, *args, timeout=60):
    """Write ``name`` and run ``llmspell run name --json --model test ARGS``."""
    isolated.write(name, src)
    p = isolated.cli("run", name, "--json", "--model", "test", *args, timeout=timeout)
    isolated.no_traceback(p.stdout, p.stderr)
    return p


def last_json(p):
    return json.loads(p.stdout.rstrip("\n").rpartition("\n")[2])


# -- llm ---------------------------------------------------------------------------------------------

def test_complete_returns_the_documented_response(isolated):
    r, _ = run(isolated, 'export llm.complete({prompt: "hi", system: "be brief", max_tokens: 20})')
    assert set(r) == {"content", "model", "finish_reason", "usage"}
    assert r["model"] == "test" and r["content"] == "success (no tool calls)" and r["finish_reason"] == "stop"
    u = r["usage"]
    assert u["total_tokens"] == u["input_tokens"] + u["output_tokens"]


def test_complete_fields_read_as_a_map(isolated):
    src = """
r := llm.complete({messages: [{role: "user", content: "one"}, {role: "assistant", content: "two"},
                              {role: "user", content: "three"}]})
fmt.println(r.model, r.content, type_name(r.usage.total_tokens))
"""
    _, out = run(isolated, src)
    assert out == "test success (no tool calls) int\n"


def test_stream_calls_a_tengo_function_for_each_piece(isolated):
    src = """
pieces := []
r := llm.stream({prompt: "x"}, func(p) {
  pieces = append(pieces, p)
  fmt.println("<" + p + ">")
})
joined := ""
for p in pieces { joined += p }
export {n: len(pieces), same: joined == r.content, finish: r.finish_reason}
"""
    r, out = run(isolated, src)
    assert r == {"n": 4, "same": True, "finish": "stop"}
    assert out == "<success >\n<(no >\n<tool >\n<calls)>\n"


def test_stream_callback_closures_see_and_change_the_spells_variables(isolated):
    src = """
count := 0
total := 0
add := func(p) { count++; total += len(p) }
r := llm.stream({prompt: "x"}, add)
export [count, total == len(r.content)]
"""
    assert run(isolated, src)[0] == [4, True]


def test_models_and_providers(isolated):
    src = """
all := llm.models()
tests := llm.models("test")
provs := llm.providers()
names := []
for p in provs { names = append(names, p.name) }
export {n: len(all), first: all[0], test_ids: len(tests), kinds: [type_name(all), type_name(provs)], names: names}
"""
    r, _ = run(isolated, src)
    assert r["n"] > 1
    assert {"id", "provider"} <= set(r["first"])
    assert r["kinds"] == ["immutable-array", "immutable-array"]
    assert "local" in r["names"] and "test" in r["names"]
    assert "openai" not in r["names"]  # no key, no config: not enabled, so not shown to a spell


def test_unknown_model_is_an_error_value(isolated):
    r, out = run(isolated, """
r := llm.complete({model: "no-such-model-here", prompt: "x"})
fmt.println(is_error(r), r.value.kind)
export "went on"
""")
    assert out == "true not_found\n" and r == "went on"


# -- bridge errors as error values ---------------------------------------------------------------------

@pytest.mark.parametrize("call,message", [
    ('llm.complete({model: "test"})', "llm.complete: give prompt (a string) or messages (a list)"),
    ('llm.complete("just a string")', "llm.complete: opts must be a map, not a string"),
    ('llm.stream({prompt: "x"}, "not a function")', "llm.stream: on_chunk must be a function, not a string"),
    ("llm.models(42)", "llm.models: provider must be a string, not an integer"),
    ("json.encode(0.0 / 0.0)", "json.encode: NaN and infinity have no JSON form"),
    ('tools.calculator("2 +")', None),
])
def test_bridge_misuse_is_an_invalid_argument_error_value(isolated, call, message):
    r, _ = run(isolated, f"""
e := {call}
export {{is_error: is_error(e), kind: e.value.kind, message: e.value.message, type: type_name(e)}}
""")
    assert r["is_error"] is True and r["type"] == "error"
    assert r["kind"] == "invalid_argument"
    if message:
        assert r["message"] == message


def test_an_error_value_is_falsy_and_the_spell_goes_on(isolated):
    r, out = run(isolated, """
v := json.decode("{not json") || "fallback"
fmt.println(v)
export "after"
""")
    assert (r, out) == ("after", "fallback\n")


def test_env_get_is_denied_without_permission(isolated):
    p = cli(isolated, "env.tengo", """
e := env.get("HOME")
export {err: is_error(e), kind: e.value.kind, message: e.value.message}
""")
    assert p.returncode == 0, p.stderr
    r = last_json(p)
    assert r["err"] is True and r["kind"] == "permission_denied" and "--allow-env=HOME" in r["message"]


def test_env_get_with_permission(isolated):
    isolated.write("env.tengo", 'export [env.get("LLMSPELL_T"), env.get("LLMSPELL_MISSING")]')
    p = isolated.cli("run", "env.tengo", "--json", "--allow-env=LLMSPELL_T,LLMSPELL_MISSING",
                     env={"LLMSPELL_T": "yes"})
    assert p.returncode == 0, p.stderr
    assert last_json(p) == ["yes", None]


# -- json, log, params, fmt ------------------------------------------------------------------------------

def test_json_bridge_round_trip(isolated):
    r, out = run(isolated, """
text := json.encode({b: [1, 2.5, "x"], a: {n: undefined, t: true}})
fmt.println(text)
fmt.println(json.encode({k: "v"}, {indent: 2}))
back := json.decode(text)
export {back: back, type: type_name(text), same: json.encode(back) == text}
""")
    assert out == '{"a":{"n":null,"t":true},"b":[1,2.5,"x"]}\n{\n  "k": "v"\n}\n'
    assert r == {"back": {"a": {"n": None, "t": True}, "b": [1, 2.5, "x"]}, "type": "string", "same": True}


def test_import_json_shadows_the_bridge_global(isolated):
    r, _ = run(isolated, """
json := import("json")
b := json.encode({a: 1})
export {type: type_name(b), text: string(b), back: json.decode(b)}
""")
    assert r == {"type": "bytes", "text": '{"a":1}', "back": {"a": 1}}


def test_log_goes_to_stderr_not_stdout(isolated):
    p = cli(isolated, "log.tengo", """
log.info("to the log", {step: 1})
logger.warn("logger too")
log.error("an error line")  // a keyword may follow "." (an llmspell extension of Tengo)
fmt.println("printed")
""")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "printed\nnull\n"
    assert "logger too" in p.stderr and "an error line" in p.stderr


def test_params_is_a_mutable_map(isolated):
    r, out = run(isolated, """
fmt.println(type_name(params), params.name, params.count + 1, params.tags[0], params.missing == undefined)
params.extra = "added"
params.tags = append(params.tags, "z")
export params
""", params={"name": "Ada", "count": 41, "tags": ["x", "y"], "opts": {"mode": "fast"}})
    assert out == "map Ada 42 x true\n"
    assert r == {"name": "Ada", "count": 41, "tags": ["x", "y", "z"], "opts": {"mode": "fast"}, "extra": "added"}


def test_params_from_the_cli(isolated):
    p = cli(isolated, "p.tengo", "export [params.n * 2, params.s, params.list[1]]",
            "--param", "n=21", "--param", "s=text", "--param", "list=[1, 2]")
    assert p.returncode == 0, p.stderr
    assert last_json(p) == [42, "text", 2]


def test_fmt_is_there_without_an_import(isolated):
    _, out = run(isolated, """
fmt.println("a", 1, true, 2.5, [1, "x"], {k: "v"})
fmt.printf("%d-%s|%.2f\\n", 3, "x", 1.0 / 3)
fmt.print("no newline", 7)
fmt.println(fmt.sprintf("[%5s]", "ab"))
""")
    assert out == 'a 1 true 2.5 [1, "x"] {k: "v"}\n3-x|0.33\nno newline7[   ab]\n'


def test_fmt_can_also_be_imported(isolated):
    src = 'fmt := import("fmt")\nfmt.println("imported", 1)\nf := import("fmt")\nf.printf("%v\\n", [1])'
    _, out = run(isolated, src)
    assert out == "imported 1\n[1]\n"


def test_stdlib_modules_import(isolated):
    r, _ = run(isolated, """
text := import("text")
math := import("math")
export [text.to_upper("ab"), text.join(["a", "b"], "-"), math.abs(-2), math.pow(2, 10)]
""")
    assert r == ["AB", "a-b", 2, 1024]


# -- tools -------------------------------------------------------------------------------------------------

def test_builtin_calculator(isolated):
    r, _ = run(isolated, 'export [tools.calculator("2 + 3 * 4"), tools.call("calculator", {expression: "7 * 6"})]')
    assert r == [14, 42]


def test_register_a_tool_with_a_tengo_handler(isolated):
    r, out = run(isolated, """
t := tools.register({
  name: "shout", description: "upper-case a text",
  parameters: {text: {type: "string", required: true, description: "the text"}},
  handler: func(args) { fmt.println("handler got", args.text); return args.text + "!" }
})
names := []
for x in tools.list() { names = append(names, x.name) }
export {
  by_name: tools.call("shout", {text: "hey"}),
  direct: tools.shout({text: "direct"}),
  positional: tools.shout("pos"),
  tool_name: t.name,
  listed: names
}
""")
    assert out == "handler got hey\nhandler got direct\nhandler got pos\n"
    assert r["by_name"] == "hey!" and r["direct"] == "direct!" and r["positional"] == "pos!"
    assert r["tool_name"] == "shout" and "shout" in r["listed"] and "calculator" in r["listed"]


def test_tool_arguments_are_validated_and_handler_errors_are_tool_errors(isolated):
    r, _ = run(isolated, """
tools.register({name: "inc", description: "n + 1", parameters: {n: {type: "integer", required: true}},
                handler: func(a) { return a.n + 1 }})
tools.register({name: "fails", description: "x", parameters: {},
                handler: func(a) { return error("it broke") }})
tools.register({name: "crashes", description: "x", parameters: {},
                handler: func(a) { return 1 / 0 }})
bad := tools.inc({n: "x"})
f := tools.call("fails", {})
c := tools.call("crashes", {})
missing := tools.call("nope", {})
export {ok: tools.inc(4), bad: bad.value.kind, f: [f.value.kind, f.value.message],
        c: [c.value.kind, c.value.message], missing: missing.value.kind}
""")
    assert r["ok"] == 5 and r["bad"] == "invalid_argument" and r["missing"] == "not_found"
    assert r["f"] == ["tool_error", "fails: it broke"]
    assert r["c"][0] == "tool_error" and "division by zero" in r["c"][1] and "spell.tengo:7:" in r["c"][1]


# -- the result ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("src,expected", [
    ("export 1\nresult := 2", 1),
    ("result := {a: [1]}", {"a": [1]}),
    ('fmt.println("x")', None),
    ("f := func() { return 3 }\nexport f()\nfmt.println(\"not reached\")", 3),
])
def test_result_is_export_or_else_the_global_result(isolated, src, expected):
    assert run(isolated, src)[0] == expected


def test_json_encoding_of_every_tengo_type(isolated):
    p = cli(isolated, "types.tengo", """
times := import("times")
export {
  int: 7, float: 2.5, str: "s", bool: false, undef: undefined, char: 'é', bytes: bytes("hi\\x00"),
  array: [1, "a", [true]], iarr: immutable([1, [2]]), imap: immutable({k: {n: 1}}), map: {m: {}},
  err: error("boom"), err_map: error({x: 1}),
  time: times.date(2024, 1, 2, 3, 4, 5, 0, "UTC"),
  tz: times.date(2024, 1, 2, 3, 4, 5, 500000000, "Asia/Tokyo"),
  nested: [{e: error(1)}]
}
""")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == {
        "int": 7, "float": 2.5, "str": "s", "bool": False, "undef": None, "char": "é", "bytes": "aGkA",
        "array": [1, "a", [True]], "iarr": [1, [2]], "imap": {"k": {"n": 1}}, "map": {"m": {}},
        "err": {"error": "boom"}, "err_map": {"error": {"x": 1}},
        "time": "2024-01-02T03:04:05Z", "tz": "2024-01-02T03:04:05.5+09:00",
        "nested": [{"e": {"error": 1}}],
    }
    assert '"int": 7,' in p.stdout and '"float": 2.5' in p.stdout  # int stays an int


@pytest.mark.parametrize("value,expected", [
    ("'x'", "x"), ('bytes("abc")', "YWJj"), ("undefined", None), ("immutable([1, 2])", [1, 2]),
    ('error("plain")', {"error": "plain"}), ("3.0", 3.0), ('"text"', "text"),
])
def test_json_encoding_of_a_top_level_value(isolated, value, expected):
    p = cli(isolated, "v.tengo", f"export {value}")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == expected


def test_exporting_a_kind_error_fails_the_run(isolated):
    p = cli(isolated, "fail.tengo", """
r := llm.complete({model: "test"})
if is_error(r) { export r }
export "not reached"
""")
    assert p.returncode == 1
    assert json.loads(p.stdout) == {"error": {"kind": "invalid_argument", "message":
                                              "llm.complete: give prompt (a string) or messages (a list)"}}
    assert "invalid_argument: llm.complete: give prompt" in p.stderr
    err = fails(isolated, 'export error({kind: "validation_error", message: "final failure"})')
    assert (err.kind, err.message) == ("validation_error", "final failure")


# -- modules -----------------------------------------------------------------------------------------------

def test_source_module_from_the_spells_folder(isolated):
    isolated.write("app/helper.tengo", 'export {double: func(x) { return x * 2 }, name: "helper"}')
    isolated.write("app/lib/deep.tengo", "export 5")
    p = cli(isolated, "app/main.tengo", """
h := import("helper")
d := import("./lib/deep")
again := import("helper.tengo")
export [h.name, h.double(21), d, again.name]
""")
    assert p.returncode == 0, p.stderr
    assert last_json(p) == ["helper", 42, 5, "helper"]


@pytest.mark.parametrize("target", ["../secret", "/ABS/secret"])
def test_source_module_outside_the_spells_folder_is_denied(isolated, target):
    # A value no temporary folder name can contain: the error names the path.
    isolated.write("secret.tengo", 'export "secret-module-body-q7z"')
    target = target.replace("/ABS", str(isolated.cwd))
    p = cli(isolated, "app/main.tengo", f'export import("{target}")')
    assert p.returncode == 1
    assert json.loads(p.stdout)["error"]["kind"] == "permission_denied"
    assert "secret-module-body-q7z" not in p.stdout + p.stderr


def test_missing_module_is_a_compile_error(isolated):
    p = cli(isolated, "m.tengo", 'x := import("no_such_module")')
    assert p.returncode == 1
    assert "m.tengo:1:6: syntax_error: module 'no_such_module' not found" in p.stderr


# -- errors as the user sees them --------------------------------------------------------------------------

def test_syntax_error_shows_file_line_column_source_and_caret(isolated):
    p = cli(isolated, "bad.tengo", 'x := 1\ny := x + * 2\nfmt.println("never")\n')
    assert p.returncode == 1
    assert json.loads(p.stdout)["error"]["kind"] == "syntax_error"
    lines = p.stderr.splitlines()
    assert lines[0] == "bad.tengo:2:10: syntax_error: expected operand, found '*'", p.stderr
    assert lines[1] == "    y := x + * 2"
    assert lines[2] == "    " + " " * 9 + "^"


def test_syntax_error_caret_points_at_the_column(isolated):
    p = isolated.cli("run", isolated.write("col.tengo", "a := 1\nb := a $ 2\n").name)
    assert p.returncode == 1
    first, src, caret = p.stderr.splitlines()[:3]
    assert first.startswith("col.tengo:2:8: syntax_error:")
    assert src == "    b := a $ 2"
    assert caret == "    " + " " * 7 + "^"


def test_runtime_error_has_a_frame_per_call(isolated):
    p = cli(isolated, "rt.tengo", """f := func(a) {
  return a.b.c
}
g := func() { return f(1) }
g()
""")
    assert p.returncode == 1
    assert json.loads(p.stdout)["error"]["kind"] == "runtime_error"
    lines = p.stderr.splitlines()
    assert lines[0] == "rt.tengo:2:10: runtime_error: not indexable: int"
    assert lines[1] == "      return a.b.c"
    assert lines[2] == "    " + " " * 9 + "^"
    assert lines[3:] == ["spell stack:", "    rt.tengo:2", "    rt.tengo:4", "    rt.tengo:5"]


def test_runtime_error_through_the_runtime_api(isolated):
    err = fails(isolated, "x := [1]\ny := x + {}")
    assert err.kind == "runtime_error" and err.file == "spell.tengo" and err.line == 2
    assert "invalid operation" in err.message


def test_division_by_zero(isolated):
    p = cli(isolated, "div.tengo", "x := 0\nexport 10 / x\n")
    assert p.returncode == 1
    assert json.loads(p.stdout) == {"error": {"kind": "runtime_error", "message": "division by zero",
                                              "where": "div.tengo:2:8"}}
    assert p.stderr.startswith("div.tengo:2:8: runtime_error: division by zero")


def test_deep_recursion_is_a_clean_stack_overflow(isolated):
    p = cli(isolated, "deep.tengo", "f := func(n) { return n == 0 ? 0 : 1 + f(n - 1) }\nexport f(1000000)\n")
    assert p.returncode == 1
    err = json.loads(p.stdout)["error"]
    assert err["kind"] == "runtime_error" and err["message"] == "stack overflow"
    assert p.stderr.startswith("deep.tengo:1:")
    assert len(p.stderr.splitlines()) < 60  # the stack is cut short, not a million frames


def test_deep_recursion_then_the_runtime_still_works(isolated):
    rt, _ = isolated.runtime(model="test", isolation="inline")
    with pytest.raises(SpellError) as info:
        rt.run(source="f := func(n) { return 1 + f(n + 1) }\nf(0)", language="tengo")
    assert info.value.message == "stack overflow"
    assert rt.run(source="export 1 + 1", language="tengo") == 2


def test_timeout_stops_an_endless_loop(isolated):
    p = cli(isolated, "loop.tengo", "for {}\n", "--timeout", "1")
    assert p.returncode == 1
    assert json.loads(p.stdout)["error"]["kind"] == "timeout"
    assert "timeout" in p.stderr


def test_timeout_inside_a_callback(isolated):
    err = fails(isolated, 'llm.stream({prompt: "x"}, func(p) { for {} })', timeout=1)
    assert err.kind == "timeout"


# -- check -----------------------------------------------------------------------------------------------

def test_check_accepts_a_valid_spell_without_running_it(isolated):
    isolated.write("ok.tengo", 'json := import("json")\nfmt := import("fmt")\nh := import("helper")\n'
                               'fmt.println(llm.complete({prompt: "x"}))\n')
    p = isolated.cli("check", "ok.tengo")
    assert (p.returncode, p.stdout) == (0, "ok.tengo: ok\n"), p.stderr


def test_check_reports_a_syntax_error(isolated):
    isolated.write("bad.tengo", "x := {\n")
    p = isolated.cli("check", "bad.tengo")
    assert p.returncode == 1
    assert p.stderr.startswith("bad.tengo:2:1: syntax_error:")
    isolated.no_traceback(p.stderr)


def test_check_reports_an_undefined_name(isolated):
    isolated.write("undef.tengo", "fmt.println(nope)\n")
    p = isolated.cli("check", "undef.tengo")
    assert p.returncode == 1
    assert "undef.tengo:1:13: syntax_error: unresolved reference 'nope'" in p.stderr



class _Foo(Bridge):
    name = "foo"

    @method
    def twice(self, n: Annotated[int, "a number"]) -> int:
        """Return 2n."""
        return 2 * n


def test_check_sees_the_globals_a_run_gives(isolated):
    # An embedder's bridge (Runtime.add_bridge) is a global to check as to run; an unknown name is still refused.
    isolated.write("foo.tengo", "export foo.twice(21)\n")
    isolated.write("bar.tengo", "export bar.twice(21)\n")
    rt, _ = isolated.runtime()
    with pytest.raises(SpellError) as before:  # not yet added: unknown to check as to run
        rt.check("foo.tengo")
    assert "unresolved reference 'foo'" in before.value.message
    rt.add_bridge("foo", _Foo)
    assert rt.run("foo.tengo") == 42
    rt.check("foo.tengo")
    with pytest.raises(SpellError) as unknown:
        rt.check("bar.tengo")
    assert unknown.value.kind == "syntax_error" and "unresolved reference 'bar'" in unknown.value.message
    with pytest.raises(SpellError) as ran:
        rt.run("bar.tengo")
    assert "unresolved reference 'bar'" in ran.value.message


# -- examples ------------------------------------------------------------------------------------------------

#: Examples whose run and output a test of their own checks (some need flags or a server).
CHECKED_ELSEWHERE = {
    "agent_tools": "tests/agents/test_agent_examples.py", "sub_agent": "tests/agents/test_agent_examples.py",
    "structured_output": "tests/agents/test_agent_examples.py", "tools_builtin": "tests/test_tools_surface.py",
    "hooks": "tests/test_observe_examples.py", "events": "tests/test_observe_examples.py",
    "guardrails": "tests/test_observe_examples.py", "mcp_tools": "tests/test_mcp_tools.py",
    "state_management": "tests/state/test_state_examples.py",
    "workflow_orchestration": "tests/workflows/test_workflow_examples.py",
}
ALL_EXAMPLES = sorted(str(p.relative_to(EXAMPLES)) for p in EXAMPLES.glob("*/*")
                      if p.suffix in (".lua", ".js", ".tengo"))


@pytest.mark.parametrize("example", [e for e in ALL_EXAMPLES if Path(e).stem not in CHECKED_ELSEWHERE])
def test_every_example_runs(isolated, example):
    p = subprocess.run([sys.executable, "-m", "llmspell", "run", str(EXAMPLES / example), "--model", "test"],
                       cwd=isolated.cwd, env=isolated.env, capture_output=True, text=True, timeout=120)
    isolated.no_traceback(p.stdout, p.stderr)
    assert p.returncode == 0, p.stderr
    assert "success (no tool calls)" in p.stdout or "reversed" in p.stdout


def test_every_example_checked_elsewhere_is_run_there():
    root = EXAMPLES.parent
    for stem, test_file in CHECKED_ELSEWHERE.items():
        assert stem in (root / test_file).read_text(encoding="utf-8"), (stem, test_file)
        assert any(Path(e).stem == stem for e in ALL_EXAMPLES), stem


def test_examples_mean_the_same_in_every_language(isolated):
    for name in ("tools", "stream"):
        outs = set()
        for lang, ext in (("lua", ".lua"), ("js", ".js"), ("tengo", ".tengo")):
            p = subprocess.run([sys.executable, "-m", "llmspell", "run", str(EXAMPLES / lang / (name + ext)),
                                "--model", "test", "--json"], cwd=isolated.cwd, env=isolated.env,
                               capture_output=True, text=True, timeout=120)
            assert p.returncode == 0, p.stderr
            printed, _, last = p.stdout.rstrip("\n").rpartition("\n")
            outs.add((printed, json.dumps(json.loads(last), sort_keys=True)))
        assert len(outs) == 1, outs
