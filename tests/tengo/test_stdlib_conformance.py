"""The reference implementation's standard library cases, run against ours.

Reads tests/tengo/corpus/stdlib_cases.jsonl (see README.md there), calls each
chain of Builtins straight from Python and compares with the expected value.
Cases that depend on the clock, the machine or Go's random generator (rand,
os) are checked for the type and shape of the result only.
"""

from __future__ import annotations

import collections
import datetime
import math
import pathlib
import re
from typing import Any

import pytest
from tengo_cases import decode as decode_case
from tengo_cases import load_cases

from llmspell.engines.tengo.objects import (
    Builtin,
    Error,
    ImmutableArray,
    ImmutableMap,
    TengoError,
    Time,
    equals,
    type_name,
)
from llmspell.engines.tengo.stdlib import get_module
from llmspell.sandbox.policy import Policy

CASES = load_cases("stdlib_cases.jsonl")
SHAPE_ONLY_MODULES = {"rand"}
RESULTS: collections.Counter = collections.Counter()
TOTALS: collections.Counter = collections.Counter()


def decode(v: dict) -> Any:
    """A value in the README's encoding -> a Tengo value (times as this module reads them)."""
    return decode_case(v, decode_time)


def decode_time(text: str) -> Time:
    """RFC 3339 with nanoseconds.  The reference machine's Local zone was UTC,
    so "Z" times are Local times here (our Local defaults to UTC too)."""
    head, _, rest = text.partition(".")
    frac = "0"
    if rest:
        n = 0
        while n < len(rest) and rest[n].isdigit():
            n += 1
        frac, zone = rest[:n], rest[n:]
    else:
        head, zone = text[:19], text[19:]
    dt = datetime.datetime.fromisoformat(head[:19] + ("+00:00" if zone == "Z" else zone))
    off = int(dt.utcoffset().total_seconds())
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    secs = (dt - epoch) // datetime.timedelta(seconds=1)
    ns = secs * 1_000_000_000 + int((frac + "000000000")[:9])
    return Time(ns, off, "Local" if zone == "Z" else "")


def same(got: Any, want: Any) -> bool:
    if type(want) is float and type(got) is float:
        return (math.isnan(want) and math.isnan(got)) or got == want
    if type(want) in (list, ImmutableArray) or type(want) in (dict, ImmutableMap):
        if type(got) is not type(want) or len(got) != len(want):
            return False
        if isinstance(want, dict):
            return all(k in got and same(got[k], want[k]) for k in want)
        return all(same(a, b) for a, b in zip(got, want, strict=True))
    if type(want) is Error:
        return type(got) is Error and same(got.value, want.value)
    return type(got) is type(want) and equals(got, want)


def same_shape(got: Any, want: Any) -> bool:
    if type(got) is not type(want):
        return False
    if isinstance(want, list):
        return len(got) == len(want) and all(same_shape(a, b) for a, b in zip(got, want, strict=True))
    return True


def FakePolicy(env: dict[str, str] | None = None) -> Policy:  # noqa: N802 - was a fake
    """The real sandbox policy, denying everything unless a test allows it."""
    return Policy(allow_env=tuple(env or ()) or None)


class Host:
    def __init__(self, max_string_len: int | None = None, env: dict[str, str] | None = None) -> None:
        self.out: list[str] = []
        self.policy = FakePolicy(env)
        self.environ = dict(env or {})
        if max_string_len is not None:
            self.max_string_len = max_string_len

    def write(self, text: str) -> None:
        self.out.append(text)

    def cwd(self) -> pathlib.Path:
        return pathlib.Path.cwd()


def expand_env_value(case: dict) -> str:
    """TestOSExpandEnv sets $TENGO per case; the JSON keeps only the result,
    so recover the value from it (error cases used one too long)."""
    template = case["chain"][0]["args"][0]["string"]
    if case["kind"] == "stdlib_call_error":
        return "1234567890123"
    expected = case["expected"]["string"]
    literal = template.replace("${TENGO}", "").replace("$TENGO", "")
    count = template.count("$TENGO") + template.count("${TENGO}")
    size = (len(expected) - len(literal)) // count
    return expected[:size]


def run_chain(case: dict) -> Any:
    env = {"TENGO": expand_env_value(case)} if case["test"] == "TestOSExpandEnv" else None
    host = Host(case.get("max_string_len"), env)
    value: Any = get_module(case["module"], host)
    for step in case["chain"]:
        fn = value[step["fn"]]
        assert isinstance(fn, Builtin), f"{step['fn']} is not a builtin"
        value = fn(*[decode(a) for a in step["args"] or []])
    return value


