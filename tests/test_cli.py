"""The ``llmspell`` command, run as a subprocess: exit codes, options, output."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from llmspell import __version__

REPO = Path(__file__).resolve().parent.parent

SPELLS = {
    "lua": """
print("hello from " .. params.who)
local r = llm.complete({prompt = "hi"})
return {model = r.model, n = params.n, kind = math.type(params.n), list = params.list}
""",
    "js": """
console.log("hello from " + params.who);
const r = await llm.complete({prompt: "hi"});
const kind = Number.isInteger(params.n) ? "integer" : "float";
return {model: r.model, n: params.n, kind: kind, list: params.list};
""",
    "tengo": """
fmt.println("hello from " + params.who)
r := llm.complete({prompt: "hi"})
export {model: r.model, n: params.n, kind: is_int(params.n) ? "integer" : "float", list: params.list}
""",
}


# -- the command itself ------------------------------------------------------------------------------

def test_help_lists_commands(isolated):
    p = isolated.cli("--help")
    assert p.returncode == 0
    for command in ("run", "check", "models", "providers"):
        assert command in p.stdout


def test_run_help_lists_options(isolated):
    p = isolated.cli("run", "--help")
    assert p.returncode == 0
    for option in ("--param", "--model", "--json", "--timeout", "--max-memory"):
        assert option in p.stdout


def test_version(isolated):
    p = isolated.cli("--version")
    assert p.returncode == 0
    assert p.stdout.strip() == f"llmspell {__version__}"


@pytest.mark.parametrize("args", [(), ("run",), ("run", "missing.lua"), ("frobnicate",),
                                  ("run", "x.lua", "--param", "novalue"), ("run", "x.lua", "--bogus")])
def test_usage_errors_exit_2(isolated, args):
    isolated.write("x.lua", "return 1")
    p = isolated.cli(*args)
    assert p.returncode == 2, p
    isolated.no_traceback(p.stdout, p.stderr)


def test_missing_spell_file_names_it(isolated):
    p = isolated.cli("run", "missing.lua")
    assert p.returncode == 2
    assert "missing.lua: no such spell file" in p.stderr


# -- running spells ------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
def test_run_prints_output_then_result(isolated, lang):
    isolated.write(f"s.{lang}", SPELLS[lang])
    p = isolated.cli("run", f"s.{lang}", "--model", "test", "--param", "who=cli", "--param", "n=3",
                     "-p", "list=[1,2]")
    assert p.returncode == 0, p.stderr
    first, rest = p.stdout.split("\n", 1)
    assert first == "hello from cli"
    assert json.loads(rest) == {"model": "test", "n": 3, "kind": "integer", "list": [1, 2]}
    assert p.stderr == ""


@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
def test_json_flag_prints_result_as_one_json_line(isolated, lang):
    isolated.write(f"s.{lang}", SPELLS[lang])
    p = isolated.cli("run", f"s.{lang}", "--json", "--model", "test", "-p", "who=x", "-p", "n=2.5",
                     "-p", 'list=["a"]')
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "hello from x"
    assert json.loads(lines[1]) == {"model": "test", "n": 2.5, "kind": "float", "list": ["a"]}
    assert len(lines) == 2


@pytest.mark.parametrize("lang,src", [("lua", "return 'plain text'"), ("js", "return 'plain text'"),
                                     ("tengo", 'export "plain text"')])
def test_string_result_printed_as_is(isolated, lang, src):
    isolated.write(f"s.{lang}", src)
    p = isolated.cli("run", f"s.{lang}")
    assert (p.returncode, p.stdout) == (0, "plain text\n")


@pytest.mark.parametrize("lang,src", [("lua", "print('only output')"), ("js", "console.log('only output')"),
                                     ("tengo", 'fmt.println("only output")')])
def test_no_result_prints_nothing_more(isolated, lang, src):
    isolated.write(f"s.{lang}", src)
    p = isolated.cli("run", f"s.{lang}")
    assert (p.returncode, p.stdout) == (0, "only output\n")


def test_param_values_that_are_not_json_stay_strings(isolated):
    isolated.write("s.lua", "return {a = params.a, b = params.b, c = type(params.c)}")
    p = isolated.cli("run", "s.lua", "--json", "-p", "a=hello world", "-p", "b=007x", "-p", "c=true")
    assert json.loads(p.stdout) == {"a": "hello world", "b": "007x", "c": "boolean"}


@pytest.mark.parametrize("lang,src,where,message", [
    ("lua", "error('boom')", "2", "boom"),
    ("js", "throw new Error('boom')", "2", "boom"),
    ("tengo", "x := 1 / 0", "2:6", "division by zero"),  # Tengo says the column too
])
def test_failed_spell_exits_1_with_location(isolated, lang, src, where, message):
    isolated.write(f"bad.{lang}", "\n" + src + "\n")
    p = isolated.cli("run", f"bad.{lang}")
    assert p.returncode == 1
    assert p.stdout == ""
    head = p.stderr.splitlines()[0]
    assert head.startswith(f"bad.{lang}:{where}: runtime_error: ")
    assert message in head
    isolated.no_traceback(p.stderr)


@pytest.mark.parametrize("lang,src", [
    ("lua", "error({kind='not_found', message='no such thing'})"),
    ("js", "const e = new Error('no such thing'); e.kind = 'not_found'; throw e;"),
    ("tengo", 'export error({kind: "not_found", message: "no such thing"})'),
])
def test_json_flag_reports_the_error_as_json(isolated, lang, src):
    isolated.write(f"bad.{lang}", src)
    p = isolated.cli("run", f"bad.{lang}", "--json")
    assert p.returncode == 1
    err = json.loads(p.stdout)["error"]
    assert err["kind"] == "not_found"
    assert err["message"] == "no such thing"
    assert "not_found: no such thing" in p.stderr


def test_check_command(isolated):
    isolated.write("ok.lua", "return 1")
    isolated.write("bad.js", "let x = ;")
    ok = isolated.cli("check", "ok.lua")
    assert (ok.returncode, ok.stdout) == (0, "ok.lua: ok\n")
    bad = isolated.cli("check", "bad.js")
    assert bad.returncode == 1
    assert bad.stderr.startswith("bad.js:1:9: syntax_error: ")
    isolated.no_traceback(bad.stderr)


def test_models_and_providers_commands(isolated):
    p = isolated.cli("models", "test", "--json")
    assert p.returncode == 0
    rows = json.loads(p.stdout)
    assert [r["id"] for r in rows] == ["test"]
    p = isolated.cli("providers", "--json")
    assert p.returncode == 0
    by_name = {r["name"]: r for r in json.loads(p.stdout)}
    assert by_name["test"]["configured"] is True
    assert by_name["openai"]["configured"] is False
    assert "OPENAI_API_KEY" in by_name["openai"]["reason"]
    text = isolated.cli("providers")
    assert "openai: not configured (set OPENAI_API_KEY)" in text.stdout


def _doubled(name: str) -> bool:
    head, _, rest = name.partition(":")
    return rest.startswith(head + ":")


def test_models_lists_each_name_as_model_takes_it(isolated):
    # A listed name is the name --model takes: "local:smollm2", never "local:local:smollm2".
    isolated.config('[llm.aliases]\nfast = "test"\nsafe = ["openai:gpt-4o", "test"]\n')
    p = isolated.cli("models", "local")
    assert (p.returncode, p.stdout.split()[0]) == (0, "local:smollm2"), p
    everything = json.loads(isolated.cli("models", "--json").stdout)
    text = isolated.cli("models").stdout.splitlines()
    assert len(text) == len(everything) and {r["provider"] for r in everything} >= {"local", "test", "openai", "alias"}
    for row, line in zip(everything, text, strict=True):
        assert line.split()[0] == row["id"] and not _doubled(row["id"]), (row, line)
        if row["provider"] not in ("test", "alias"):
            assert row["id"].startswith(row["provider"] + ":"), row
    assert "fast -> test" in text and "safe -> openai:gpt-4o, test" in text
    for provider in sorted({r["provider"] for r in everything}):
        lines = isolated.cli("models", provider).stdout.splitlines()
        assert lines and all(not _doubled(line.split()[0]) for line in lines), (provider, lines[:3])


@pytest.mark.parametrize("lang,src", [
    ("lua", "local out = {}\nfor i, m in ipairs(llm.models()) do out[i] = m.id end\nreturn out"),
    ("js", "return (await llm.models()).map(m => m.id);"),
    ("tengo", "out := []\nfor m in llm.models() { out = append(out, m.id) }\nexport out"),
])
def test_spell_sees_model_ids_once_prefixed(isolated, lang, src):
    isolated.write(f"s.{lang}", src)
    p = isolated.cli("run", f"s.{lang}", "--json")
    assert p.returncode == 0, p.stderr
    ids = json.loads(p.stdout)
    assert "local:smollm2" in ids and not any(_doubled(i) for i in ids), ids


# -- limits ---------------------------------------------------------------------------------------------

RUNAWAY = {"lua": "local i = 0\nwhile true do i = i + 1 end", "js": "let i = 0;\nwhile (true) { i++; }",
           "tengo": "i := 0\nfor { i++ }"}
ALLOCATE = {
    "lua": "local t = {}\nfor i = 1, 1e9 do t[i] = string.rep('x', 100) .. i end",
    "js": "const a = [];\nfor (let i = 0; ; i++) a.push('x'.repeat(100) + i);",
    "tengo": 'text := import("text")\na := []\nfor i := 0; ; i++ { a = append(a, text.repeat("x", 100) + i) }',
}


@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
def test_timeout_stops_a_runaway_spell(isolated, lang):
    isolated.write(f"loop.{lang}", RUNAWAY[lang])
    start = time.monotonic()
    p = isolated.cli("run", f"loop.{lang}", "--timeout", "0.5")
    assert time.monotonic() - start < 10
    assert p.returncode == 1
    assert "timeout: the spell ran longer than its time limit of 0.5s" in p.stderr
    assert "--timeout" in p.stderr  # the hint says what to raise
    isolated.no_traceback(p.stderr)


@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
def test_max_memory_stops_an_allocating_spell(isolated, lang):
    isolated.write(f"mem.{lang}", ALLOCATE[lang])
    p = isolated.cli("run", f"mem.{lang}", "--max-memory", "64MB", "--timeout", "30")
    assert p.returncode == 1
    where = {"lua": "", "js": "", "tengo": ":3:15"}[lang]  # Tengo knows the line and column
    assert f"mem.{lang}{where}: memory_limit: the spell used more than its memory limit" in p.stderr
    assert "--max-memory" in p.stderr
    isolated.no_traceback(p.stderr)


def test_bad_limit_value_is_a_usage_error(isolated):
    isolated.write("s.lua", "return 1")
    p = isolated.cli("run", "s.lua", "--max-memory", "lots")
    assert p.returncode == 2
    isolated.no_traceback(p.stderr)


# -- models from the command line and the config file ---------------------------------------------------

def test_model_flag_reaches_the_scripted_server(isolated, openai_server):
    openai_server.reply("served by the scripted server")
    isolated.server_config(openai_server)
    isolated.write("s.lua", "return llm.complete({prompt = 'hi'}).content")
    p = isolated.cli("run", "s.lua", "--model", "openai-compatible:scripted-model")
    assert (p.returncode, p.stdout) == (0, "served by the scripted server\n"), p.stderr
    assert openai_server.completions[0].body["model"] == "scripted-model"


@pytest.mark.parametrize("lang,src", [
    ("lua", "return llm.complete({model = 'gpt-4', prompt = 'hi'}).content"),
    ("js", "return (await llm.complete({model: 'gpt-4', prompt: 'hi'})).content"),
    ("tengo", 'export llm.complete({model: "gpt-4", prompt: "hi"}).content'),
])
def test_alias_runs_a_gpt4_spell_on_the_scripted_server_unchanged(isolated, openai_server, lang, src):
    openai_server.always("aliased answer")
    alias = '[llm.aliases]\n"gpt-4" = "openai-compatible:scripted-model"\n'
    isolated.server_config(openai_server, extra=alias)
    isolated.write(f"s.{lang}", src)
    p = isolated.cli("run", f"s.{lang}")
    assert (p.returncode, p.stdout) == (0, "aliased answer\n"), p.stderr
    assert openai_server.completions[0].body["model"] == "scripted-model"


def test_alias_to_test_model(isolated):
    isolated.config('[llm.aliases]\n"gpt-4" = "test"\n')
    isolated.write("s.lua", "return llm.complete({model = 'gpt-4', prompt = 'hi'}).model")
    p = isolated.cli("run", "s.lua")
    assert (p.returncode, p.stdout) == (0, "test\n"), p.stderr


def test_missing_api_key_says_what_to_set(isolated):
    # The operator chose the provider (--model) but gave it no key: the error says which variable to set.
    isolated.write("s.lua", "return llm.complete({prompt = 'hi'}).content")
    p = isolated.cli("run", "s.lua", "--model", "openai:gpt-4o")
    assert p.returncode == 1
    head = p.stderr.splitlines()[0]
    assert "provider_error" in head and "OPENAI_API_KEY" in head
    isolated.no_traceback(p.stderr)


def test_provider_the_operator_did_not_enable_says_how(isolated):
    # The spell names a provider nobody configured: refused before any request, with how to enable it.
    isolated.write("s.lua", "return llm.complete({model = 'openai:gpt-4o', prompt = 'hi'}).content")
    p = isolated.cli("run", "s.lua")
    assert p.returncode == 1
    head = p.stderr.splitlines()[0]
    assert "permission_denied" in head and "not enabled" in head and "OPENAI_API_KEY" in head
    isolated.no_traceback(p.stderr)


def test_unknown_model_says_what_to_do(isolated):
    isolated.write("s.js", "return (await llm.complete({model: 'mystery-9000', prompt: 'hi'})).content")
    p = isolated.cli("run", "s.js")
    assert p.returncode == 1
    head = p.stderr.splitlines()[0]
    assert "not_found: unknown model 'mystery-9000'" in head
    assert "[llm.aliases]" in head
    isolated.no_traceback(p.stderr)


def test_unreachable_server_says_what_to_set(isolated):
    isolated.config('[llm]\nmax_retries = 0\n[providers.openai-compatible]\nbase_url = "http://127.0.0.1:9/v1"\n')
    isolated.write("s.lua", "return llm.complete({model = 'openai-compatible:m', prompt = 'hi'}).content")
    p = isolated.cli("run", "s.lua", "--allow-net=127.0.0.1:9")  # the spell could go there itself: it may know
    assert p.returncode == 1
    head = p.stderr.splitlines()[0]
    assert "provider_error" in head
    assert "cannot reach http://127.0.0.1:9/v1" in head
    assert "base_url" in head
    isolated.no_traceback(p.stderr)
    p = isolated.cli("run", "s.lua")  # it may not: the operator reads where with LLMSPELL_DEBUG=1
    head = p.stderr.splitlines()[0]
    assert "provider_error" in head and "127.0.0.1" not in head and "LLMSPELL_DEBUG=1" in head


def test_bad_config_file_is_reported_with_its_line(isolated):
    isolated.config("[llm]\ndefault_model = 3\n")
    isolated.write("s.lua", "return 1")
    p = isolated.cli("run", "s.lua")
    assert p.returncode == 1
    assert "llmspell.toml:2" in p.stderr
    isolated.no_traceback(p.stderr)


# -- the real local model -------------------------------------------------------------------------------

@pytest.mark.parametrize("example", ["lua/hello.lua", "js/hello.js", "tengo/hello.tengo"])
def test_hello_example_answers_with_the_embedded_local_model(isolated, example):
    """No model configured anywhere: the default is SmolLM2 in process (no key, no network), under the
    default memory limit (a Tengo spell's thread reserves its stack besides that limit)."""
    p = isolated.cli("run", str(REPO / "examples" / example), "--timeout", "120", timeout=180)
    assert p.returncode == 0, p.stderr
    answer = p.stdout.strip()
    assert answer, "the local model gave an empty answer"
    assert any(c.isalpha() for c in answer)
    isolated.no_traceback(p.stderr)
