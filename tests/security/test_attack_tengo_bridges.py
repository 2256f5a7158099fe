"""The Lua and JavaScript red-team cases, in Tengo: every path, network,
environment, permission and limit attack those suites make on the bridges,
from the same tables, made by a ``.tengo`` spell.

A failed bridge call is an ``error`` value in Tengo; exporting it fails the
run with its kind and message, so each attack exports what the bridge gave
and the user sees the same error as in Lua and JavaScript.  A limit ends the
run whatever the spell does with the error values it gets.
"""

from __future__ import annotations

import json

import pytest
from tests.security.conftest import SECRETS, expect_error
from tests.security.test_attack_env import test_process_environment_file_is_never_readable as _env_file_test
from tests.security.test_attack_limits import test_disabled_builtins_are_permission_denied as _disabled_test
from tests.security.test_attack_network import LOOPBACK_SPELLINGS
from tests.security.test_attack_paths import LIST_ATTACKS, READ, READ_ATTACKS, WRITE, WRITE_ATTACKS


def _export(expr: str, then: str = "") -> str:
    """Export the call's value (``then`` picks a field of it), or its error value, which fails the run."""
    return f"x := {expr}\nexport is_error(x) ? x : x{then}\n"


def _tengo_path(path: str) -> str:
    """The Lua tables' paths as a Tengo string literal has them (``\\0`` is ``\\x00`` in Tengo)."""
    return path.replace("\\0", "\\x00")


# -- files -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path,kind", [a[1:] for a in READ_ATTACKS], ids=[a[0] for a in READ_ATTACKS])
def test_tengo_read_out_of_the_allowed_folder(spell, tree, path, kind):
    before = tree.snapshot()
    result = spell("tengo", _export(f'tools.file_read("{_tengo_path(path)}")'), *READ)
    expect_error(result, kind)
    if kind == "permission_denied" and not path.startswith("/proc/"):
        assert "--allow-read=" in result.err
    assert "secret" not in result.out
    assert tree.snapshot() == before


def test_tengo_tilde_and_vars_are_not_expanded(spell, tree):
    (tree.allowed / "~").mkdir()
    (tree.allowed / "~" / "f.txt").write_text("tilde")
    (tree.allowed / "$HOME").mkdir()
    (tree.allowed / "$HOME" / "f.txt").write_text("dollar")
    result = spell("tengo", 'export tools.file_read("allowed/~/f.txt") + tools.file_read("allowed/$HOME/f.txt")\n',
                   *READ)
    assert result.code == 0, result.err
    assert result.out.strip() == "tildedollar"


@pytest.mark.parametrize("path", [a[1] for a in LIST_ATTACKS], ids=[a[0] for a in LIST_ATTACKS])
def test_tengo_list_out_of_the_allowed_folder(spell, path):
    result = spell("tengo", _export(f'tools.file_list("{path}")'), *READ)
    expect_error(result, "permission_denied", contains="--allow-read=")
    assert "secret.txt" not in result.out


@pytest.mark.parametrize("path,kind", [a[1:] for a in WRITE_ATTACKS], ids=[a[0] for a in WRITE_ATTACKS])
def test_tengo_write_out_of_the_allowed_folder(spell, tree, path, kind):
    path = "spell.tengo" if path == "spell.lua" else _tengo_path(path)
    before = tree.snapshot()
    result = spell("tengo", _export(f'tools.file_write("{path}", "pwned")'), *WRITE)
    expect_error(result, kind)
    if kind == "permission_denied":
        assert "--allow-write=" in result.err
    assert tree.snapshot() == before
    assert (tree.outside / "secret.txt").read_text() == "outside secret"


def test_tengo_write_inside_is_allowed_and_changes_nothing_else(spell, tree):
    before = tree.snapshot()
    result = spell("tengo", _export('tools.file_write("allowed/new/out.txt", "fine")'), *WRITE)
    assert result.code == 0, result.err
    assert (tree.allowed / "new" / "out.txt").read_text() == "fine"
    assert tree.snapshot() == before


def test_tengo_no_permission_at_all_by_default(spell, tree):
    result = spell("tengo", _export('tools.file_read("allowed/inside.txt")'))
    expect_error(result, "permission_denied", contains="--allow-read=")


def test_tengo_a_denied_call_is_an_error_value_and_the_spell_goes_on(spell, tree):
    """Every way around the grant fails, each as the call's error value; the
    spell sees kind and message, and nothing of the file."""
    source = """
out := []
for p in ["allowed/../outside/secret.txt", "allowed/link-out/secret.txt", "allowed-x/secret.txt"] {
  r := tools.file_read(p)
  out = append(out, is_error(r) ? r.value.kind : r)
}
export out
"""
    result = spell("tengo", source, *READ)
    assert result.code == 0, result.err
    assert json.loads(result.out) == ["permission_denied"] * 3


# -- the environment -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(SECRETS))
def test_tengo_secret_variable_is_denied_and_names_the_flag(spell, name):
    expect_error(spell("tengo", _export(f'env.get("{name}")')), "permission_denied", contains=f"--allow-env={name}")