def case_id(case: dict) -> str:
    chain = ".".join(s["fn"] for s in case.get("chain", []))
    return f"{case['test']}-{case.get('module', 'script')}.{chain}"


CALL_CASES = [c for c in CASES if c["kind"] in ("stdlib_call", "stdlib_call_error")]


@pytest.mark.parametrize("case", CALL_CASES, ids=[case_id(c) for c in CALL_CASES])
def test_stdlib_call(case: dict) -> None:
    TOTALS[case["test"]] += 1
    if case["kind"] == "stdlib_call_error":
        with pytest.raises(TengoError):
            result = run_chain(case)
            if type(result) is Error:  # an error value also counts as failing the chain
                raise TengoError(str(result.value))
        RESULTS[case["test"]] += 1
        return
    got = run_chain(case)
    want = decode(case["expected"])
    if case["module"] in SHAPE_ONLY_MODULES:
        assert same_shape(got, want), f"{type_name(got)} {got!r} vs {type_name(want)}"
    else:
        assert same(got, want), f"got {got!r}, want {want!r}"
    RESULTS[case["test"]] += 1


SCRIPT_CASES = [c for c in CASES if c["kind"] == "stdlib_script"]
ENUM_CASES = [
    c for c in load_cases("vm_cases.jsonl")
    # cases with stdlib, and cases that supplied the reference's own enum source
    # (we run those against ours instead)
    if c["kind"] == "run" and 'import("enum")' in c.get("src", "")
    and (c.get("stdlib") or set(c.get("modules", {})) == {"enum"})
]


def ScriptPolicy(root: pathlib.Path) -> Policy:  # noqa: N802 - was a fake
    """Allows what the reference's script cases do: files under one folder, echo."""
    return Policy(allow_read=(str(root),), allow_write=(str(root),), allow_run=("echo",))


class ScriptHost(Host):
    def __init__(self, root: pathlib.Path) -> None:
        super().__init__()
        self.root = root
        self.policy = ScriptPolicy(root)

    def cwd(self) -> pathlib.Path:
        return self.root


def run_tengo(src: str, host: Any) -> Any:
    """Run a Tengo program with the standard library and return its global
    ``out``.  This is the one place that knows the interpreter core's API."""
    from llmspell.engines.tengo.program import compile_program  # the core helper's module

    loader = lambda name: get_module(name, host)  # noqa: E731
    # `out` is pre-set as the reference does, unless the script declares it itself.
    names = [] if re.search(r"^\s*out\s*:=", src, re.M) else ["out"]
    program = compile_program(src, globals_names=names, module_loader=loader)
    return program.run({}).globals["out"]


def go_syntax(v: Any) -> str:
    """How the reference printed ``out`` (Go's %#v of the Go value)."""
    if type(v) is bytearray:
        return "[]byte{" + ", ".join(f"0x{b:x}" for b in v) + "}"
    from llmspell.engines.tengo.formatter import go_quote

    return go_quote(v) if type(v) is str else repr(v)


@pytest.mark.parametrize("case", SCRIPT_CASES, ids=[f"{c['test']}-{i}" for i, c in enumerate(SCRIPT_CASES)])
def test_stdlib_script(case: dict, tmp_path: pathlib.Path) -> None:
    """Whole scripts using os (files in a granted folder, ``echo``); they need
    the interpreter core."""
    TOTALS[case["test"]] += 1
    got = run_tengo(case["src"], ScriptHost(tmp_path))
    assert go_syntax(got) == case["expected_go"]
    RESULTS[case["test"]] += 1


@pytest.mark.parametrize("case", ENUM_CASES, ids=[f"enum-{i}" for i in range(len(ENUM_CASES))])
def test_enum_module(case: dict) -> None:
    """The reference's enum cases, run against our enum.tengo."""
    TOTALS["TestSrcModEnum"] += 1
    got = run_tengo(case["src"], Host())
    assert same(got, decode(case["expected"]))
    RESULTS["TestSrcModEnum"] += 1


def test_zz_report(capsys: pytest.CaptureFixture) -> None:
    """Print the pass count per reference test (run with -s to see it)."""
    with capsys.disabled():
        print()
        for name in sorted(TOTALS):
            print(f"  {name:28s} {RESULTS[name]:4d}/{TOTALS[name]}")
        print(f"  {'total':28s} {sum(RESULTS.values()):4d}/{sum(TOTALS.values())}")
