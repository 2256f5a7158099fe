"""Deno-style command-line flags -> Policy."""

from __future__ import annotations

import argparse
import os

import pytest

from llmspell.sandbox import Policy, add_policy_arguments, policy_from_args


def make_parser(subcommand: bool = False) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="llmspell")
    if subcommand:
        run = parser.add_subparsers(dest="command").add_parser("run")
        add_policy_arguments(run)
        run.add_argument("spell")
        run.add_argument("rest", nargs="*")
    else:
        add_policy_arguments(parser)
        parser.add_argument("spell")
    return parser


def parse(args: list[str], subcommand: bool = False, base: Policy | None = None) -> tuple:
    ns = make_parser(subcommand).parse_args(args)
    return ns, policy_from_args(ns, base)


def test_no_flags_means_the_default_policy():
    ns, policy = parse(["spell.lua"])
    assert ns.spell == "spell.lua"
    assert policy == Policy()


@pytest.mark.parametrize("subcommand", [False, True])
def test_bare_flag_grants_everything_and_does_not_swallow_the_spell(subcommand):
    args = (["run"] if subcommand else []) + ["--allow-read", "--allow-net", "spell.lua"]
    ns, policy = parse(args, subcommand)
    assert ns.spell == "spell.lua"
    assert policy.allow_read is True and policy.allow_net is True
    assert policy.allow_write is None


def test_lists_are_comma_separated_and_flags_add_up(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _, policy = parse(["--allow-read=data,/etc/hosts", "--allow-read=more", "--allow-net=a.com,b.com:8080",
                       "--allow-env=HOME,MYAPP_*", "--allow-run=git", "spell.lua"])
    assert policy.allow_read == (os.path.join(tmp_path, "data"), "/etc/hosts", os.path.join(tmp_path, "more"))
    assert policy.allow_net == ("a.com", "b.com:8080")
    assert policy.allow_env == ("HOME", "MYAPP_*")
    assert policy.allow_run == ("git",)


def test_bare_flag_wins_over_a_list():
    _, policy = parse(["--allow-net=a.com", "--allow-net", "spell.lua"])
    assert policy.allow_net is True
    _, policy = parse(["--allow-net", "--allow-net=a.com", "spell.lua"])
    assert policy.allow_net is True


def test_deny_flags():
    _, policy = parse(["--allow-env", "--deny-env=SECRET_*", "--deny-net=evil.com", "--deny-read=/etc",
                       "--deny-write=/", "spell.lua"])
    assert policy.deny_env == ("SECRET_*",)
    assert policy.deny_net == ("evil.com",)
    assert policy.deny_read == ("/etc",) and policy.deny_write == ("/",)


def test_limits():
    _, policy = parse(["--timeout", "2.5", "--max-memory", "64MiB", "--max-instructions", "1000",
                       "--max-llm-calls=3", "--max-output", "1KB", "--max-write", "2MiB", "spell.lua"])
    assert policy.timeout == 2.5
    assert policy.max_memory == 64 * 1024**2
    assert policy.max_instructions == 1000
    assert policy.max_llm_calls == 3
    assert policy.max_output == 1000
    assert policy.max_write == 2 * 1024**2


def test_profile_and_base():
    base = Policy(allow_net=("config.example",), timeout=7)
    _, policy = parse(["--allow-net=flag.example", "spell.lua"], base=base)
    assert policy.allow_net == ("config.example", "flag.example")
    assert policy.timeout == 7
    _, policy = parse(["--profile", "strict", "--timeout", "9", "spell.lua"], base=base)
    assert policy.allow_net is None
    assert policy.timeout == 9
    assert policy.max_memory == Policy.profile("strict").max_memory


def test_double_dash_stops_flag_rewriting():
    ns, policy = parse(["run", "spell.lua", "--", "--allow-read"], subcommand=True)
    assert ns.rest == ["--allow-read"]
    assert policy.allow_read is None


@pytest.mark.parametrize("args", [
    ["--timeout", "0", "s"], ["--timeout", "soon", "s"], ["--max-memory", "lots", "s"],
    ["--max-instructions", "1.5", "s"], ["--max-llm-calls", "-2", "s"], ["--max-output", "0", "s"],
    ["--max-write", "0", "s"],
    ["--allow-net=bad host", "s"], ["--allow-net=a.com:99999", "s"], ["--allow-read=", "s"],
    ["--allow-env=,", "s"], ["--profile", "yolo", "s"],
])
def test_bad_values_are_argparse_errors(args, capsys):
    with pytest.raises(SystemExit) as excinfo:
        make_parser().parse_args(args)
    assert excinfo.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_help_lists_the_flags(capsys):
    with pytest.raises(SystemExit):
        make_parser().parse_args(["--help"])
    out = capsys.readouterr().out
    for flag in ("--allow-read", "--allow-net", "--deny-env", "--max-memory", "--profile"):
        assert flag in out
