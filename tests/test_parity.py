"""The parity suite: the same spell in every language prints the same text and
returns the same result.

Each case NAME in tests/parity/ has one spell per language (``NAME.lua``,
``NAME.js``, ``NAME.tengo`` -- any extension in ``LANGUAGES`` is picked up by
itself) and one expected output ``NAME.out``; optional ``NAME.params.json``
holds the run's parameters (one ``--param key=JSON`` per top-level key).

Each spell is run with ``llmspell run SPELL --json --model test`` and its output
is compared with ``NAME.out``, which is:

* everything the spell printed, exactly, then
* one line ``=> RESULT``: the result as canonical JSON (keys sorted, no spaces,
  numbers with no fractional part written as integers, since JavaScript cannot
  tell 2.0 from 2), or for a failed run ``=> {"error":{"kind":...,"message":...}}``
  (without the location, whose line numbers are each file's own).

Every case must exist in every language of ``REQUIRED``; a missing one fails.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import pytest

from llmspell.bridges.base import Bridge, method

PARITY = Path(__file__).resolve().parent / "parity"
#: Spell extension per language; a file with any of these is run automatically.
LANGUAGES = {"lua": ".lua", "js": ".js", "tengo": ".tengo"}
#: Languages every case must have.
REQUIRED = ("lua", "js", "tengo")


def case_names() -> list[str]:
    names = {p.name.removesuffix(ext) for lang, ext in LANGUAGES.items() for p in PARITY.glob(f"*{ext}")}
    names |= {p.stem for p in PARITY.glob("*.out")}
    return sorted(names)


def spells() -> list[tuple[str, str]]:
    return [(name, lang) for name in case_names() for lang, ext in LANGUAGES.items()
            if (PARITY / f"{name}{ext}").is_file()]


def canonical(value: object) -> object:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    if isinstance(value, list):
        return [canonical(v) for v in value]
    if isinstance(value, dict):
        if set(value) == {"error"} and isinstance(value["error"], dict):
            return {"error": {k: v for k, v in value["error"].items() if k in ("kind", "message")}}
        return {k: canonical(v) for k, v in value.items()}
    return value


def run_case(name: str, lang: str, cwd: Path, env: dict[str, str]) -> str:
    args = [sys.executable, "-m", "llmspell", "run", str(PARITY / f"{name}{LANGUAGES[lang]}"), "--json",
            "--model", "test", "--timeout", "60"]
    params_file = PARITY / f"{name}.params.json"
    if params_file.is_file():
        for key, value in json.loads(params_file.read_text(encoding="utf-8")).items():
            args += ["--param", f"{key}={json.dumps(value)}"]
    p = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, encoding="utf-8", timeout=120)
    assert "Traceback" not in p.stderr, p.stderr
    printed, _, last = p.stdout.removesuffix("\n").rpartition("\n")
    if not last and not printed:
        pytest.fail(f"{name}.{lang}: no JSON result line (exit {p.returncode}); stderr:\n{p.stderr}")
    try:
        result = json.loads(last)
    except ValueError:
        pytest.fail(f"{name}.{lang}: last line is not the JSON result: {last!r}; stderr:\n{p.stderr}")
    failed = isinstance(result, dict) and set(result) == {"error"}
    assert p.returncode == (1 if failed else 0), p.stderr
    text = json.dumps(canonical(result), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (printed + "\n" if printed else "") + "=> " + text + "\n"


def test_the_suite_is_there():
    assert len(case_names()) >= 12


@pytest.mark.parametrize("name", case_names())
def test_case_is_complete(name):
    missing = [lang for lang in REQUIRED if not (PARITY / f"{name}{LANGUAGES[lang]}").is_file()]
    assert not missing, f"parity case {name!r} has no {', '.join(missing)} version"
    assert (PARITY / f"{name}.out").is_file(), f"parity case {name!r} has no expected output {name}.out"


@pytest.mark.parametrize("name,lang", spells())
def test_spell_matches_expected_output(name, lang, isolated):
    expected_file = PARITY / f"{name}.out"
    if not expected_file.is_file():
        pytest.fail(f"{name}.out is missing")
    expected = expected_file.read_text(encoding="utf-8")
    assert run_case(name, lang, isolated.cwd, isolated.env) == expected


class Echo(Bridge):
    """A bridge whose sync methods hand back what they get: the fast paths' round trip."""

    name = "echo"

    @method
    def one(self, x: Annotated[Any, "anything"]) -> Any:
        """Return x."""
        return x

    @method
    def text(self, s: Annotated[str, "a string"]) -> str:
        """Return s."""
        return s

    @method
    def two(self, a: Annotated[float, "a number"], b: Annotated[str, "a string"]) -> list:
        """Return [a, b]."""
        return [a, b]

    @method
    def none(self) -> int:
        """Return 7."""
        return 7


@pytest.mark.parametrize("lang, source", [
    ("lua", "return {echo.text('a \"q\"\\n✓\\\\'), echo.one(1.5), echo.one(-3), echo.one(true),"
            " echo.two(2, 'b'), echo.two(0.25, ''), echo.none(), echo:text('colon'), echo.one({k = {1, 2}})}"),
    ("javascript", "return [await echo.text('a \"q\"\\n✓\\\\'), await echo.one(1.5), await echo.one(-3),"
                   " await echo.one(true), await echo.two(2, 'b'), await echo.two(0.25, ''),"
                   " await echo.none(), await echo.text('colon'), await echo.one({k: [1, 2]})]"),
    ("tengo", "export [echo.text(\"a \\\"q\\\"\\n✓\\\\\"), echo.one(1.5), echo.one(-3), echo.one(true),"
              " echo.two(2, \"b\"), echo.two(0.25, \"\"), echo.none(), echo.text(\"colon\"),"
              " echo.one({k: [1, 2]})]"),
])
def test_sync_calls_round_trip_every_kind_of_argument(isolated, lang, source):
    rt, _ = isolated.runtime()
    rt.add_bridge("echo", Echo)
    assert rt.run(source=source, language=lang) == [
        'a "q"\n✓\\', 1.5, -3, True, [2, "b"], [0.25, ""], 7, "colon", {"k": [1, 2]}]