@pytest.mark.parametrize("name", ["OPENAI_API_KEY", "ANTHROPIC_API_KEY", "MY_SERVICE_TOKEN"])
def test_tengo_permissive_profile_still_hides_secrets(spell, name):
    result = spell("tengo", _export(f'env.get("{name}")'), "--profile", "permissive")
    expect_error(result, "permission_denied", contains="--deny-env=")


@pytest.mark.parametrize("name", ["", "OPENAI_API_KEY=", "OPENAI_API_KEY\\x00", "A=B"],
                         ids=["empty", "trailing_equals", "nul", "assignment"])
def test_tengo_malformed_names_are_invalid(spell, name):
    expect_error(spell("tengo", _export(f'env.get("{name}")'), "--allow-env=MYAPP_*"), "invalid_argument")


@pytest.mark.parametrize("path", ["/proc/self/environ", "/proc/thread-self/environ", "/proc/self/task/../environ",
                                  "/proc/self/mem"])
def test_tengo_process_environment_file_is_never_readable(spell, path):
    assert _env_file_test  # the Lua/JavaScript case this mirrors
    result = spell("tengo", _export(f'tools.file_read("{path}")'), "--allow-read")
    expect_error(result, "permission_denied", contains="never allowed")


def test_tengo_no_global_holds_a_secret(spell):
    """Everything reachable from the globals a Tengo spell has, written out: no
    key is in it (the harness asserts none of their values is in the output)."""
    source = """
seen := []
walk := func(v, depth) {
  if depth > 6 { return "" }
  t := type_name(v)
  if t == "map" || t == "immutable-map" {
    s := ""
    for k, x in v { s += k + " " + walk(x, depth + 1) + " " }
    return s
  }
  if t == "array" || t == "immutable-array" {
    s := ""
    for x in v { s += walk(x, depth + 1) + " " }
    return s
  }
  return string(v)
}
os := import("os")
text := walk({llm: llm, json: json, log: log, env: env, tools: tools, spell: spell, params: params, fmt: fmt,
              os: os, providers: llm.providers(), models: llm.models(), tools_list: tools.list()}, 0)
export len(text) > 100
"""
    result = spell("tengo", source, "--model", "test")
    assert result.code == 0, result.err
    assert result.out.strip() == "true"


def test_tengo_provider_error_does_not_show_the_key(spell, recorder):
    server = recorder()
    result = spell("tengo", _export('llm.complete({model: "openai:gpt-4o", prompt: "hi"})'),
                   env={"OPENAI_BASE_URL": f"http://127.0.0.1:{server.port}/v1"})
    assert result.code == 1
    assert result.kind in ("provider_error", "not_found", "invalid_argument"), result.err


# -- the network ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("host", [s[1] for s in LOOPBACK_SPELLINGS], ids=[s[0] for s in LOOPBACK_SPELLINGS])
def test_tengo_loopback_in_any_spelling_is_denied(spell, recorder, host):
    allowed, denied = recorder(), recorder()
    result = spell("tengo", _export(f'tools.http_get("http://{host}:{denied.port}/steal")', ".body"),
                   f"--allow-net=127.0.0.1:{allowed.port}")
    expect_error(result, "permission_denied", contains="--allow-net=")
    assert denied.hits == [] and allowed.hits == []


def test_tengo_allowed_server_is_reached(spell, recorder):
    allowed = recorder()
    result = spell("tengo", _export(f'tools.http_get("{allowed.url("/ok")}")', ".body"),
                   f"--allow-net=127.0.0.1:{allowed.port}")
    assert result.code == 0, result.err
    assert result.out.strip() == f"hello from {allowed.port}"
    assert allowed.hits == ["/ok"]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_tengo_redirect_to_a_denied_address_is_rechecked(spell, recorder, status):
    allowed, denied = recorder(), recorder()
    url = allowed.url(f"/redirect?status={status}&to=http://127.0.0.1:{denied.port}/stolen")
    result = spell("tengo", _export(f'tools.http_get("{url}")', ".body"), f"--allow-net=127.0.0.1:{allowed.port}")
    expect_error(result, "permission_denied", contains="--allow-net=")
    assert len(allowed.hits) == 1 and allowed.hits[0].startswith("/redirect")
    assert denied.hits == []


# -- limits and the policy ----------------------------------------------------------------------------------

def test_tengo_deep_nesting_passed_to_the_host_is_an_invalid_argument_error_value(spell):
    source = """
t := []
for i := 0; i < 100000; i++ { t = [t] }
r := tools.json_query(t, "a")
fmt.println(r.value.kind)
export r
"""
    result = spell("tengo", source)
    expect_error(result, "invalid_argument", contains="deep")
    assert result.out.splitlines()[0] == "invalid_argument"  # the spell saw the error value first


def test_tengo_llm_call_limit_cannot_be_swallowed(spell):
    source = "for i := 0; i < 5; i++ { r := llm.complete({prompt: 'hi'}) }\nexport 'survived'\n"
    source = source.replace("'", '"')
    result = spell("tengo", source, "--max-llm-calls", "2", "--model", "test")
    expect_error(result, "limit_exceeded", contains="--max-llm-calls")
    assert "survived" not in result.out


