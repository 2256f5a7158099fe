"""Red team: JavaScript spell text that closes the host's wrapper.

The engine runs a spell as the body of an async function, made by putting
text around it.  A spell that starts with ``});`` closes that function, and
whatever follows ran as top-level code of the host's own evaluation: in
``llmspell check`` (and in the check ``run`` did before arming its limits)
with no time or memory limit at all -- ``while(true){}`` hung ``check``
forever, a loop of allocations took gigabytes and then printed "ok".
``check`` must parse and never run, and ``run`` must refuse the text as a
syntax error before any of it runs.  Every case has a subprocess timeout, so
a regression fails instead of hanging the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.security.conftest import _LEAKY_VARS, assert_clean, error_kind, run_spell

from llmspell import Runtime, SpellError

#: The text the red team used: it closes the wrapper (check's had one more level) and reopens it.
BREAKOUT = "}); }); while(true){}; (function(){ (async function () {"
#: The same, allocating without end instead of spinning.
BREAKOUT_MEMORY = ("}); }); globalThis.keep = []; for (;;) keep.push('x'.repeat(1 << 20)); "
                   "(function(){ (async function () {")

ATTACKS = {
    "spin": BREAKOUT,
    "memory": BREAKOUT_MEMORY,
    "one level": "}); while(true){}; (async function () {",
    # Guessing a label-and-block wrapper instead of a function.
    "block": "} }); while(true){}; (function(){ L: {",
    "block and label": "}}}); while(true){}; (async function () { L: { {",
    # An HTML-like comment (QuickJS reads <!-- as code after an operand, a tree-sitter parser as a comment).
    "html comment": "a <!--b\n}); while(true){}; (function(){ (async function () {",
    # On a later line, after code that is fine.
    "later line": "const x = 1;\nlog.info('x');\n}); while(true){}; (async function () {",
    # Escaping at the end: the wrapper's closing text is swallowed by a comment the spell opens.
    "open comment": "}); while(true){}; /*",
    "template": "}); while(true){}; `",
}


def _env(cwd: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY_VARS}
    env["HOME"] = str(cwd)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def _check(cwd: Path, source: str, name: str = "spell.js") -> tuple[int, str, str, float]:
    (cwd / name).write_text(source, encoding="utf-8")
    started = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "llmspell", "check", name], cwd=cwd, env=_env(cwd),
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - started


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_check_refuses_text_that_closes_the_wrapper(tmp_path, attack):
    code, out, err, _ = _check(tmp_path, ATTACKS[attack])
    assert code == 1, (out, err)
    assert "ok" not in out
    assert error_kind(err) == "syntax_error", err
    assert err.startswith("spell.js:"), err  # the spell's file and line
    line = int(err.split(":", 2)[1])
    assert 1 <= line <= ATTACKS[attack].count("\n") + 1, err
    assert_clean(out, err)


@pytest.mark.parametrize("attack", list(ATTACKS))
@pytest.mark.parametrize("flags", [(), ("--max-instructions", "1000000")], ids=["plain", "counted"])
def test_run_refuses_text_that_closes_the_wrapper(tmp_path, attack, flags):
    # No --timeout: the default limit is minutes, so a run that executed the loop would hang the test.
    r = run_spell("js", ATTACKS[attack], *flags, cwd=tmp_path)
    assert r.code == 1 and r.kind == "syntax_error", r.err
    assert r.err.startswith("spell.js:"), r.err
    assert r.elapsed < 30


def test_runtime_check_refuses_it_too(tmp_path):
    (tmp_path / "s.js").write_text(BREAKOUT_MEMORY, encoding="utf-8")
    with pytest.raises(SpellError) as e:
        Runtime(cwd=tmp_path).check(tmp_path / "s.js")
    assert (e.value.kind, e.value.line) == ("syntax_error", 1)


def test_check_runs_nothing(tmp_path):
    # Valid text whose every statement would show that it ran: check must say ok and do nothing.
    source = "while (true) {}\nawait new Promise(() => {});\nreturn 1\n"
    code, out, err, _ = _check(tmp_path, source)
    assert (code, out, err) == (0, "spell.js: ok\n", "")


@pytest.mark.parametrize("source", [
    "const r = await Promise.resolve(41);\nreturn r + 1",        # top-level await and return
    "return",
    "function f() { return 1 }\nfunction f() { return 2 }\nreturn f()",
    "'use strict';\nlet x = 1;\nreturn x",
    "for await (const x of [1, 2]) { log.info(String(x)) }",
    "label: { break label }\nreturn 2 // a comment at the end",
    "const t = `multi\nline ${1 + 1}`;\nreturn t /* open and closed */",
])
def test_check_accepts_what_run_accepts(tmp_path, source):
    code, out, err, _ = _check(tmp_path, source)
    assert (code, out) == (0, "spell.js: ok\n"), err


@pytest.mark.parametrize("source, line, message", [
    ("const x = 1;\nconst y = = 2;\n", 2, "unexpected token"),
    ("let a;\nlet a;\n", 2, "redefinition"),
    ("'use strict';\nwith (Math) { max(1, 2) }\n", 2, "with"),
    ("const s = 1;\nif (s) {\n  log.info('x')\n", 3, ""),        # a block left open
    ("const s = 1;\n}\nreturn s\n", 2, "'}'"),                      # a '}' too many
])
def test_syntax_errors_name_file_and_line_in_check_and_run(tmp_path, source, line, message):
    code, _, err, _ = _check(tmp_path, source)
    assert code == 1 and error_kind(err) == "syntax_error", err
    assert err.startswith(f"spell.js:{line}:"), err
    assert message in err.splitlines()[0], err
    r = run_spell("js", source, cwd=tmp_path)
    assert r.code == 1 and r.kind == "syntax_error", r.err
    assert r.err.splitlines()[0] == err.splitlines()[0]


def test_the_one_rule_the_guard_adds_is_explained(tmp_path):
    # Compiled as a block first, a top-level function is lexical: a var of the same name is refused, with why.
    code, _, err, _ = _check(tmp_path, "var f = 1;\nfunction f() {}\nreturn f\n")
    assert code == 1 and err.startswith("spell.js:2:") and error_kind(err) == "syntax_error", err
    assert "hint: at a spell's top level a function is declared like a let" in err
