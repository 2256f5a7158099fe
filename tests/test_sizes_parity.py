"""Parity at realistic sizes: values from empty to megabytes, built every way a
spell builds them, through every bridge that takes data, in every language.

A JavaScript string past 512 characters may be a QuickJS rope, which the
Python binding cannot read; before the fix every bridge call with such an
argument failed (``internal: TypeError: Unknown quickjs tag: -6``).  Small
values hide bugs like that, so here the same spell in Lua, JavaScript and
Tengo (tests/sizes/) passes strings of 0 bytes to 4 MB (literal,
concatenation, template, ``repeat``; ASCII and emoji) and 50-deep and
10 000-wide tables through json, tools (a tool of its own and the file
tools), llm.complete and llm.stream (the ``test`` model counts the prompt's
words, so a damaged prompt changes the count), log, printing and its result;
parameters go in through ``Runtime.run``.  Every language must give exactly
the values this module computes itself, so all three give the same text.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

SIZES = Path(__file__).resolve().parent / "sizes"
LANGUAGES = {"lua": ".lua", "javascript": ".js", "tengo": ".tengo"}

_UNIT = "lorem ipsum é✓😀 "
LIT600 = (_UNIT * 40)[:600]
LIT64K = (_UNIT * 4200)[:65536]


def _strings() -> dict[str, tuple[str, bool]]:
    """Each case of the spells: (the string, whether it also goes to the model and the log)."""
    a, b = "lorem ipsum " * 3000, "é✓😀 " * 5000
    return {
        "empty": ("", False),
        "one": ("x", True),
        "rep511": ("x" * 511, True),
        "rep512": ("y" * 512, True),
        "cat600": ("a" + "b " * 299 + "c", True),
        "lit600": (LIT600, True),
        "tmpl": (f"<{a}|{b}>", True),
        "lit64k": (LIT64K, True),
        "rep64k": ("abc " * 16384, True),
        "uni64k": ("é✓😀 " * 6554, True),
        "lines": ("".join(f"line {i}: é✓😀\n" for i in range(1, 5001)), True),
        "dbl1m": ("ab c" * (1 << 18), True),
        "rep4m": ("abc " * 1048576, False),
    }


def _tables() -> dict[str, Any]:
    deep: dict[str, Any] = {"leaf": "end"}
    for i in range(1, 51):
        deep = {"d": deep, "n": i}
    return {"deep": deep, "wideObj": {f"k{i:05d}": i for i in range(10000)},
            "wideArr": [f"e{i}" for i in range(10000)]}


def _json(value: Any) -> str:
    """The json bridge's text: keys sorted, no spaces, UTF-8 as it is."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@cache
def _tokens(prompt: str) -> int:
    """What the ``test`` model reports as the prompt's input tokens, asked directly."""
    from pydantic_ai.direct import model_request_sync
    from pydantic_ai.messages import ModelRequest
    from pydantic_ai.models.test import TestModel

    return model_request_sync(TestModel(), [ModelRequest.user_text_prompt(prompt)]).usage.input_tokens


def expected_run() -> tuple[str, dict, dict[str, str]]:
    """What every language's spell must print, return and log."""
    printed, cases, logged = [], {}, {}
    for name, (s, with_model) in _strings().items():
        r: dict[str, Any] = {"v": s, "json": True, "tool": True, "bytes": len(s.encode()), "file": True}
        if with_model:
            r["tokens"] = _tokens(s)
            r["stream"] = True
            if "\n" not in s:
                logged[name] = s
        cases[name] = r
        printed.append(f"<{name}>\n{s}\n")
    tables = {}
    for name, t in _tables().items():
        printed.append(f"<{name}>\n{_json(t)}\n")
        tables[name] = {"v": t, "json": t, "text": _json(t), "tool": t}
    return "".join(printed), {"cases": cases, "tables": tables}, logged


def _spell(tmp: Path, lang: str) -> Path:
    text = (SIZES / f"sizes{LANGUAGES[lang]}").read_text(encoding="utf-8")
    for marker, literal in (("<<600-character literal>>", LIT600), ("<<64 KiB literal>>", LIT64K)):
        assert text.count(marker) == 1
        text = text.replace(marker, literal)
    path = tmp / f"sizes{LANGUAGES[lang]}"
    path.write_text(text, encoding="utf-8")
    return path


