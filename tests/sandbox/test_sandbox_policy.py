"""Policy construction, profiles, config form, sizes, and the non-file checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from llmspell.errors import SpellError
from llmspell.sandbox import Policy, get_env, parse_size


@pytest.mark.parametrize(("text", "expected"), [
    ("1024", 1024), (2048, 2048), ("64MB", 64_000_000), ("64 MiB", 64 * 1024**2), ("1.5GB", 1_500_000_000),
    ("512kib", 512 * 1024), ("2KB", 2000), ("1GiB", 1024**3), ("10b", 10), ("0", 0), (" 3 M ", 3_000_000),
])
def test_parse_size(text, expected):
    assert parse_size(text) == expected


@pytest.mark.parametrize("bad", ["", "MB", "-1", "12 parsecs", "1e6", "1,000", "1.2.3MB", -5, True, None, 1.5])
def test_parse_size_rejects_bad_input(bad):
    with pytest.raises(SpellError) as excinfo:
        parse_size(bad)
    assert excinfo.value.kind == "invalid_argument"


def test_default_policy_grants_nothing(tmp_path):
    policy = Policy()
    for check, arg in [(policy.check_read, tmp_path), (policy.check_write, tmp_path),
                       (policy.check_env, "HOME"), (policy.check_exec, "ls"),
                       (policy.check_net, "http://127.0.0.1:8080/")]:
        with pytest.raises(SpellError) as excinfo:
            check(arg)
        assert excinfo.value.kind == "permission_denied"
    assert Policy() == Policy.profile("standard")


def test_profiles_differ_as_documented(tmp_path):
    strict, standard, permissive = (Policy.profile(n) for n in ("strict", "standard", "permissive"))
    assert strict.timeout < standard.timeout < permissive.timeout
    assert strict.max_memory < standard.max_memory < permissive.max_memory
    assert (strict.max_write, standard.max_write, permissive.max_write) == (16 * 2**20, 256 * 2**20, 4 * 2**30)
    assert Policy().max_write == standard.max_write
    assert strict.allowed_imports == () and standard.allowed_imports is None
    assert permissive.check_read(tmp_path) == tmp_path
    assert permissive.check_write(tmp_path / "x") == tmp_path / "x"
    permissive.check_env("HOME")
    with pytest.raises(SpellError):
        permissive.check_env("OPENAI_API_KEY")
    with pytest.raises(SpellError):
        permissive.check_env("GITHUB_TOKEN")
    with pytest.raises(SpellError):
        permissive.check_exec("sh")
    with pytest.raises(SpellError):
        permissive.check_net("http://169.254.169.254/latest/meta-data")
    with pytest.raises(SpellError) as excinfo:
        Policy.profile("yolo")
    assert excinfo.value.kind == "invalid_argument"


def test_grants_are_normalised():
    policy = Policy(allow_read="/data", allow_net=["a.com", "a.com", " b.com "], allow_env=False,
                    disabled_builtins=["llm.*"])
    assert policy.allow_read == ("/data",)
    assert policy.allow_net == ("a.com", "b.com")
    assert policy.allow_env is None
    assert policy.disabled_builtins == ("llm.*",)
    with pytest.raises(SpellError):
        Policy(allow_read=[1, 2])
    with pytest.raises(SpellError):
        Policy(allow_net=("not a host",))


@pytest.mark.parametrize("limits", [{"timeout": 0}, {"max_memory": "lots"}, {"max_llm_calls": 1.5},
                                    {"max_concurrent": -1}, {"max_tokens": True}])
def test_bad_limits_are_rejected(limits):
    with pytest.raises(SpellError) as excinfo:
        Policy(**limits)
    assert excinfo.value.kind == "invalid_argument"


def test_from_config(tmp_path):
    policy = Policy.from_config({
        "profile": "strict",
        "allow-read": ["data", "/abs"],
        "allow_net": "api.example.com",
        "allow_env": ["MYAPP_*"],
        "max_memory": "32MiB",
        "timeout": 5,
        "max_output": "unlimited",
        "max-write": "8MB",
        "allow_run": ["echo", "bin/tool"],
        "max_llm_calls": False,
        "disabled_builtins": ["llm.stream"],
        "allowed_imports": ["lib/*"],
    }, base_dir=tmp_path)
    assert policy.allow_read == (str(tmp_path / "data"), "/abs")
    assert policy.allow_net == ("api.example.com",)
    assert policy.max_memory == 32 * 1024**2
    assert policy.max_write == 8_000_000
    assert policy.allow_run == ("echo", str(tmp_path / "bin/tool"))  # a relative path: from the config's folder
    assert policy.timeout == 5.0
    assert policy.max_output is None and policy.max_llm_calls is None
    assert policy.max_instructions == Policy.profile("strict").max_instructions
    assert policy.allowed_imports == ("lib/*",)
    policy.check_env("MYAPP_DEBUG")


@pytest.mark.parametrize("table", [{"allow_reed": True}, {"profile": 3}, {"allow_read": 7},
                                   {"max_memory": "huge"}, "not a table"])
def test_from_config_errors(table):
    with pytest.raises(SpellError) as excinfo:
        Policy.from_config(table)
    assert excinfo.value.kind == "invalid_argument"


def test_replace_and_merge():
    a = Policy(allow_read=("/a",), allow_net=("a.com",), timeout=10, disabled_builtins=("x",))
    b = Policy(allow_read=("/b",), deny_net=("evil.com",), allow_env=True, timeout=None, max_memory=1,
               disabled_builtins=("y",))
    merged = a.merge(b)
    assert merged.allow_read == ("/a", "/b")
    assert merged.allow_env is True
    assert merged.deny_net == ("evil.com",)
    assert merged.timeout is None  # no limit beats any limit
    assert merged.max_memory == a.max_memory
    assert merged.disabled_builtins == ("x", "y")
    assert a.replace(timeout=3).timeout == 3.0
    assert a.timeout == 10.0  # frozen: the original is unchanged
    with pytest.raises(SpellError):
        a.replace(no_such_field=1)
    with pytest.raises(SpellError):
        a.replace(timeout=-1)


def test_check_exec():
    with pytest.raises(SpellError) as excinfo:
        Policy().check_exec(["git", "status"])
    assert excinfo.value.message == 'running "git" is not allowed; run with --allow-run=git'
    echo = shutil.which("echo")
    assert echo is not None
    assert Policy(allow_run=True).check_exec("echo") == echo
    only_echo = Policy(allow_run=("echo",))
    assert only_echo.check_exec(["echo", "hi"]) == echo  # the path to run, resolved when the policy was made
    assert only_echo.check_exec(echo) == echo
    with pytest.raises(SpellError):
        only_echo.check_exec("cat")
    with pytest.raises(SpellError) as excinfo:
        only_echo.check_exec([])
    assert excinfo.value.kind == "invalid_argument"


def test_allow_run_means_one_program_not_a_basename(tmp_path, monkeypatch):
    """Deno's rule: names are resolved on PATH once, when the policy is made; a spell's
    own ``DATA/echo`` is not ``echo``, and a PATH changed later changes nothing."""
    echo = shutil.which("echo")
    only_echo = Policy(allow_run=("echo",))
    fake = tmp_path / "echo"
    fake.write_text("#!/bin/sh\necho pwned\n")
    fake.chmod(0o755)
    for name in (str(fake), "./echo"):
        with pytest.raises(SpellError) as excinfo:
            only_echo.check_exec(name, base=tmp_path)
        assert excinfo.value.kind == "permission_denied"
        assert f"--allow-run={fake}" in excinfo.value.message
    monkeypatch.setenv("PATH", str(tmp_path))
    assert only_echo.check_exec("echo") == echo
    exact = Policy(allow_run=(str(fake),))
    assert exact.check_exec(str(fake)) == str(fake)
    assert exact.check_exec("./echo", base=tmp_path) == str(fake)
    with pytest.raises(SpellError):
        exact.check_exec(echo)
    missing = Policy(allow_run=("no-such-program-llmspell",))
    with pytest.raises(SpellError) as excinfo:
        missing.check_exec("no-such-program-llmspell")
    assert excinfo.value.kind == "not_found" and "PATH" in excinfo.value.message


def test_check_builtin():
    policy = Policy(disabled_builtins=("llm.stream", "tools.file_*", "env"))
    policy.check_builtin("llm.complete")
    for name in ("llm.stream", "tools.file_write", "env", "env.get"):
        with pytest.raises(SpellError) as excinfo:
            policy.check_builtin(name)
        assert excinfo.value.kind == "permission_denied"
        assert name in excinfo.value.message
    Policy().check_builtin("anything")


# -- imports -----------------------------------------------------------------

@pytest.fixture
def spell_dir(tmp_path: Path) -> Path:
    spell = tmp_path / "spell"
    (spell / "lib").mkdir(parents=True)
    (spell / "lib" / "util.lua").write_text("return {}")
    (spell / "helpers.lua").write_text("return {}")
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "common.lua").write_text("return {}")
    return spell


def test_imports_from_the_spell_folder_need_no_permission(spell_dir):
    assert Policy().check_import("lib/util.lua", base=spell_dir) == spell_dir / "lib" / "util.lua"
    assert Policy().check_import("./helpers.lua", base=spell_dir) == spell_dir / "helpers.lua"


def test_imports_from_elsewhere_need_read_permission(spell_dir):
    with pytest.raises(SpellError) as excinfo:
        Policy().check_import("../shared/common.lua", base=spell_dir)
    assert "--allow-read=" in excinfo.value.message
    shared = spell_dir.parent / "shared"
    assert Policy(allow_read=(str(shared),)).check_import("../shared/common.lua", base=spell_dir)


def test_import_through_a_link_out_of_the_spell_folder_needs_permission(spell_dir):
    (spell_dir / "escape.lua").symlink_to(spell_dir.parent / "shared" / "common.lua")
    with pytest.raises(SpellError) as excinfo:
        Policy().check_import("escape.lua", base=spell_dir)
    assert excinfo.value.kind == "permission_denied"


def test_allowed_imports_narrow_paths_and_module_names(spell_dir):
    policy = Policy(allowed_imports=("lib/*", "fmt"))
    assert policy.check_import("lib/util.lua", base=spell_dir)
    assert policy.check_import("fmt") is None
    with pytest.raises(SpellError):
        policy.check_import("helpers.lua", base=spell_dir)
    with pytest.raises(SpellError):
        policy.check_import("os")
    assert Policy().check_import("os") is None
    with pytest.raises(SpellError):
        Policy.profile("strict").check_import("fmt")


def test_deny_read_applies_to_imports_in_the_spell_folder(spell_dir):
    policy = Policy(deny_read=(str(spell_dir / "lib"),))
    with pytest.raises(SpellError) as excinfo:
        policy.check_import("lib/util.lua", base=spell_dir)
    assert "--deny-read" in excinfo.value.message


# -- environment ----------------------------------------------------------------

ENV = {"HOME": "/home/me", "MYAPP_MODE": "fast", "MYAPP_KEY": "k", "OPENAI_API_KEY": "sk-secret", "OTHER": "o"}


def test_env_exact_names_and_prefixes():
    policy = Policy(allow_env=("HOME", "MYAPP_*", "UNSET"))
    assert get_env(policy, "HOME", ENV) == "/home/me"
    assert get_env(policy, "MYAPP_MODE", ENV) == "fast"
    assert get_env(policy, "UNSET", ENV) is None
    for name in ("OPENAI_API_KEY", "OTHER", "home", "MYAPP"):
        with pytest.raises(SpellError) as excinfo:
            get_env(policy, name, ENV)
        assert excinfo.value.message == (f'access to environment variable "{name}" is not allowed; '
                                         f"run with --allow-env={name}")


def test_env_deny_wins_and_secrets_stay_hidden():
    policy = Policy(allow_env=True, deny_env=("*_KEY", "OPENAI_*"))
    assert get_env(policy, "OTHER", ENV) == "o"
    with pytest.raises(SpellError) as excinfo:
        get_env(policy, "MYAPP_KEY", ENV)
    assert "--deny-env=*_KEY" in excinfo.value.message
    with pytest.raises(SpellError):
        get_env(Policy.profile("permissive"), "OPENAI_API_KEY", ENV)


@pytest.mark.parametrize("bad", ["", "A=B", "A\x00", 5])
def test_env_bad_names(bad):
    with pytest.raises(SpellError) as excinfo:
        get_env(Policy(allow_env=True), bad, ENV)
    assert excinfo.value.kind == "invalid_argument"


def test_env_reads_the_real_environment_by_default(monkeypatch):
    monkeypatch.setenv("LLMSPELL_TEST_VAR", "here")
    assert get_env(Policy(allow_env=("LLMSPELL_TEST_VAR",)), "LLMSPELL_TEST_VAR") == "here"