def test_tengo_bridge_call_storm_is_limit_exceeded(spell, tree):
    (tree.root / "llmspell.toml").write_text("[sandbox]\nmax_bridge_calls = 1000\n")
    source = 'for i := 0; i < 10000000; i++ { r := tools.calculator("1+1") }\nexport "survived"\n'
    result = spell("tengo", source, "--timeout", "20")
    expect_error(result, "limit_exceeded", contains="bridge calls")
    assert "survived" not in result.out


def test_tengo_output_limit_cannot_be_swallowed_by_ignoring_errors(spell):
    source = 'for i := 0; i < 100000; i++ { r := log.warn("hello world") }\nexport "survived"\n'
    result = spell("tengo", source, "--max-output", "1000")
    assert result.code == 1
    *records, error, hint = result.err.splitlines()  # the log records, then the run's error
    assert error == ("spell.tengo:1:36: limit_exceeded: the spell printed or logged more than its output "
                     "limit of 1000 bytes")
    assert len("\n".join(records).encode()) <= 1000 and "survived" not in result.out


@pytest.mark.parametrize("builtin,call", [
    ("llm", 'llm.complete({prompt: "hi"})'),
    ("llm.complete", 'llm.complete({prompt: "hi"})'),
    ("tools.file_read", 'tools.file_read("allowed/inside.txt")'),
    ("tools.*", 'tools.calculator("1+1")'),
    ("env.get", 'env.get("HOME")'),
], ids=["llm", "llm_complete", "file_read", "tools_glob", "env_get"])
def test_tengo_disabled_builtins_are_permission_denied(spell, tree, builtin, call):
    assert _disabled_test  # the Lua/JavaScript case this mirrors
    (tree.root / "llmspell.toml").write_text(f'[sandbox]\ndisabled_builtins = ["{builtin}"]\n')
    result = spell("tengo", _export(call), "--allow-read=allowed", "--allow-env=HOME", "--model", "test")
    expect_error(result, "permission_denied", contains="disabled by the sandbox policy")


# -- what crosses is plain data ---------------------------------------------------------------------------

def test_tengo_host_error_is_plain_data(spell):
    """A failed call gives an immutable map of kind and message: no host object, no traceback."""
    source = """
r := tools.file_read("/etc/passwd")
keys := []
for k, v in r.value { keys = append(keys, k + "=" + type_name(v)) }
export {keys: keys, type: type_name(r.value), text: r.value.kind + ": " + r.value.message}
"""
    result = spell("tengo", source, "--json")
    assert result.code == 0, result.err
    data = json.loads(result.out)
    assert sorted(data["keys"]) == ["kind=string", "message=string"] and data["type"] == "immutable-map"
    assert data["text"].startswith("permission_denied: ") and "--allow-read=/etc/passwd" in data["text"]


def test_tengo_raw_bytes_reach_every_bridge_as_replacement_characters(spell, tree):
    """A Tengo string may hold bytes that are not UTF-8 (a "\\xff" escape, half a
    character cut by a slice): each bridge gets U+FFFD for them, never an
    internal error or a Python exception."""
    source = r"""
fmt.println(json.encode("\xff"), "\xff")
log.warn("a\xffb")
fmt.println(tools.calculator("\xff").value.kind)
w := tools.file_write("allowed/raw.txt", "é"[0:1] + "|" + "é"[1:] + "|" + "é"[0:1] + "é"[1:])
fmt.println(is_error(w), tools.file_read("allowed/raw.txt"))
export "\xff"
"""
    result = spell("tengo", source, *WRITE, "--json")
    assert result.code == 0, result.err
    assert result.out.splitlines() == ['"\ufffd" \ufffd', "invalid_argument", "false \ufffd|\ufffd|é", '"\ufffd"']
    assert "a\ufffdb" in result.err
    assert (tree.allowed / "raw.txt").read_text(encoding="utf-8") == "\ufffd|\ufffd|é"


def test_tengo_no_python_object_is_reachable(spell):
    """Bridges, modules, params and error values are Tengo values only: their
    type names are Tengo's, Python's attribute names are absent keys, their
    text shows no Python object, and indexing a bridge method is a Tengo error."""
    source = """
out := []
for v in [tools.calculator, json, llm, fmt.println, import("os"), params, error("x"), llm.models()] {
  out = append(out, type_name(v))
}
fmt.println(out)
fmt.println([json["__class__"], json.__dict__, params.__class__, llm.__init__, error("x").value])
fmt.println(string(tools.calculator), string(json))
x := tools.calculator.__globals__
"""
    result = spell("tengo", source)
    assert result.out.splitlines() == [
        '["builtin-function", "immutable-map", "immutable-map", "builtin-function", "immutable-map", "map", '
        '"error", "immutable-array"]',
        '[<undefined>, <undefined>, <undefined>, <undefined>, "x"]',
        "<builtin-function> {encode: <builtin-function>, decode: <builtin-function>}",
    ]
    expect_error(result, "runtime_error", contains="not indexable: builtin-function")