@cache
def _expected() -> tuple[str, dict, dict[str, str]]:
    return expected_run()


_RESULTS: dict[str, str] = {}


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_every_size_through_every_bridge(isolated, lang):
    printed_expected, result_expected, logged_expected = _expected()
    spell = _spell(isolated.cwd, lang)
    out = isolated.cwd / "out"
    out.mkdir()
    p = subprocess.run(
        [sys.executable, "-m", "llmspell", "run", str(spell), "--json", "--model", "test",
         f"--allow-read={out}", f"--allow-write={out}", "--max-output", "64MiB", "--timeout", "120"],
        cwd=isolated.cwd, env=isolated.env, capture_output=True, timeout=180)
    stdout, stderr = p.stdout.decode("utf-8"), p.stderr.decode("utf-8")
    isolated.no_traceback(stderr[:5000])
    printed, _, last = stdout.removesuffix("\n").rpartition("\n")
    assert p.returncode == 0, (last[:2000], stderr[:2000])
    result = json.loads(last)
    # Compared piece by piece first, so that a failure names the case (not a 20 MB diff).
    for name, want in result_expected["cases"].items():
        got = result["cases"].get(name)
        assert got is not None, f"{lang}: case {name} missing"
        assert {k: v for k, v in got.items() if k != "v"} == {k: v for k, v in want.items() if k != "v"}, \
            f"{lang}: case {name}"
        assert got["v"] == want["v"], f"{lang}: case {name}: returned {len(got['v'])} chars, " \
                                      f"not the {len(want['v'])} expected"
    for name, want in result_expected["tables"].items():
        assert result["tables"][name] == want, f"{lang}: table {name}"
    assert result == result_expected
    assert printed + "\n" == printed_expected
    for name, s in logged_expected.items():
        m = re.search(rf"case {name}=(.*)$", stderr, re.M)
        assert m, f"{lang}: log.warn of case {name} is not in the log"
        assert m.group(1) == s, f"{lang}: case {name}: logged {len(m.group(1))} chars, not {len(s)}"
    _RESULTS[lang] = _json(result)


def test_the_three_languages_gave_the_same_text():
    if len(_RESULTS) != len(LANGUAGES):
        pytest.skip("runs only after the three runs above, in the same session")
    texts = set(_RESULTS.values())
    assert len(texts) == 1


def _params() -> dict[str, Any]:
    return {"big": "abc " * 1048576, "uni": "é✓😀 " * 6554, "empty": "", "quoted": 'a "q" \\ \n\t</script>' * 600,
            **_tables()}


_PARAMS_SPELLS = {
    "lua": """
tools.register({name = "echo", description = "x", parameters = {v = {}}, handler = function(a) return a end})
print(params.big)
print(params.uni)
return {p = params, text = json.encode(params), tool = tools.echo({v = params}).v,
        same = params.quoted .. params.uni == tools.echo({v = params.quoted .. params.uni}).v}
""",
    "javascript": """
tools.register({name: "echo", description: "x", parameters: {v: {}}, handler: (a) => a});
console.log(params.big);
console.log(params.uni);
return {p: params, text: json.encode(params), tool: (await tools.echo({v: params})).v,
        same: params.quoted + params.uni === (await tools.echo({v: params.quoted + params.uni})).v};
""",
    "tengo": """
tools.register({name: "echo", description: "x", parameters: {v: {}}, handler: func(a) { return a }})
fmt.println(params.big)
fmt.println(params.uni)
export {p: params, text: json.encode(params), tool: tools.echo({v: params}).v,
        same: params.quoted + params.uni == tools.echo({v: params.quoted + params.uni}).v}
""",
}


@pytest.mark.parametrize("lang", list(LANGUAGES))
def test_parameters_of_every_size_go_in_and_come_back(isolated, lang):
    from llmspell import Policy

    params = _params()
    rt, out = isolated.runtime(model="test", policy=Policy(max_output=64 << 20))
    result = rt.run(source=_PARAMS_SPELLS[lang], language=lang, params=params)
    assert result["p"] == params
    assert result["text"] == _json(params)
    assert result["tool"] == params
    assert result["same"] is True
    assert "".join(out) == params["big"] + "\n" + params["uni"] + "\n"
