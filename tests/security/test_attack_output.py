"""Red team: a spell floods or forges what the user reads.

Everything a spell can make the host write where a person reads it (print,
console.log, fmt.println, log.* / logger.*, console.error/warn) comes out of
one ``--max-output`` budget, is refused before it is written when it does
not fit, and ends the run whatever the spell catches.  Log records and the
error report are the host's: each is exactly one line, whatever newlines or
terminal escape sequences the spell puts in its messages.  Printed output is
the spell's own data: unchanged through a pipe, but never able to drive the
user's terminal.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys

import pytest
from tests.security.conftest import EXT, assert_clean, expect_error

ALL = ("lua", "js", "tengo")
LIMIT = 100_000
#: Room for the CLI's own error report (a few lines) on top of what the spell may write.
REPORT = 2_000

# -- floods ---------------------------------------------------------------------------

#: Log floods that catch every error they can: the limit must end the run anyway.
FLOODS = [
    ("lua", "log_error_1mb", 'for i = 1, 300 do pcall(log.error, string.rep("x", 1 << 20)) end\nreturn "survived"'),
    ("lua", "logger_warn_loop", 'for i = 1, 100000 do pcall(logger.warn, "line " .. i) end\nreturn "survived"'),
    ("lua", "fields", 'for i = 1, 100000 do pcall(log.error, "m", {data = string.rep("y", 4096)}) end\n'
                      'return "survived"'),
    ("js", "log_error", 'for (let i = 0; i < 100000; i++) { try { await log.error("line " + i) } catch (e) {} }\n'
                        'return "survived"'),
    ("js", "log_error_unawaited", 'for (let i = 0; i < 100000; i++) { try { log.error("line " + i) } catch (e) {} }\n'
                                  'return "survived"'),
    ("js", "console_error", 'for (let i = 0; i < 100000; i++) { try { console.error("line " + i) } catch (e) {} }\n'
                            'return "survived"'),
    ("js", "console_warn", 'for (let i = 0; i < 100000; i++) { try { console.warn("line " + i) } catch (e) {} }\n'
                           'return "survived"'),
    ("js", "logger_warn_fields", 'for (let i = 0; i < 100000; i++) {\n'
                                 '  try { await logger.warn("m", {data: "y".repeat(400)}) } catch (e) {} }\n'
                                 'return "survived"'),
    ("tengo", "log_error_1mb", 'text := import("text")\n'
                               'for i := 0; i < 300; i++ { log.error(text.repeat("x", 1 << 20)) }\nexport "survived"'),
    ("tengo", "logger_warn_loop", 'for i := 0; i < 100000; i++ { logger.warn("line " + string(i)) }\n'
                                  'export "survived"'),
]


@pytest.mark.parametrize("lang,source", [f[::2] for f in FLOODS], ids=[f"{f[0]}-{f[1]}" for f in FLOODS])
def test_log_flood_is_limit_exceeded(spell, lang, source):
    result = spell(lang, source, "--max-output", str(LIMIT), "--timeout", "30")
    assert result.code == 1, result.out
    # The log records come first; the report of the error follows them.
    report = result.err[result.err.index("limit_exceeded: "):]
    assert report.startswith("limit_exceeded: the spell printed or logged more than its output limit of 100000 "
                             "bytes"), report
    assert "--max-output" in report and "\nWARNING " not in report and "\nERROR " not in report
    assert "survived" not in result.out
    assert len(result.err.encode()) < LIMIT + REPORT, f"{len(result.err)} bytes reached stderr"


HUGE = {
    "lua": 'log.error(string.rep("x", 5000))',
    # (under 511 characters: longer JavaScript strings to a bridge are issue 8's first part, tested there)
    "js": 'await log.error("x".repeat(480))',
    "tengo": 'text := import("text")\nlog.error(text.repeat("x", 5000))',
}


@pytest.mark.parametrize("lang", ALL)
def test_one_huge_log_message_is_refused_before_it_is_written(spell, lang):
    result = spell(lang, HUGE[lang], "--max-output", "300")
    expect_error(result, "limit_exceeded", contains="--max-output")
    assert "xxxxxxxxxx" not in result.err  # nothing of it was written first


SHARED = {
    "lua": 'print(string.rep("p", 600))\nlog.warn(string.rep("l", 600))\nreturn "survived"',
    "js": 'console.log("p".repeat(600))\nawait log.warn("l".repeat(300) + "m".repeat(300))\nreturn "survived"',
    "tengo": 'text := import("text")\nfmt.println(text.repeat("p", 600))\nlog.warn(text.repeat("l", 600))\n'
             'export "survived"',
}


@pytest.mark.parametrize("lang", ALL)
def test_print_and_log_share_one_budget(spell, lang):
    result = spell(lang, SHARED[lang], "--max-output", "1000")
    expect_error(result, "limit_exceeded", contains="--max-output")
    assert "survived" not in result.out and "lllll" not in result.err


AFTER_CAUGHT = {
    "lua": 'pcall(print, string.rep("x", 5000))\nprint("small")\nreturn "survived"',
    "js": 'try { await log.error("x".repeat(480)) } catch (e) {}\n'
          'console.log("small")\nreturn "survived"',
    "tengo": 'text := import("text")\nlog.error(text.repeat("x", 5000))\nfmt.println("small")\nexport "survived"',
}


@pytest.mark.parametrize("lang", ALL)
def test_output_limit_ends_the_run_even_when_caught(spell, lang):
    result = spell(lang, AFTER_CAUGHT[lang], "--max-output", "300")
    expect_error(result, "limit_exceeded", contains="--max-output")
    assert "small" not in result.out and "survived" not in result.out


def test_debug_lines_that_are_not_written_cost_nothing(spell):
    # Below the log level nothing is written, so nothing is charged.
    source = 'for i = 1, 1000 do log.debug(string.rep("d", 1000)) end\nprint("ok")'
    result = spell("lua", source, "--max-output", "1000")
    assert result.code == 0, result.err
    assert result.out == "ok\n"


@pytest.mark.parametrize("lang", ALL)
def test_result_shares_the_output_budget(spell, lang):
    source = {"lua": 'return string.rep("r", 5000)', "js": 'return "r".repeat(5000)',
              "tengo": 'text := import("text")\nexport text.repeat("r", 5000)'}[lang]
    result = spell(lang, source, "--max-output", "1000")
    expect_error(result, "limit_exceeded", contains="--max-output")
    assert "rrrrr" not in result.out


def test_the_cli_counts_output_again_in_case_the_worker_does_not(tree, monkeypatch, capsys):
    """A worker whose VM is broken could skip the host's accounting: the CLI,
    in the parent, counts what reaches stdout against the same limit."""
    from llmspell import cli
    from llmspell.host import SpellRun

    monkeypatch.chdir(tree.root)
    monkeypatch.setattr(SpellRun, "charge_output", lambda self, text, extra=0: None)  # the worker forgets
    (tree.root / "flood.lua").write_text('for i = 1, 100 do print(string.rep("x", 99)) end\nreturn "survived"')
    assert cli.main(["run", "flood.lua", "--max-output", "1000"]) == 1
    out, err = capsys.readouterr()
    assert len(out.encode()) <= 1000 and "survived" not in out
    assert "limit_exceeded" in err and "--max-output" in err


# -- forged log lines -------------------------------------------------------------------

#: Each spell makes exactly four log records, full of line breaks and terminal controls.
FORGERS = {
    "lua": r'''
log.error("ok\n[llmspell] ERROR forged-1", {note = "a\nERROR forged-2", ["k\nERROR forged-3"] = 1})
log.warn("cr\rERROR forged-4 \27[2K\27[1G\27]0;title\7 \27]52;c;cHduZWQ=\7")
logger.error("ls\226\128\168ERROR forged-5 c1\194\155 31m bidi\226\128\174 del\127 nul\0 end")
log.error("tab\tand\r\nERROR forged-6")
''',
    "js": r'''
await log.error("ok\n[llmspell] ERROR forged-1", {note: "a\nERROR forged-2", ["k\nERROR forged-3"]: 1})
console.warn("cr\rERROR forged-4 \x1b[2K\x1b[1G\x1b]0;title\x07 \x1b]52;c;cHduZWQ=\x07")
await logger.error("ls\u2028ERROR forged-5 c1\u009b 31m bidi\u202e del\x7f nul\0 end")
console.error("tab\tand\r\nERROR forged-6")
''',
    "tengo": r'''
log.error("ok\n[llmspell] ERROR forged-1", {note: "a\nERROR forged-2", "k\nERROR forged-3": 1})
log.warn("cr\rERROR forged-4 \x1b[2K\x1b[1G\x1b]0;title\x07 \x1b]52;c;cHduZWQ=\x07")
logger.error("ls\u2028ERROR forged-5 c1\u009b 31m bidi\u202e del\x7f nul\x00 end")
log.error("tab\tand\r\nERROR forged-6")
''',
}
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@pytest.mark.parametrize("lang", ALL)
def test_log_records_are_one_line_each(spell, lang):
    result = spell(lang, FORGERS[lang])
    assert result.code == 0, result.err
    lines = result.err.split("\n")
    assert lines[-1] == ""
    lines = lines[:-1]
    assert len(lines) == 4, lines
    for line, level in zip(lines, ("ERROR", "WARNING", "ERROR", "ERROR"), strict=True):
        assert line.startswith(f"{level} spell{EXT[lang]}: "), line
    assert not any(line.startswith(("ERROR forged", "[llmspell]")) for line in lines)
    assert not _CONTROL.search(result.err), repr(result.err)
    assert "\r" not in result.err and "\t" not in result.err
    # The escapes say what was there.
    assert "ok\\n[llmspell] ERROR forged-1" in lines[0] and "\\nERROR forged-2" in lines[0]
    assert "\\x1b]52;c;" in lines[1] and "\\u2028" in lines[2] and "\\u202e" in lines[2]


ERRORS = {
    "lua": 'error("boom\\n[llmspell] ERROR forged \\27[31mred\\27[0m")',
    "js": 'throw new Error("boom\\n[llmspell] ERROR forged \\x1b[31mred\\x1b[0m")',
    "tengo": 'export error({kind: "runtime_error", message: "boom\\n[llmspell] ERROR forged \\x1b[31mred\\x1b[0m"})',
}


@pytest.mark.parametrize("lang", ALL)
def test_error_report_lines_cannot_be_forged(spell, lang):
    result = spell(lang, ERRORS[lang])
    assert result.code == 1
    first = result.err.splitlines()[0]
    assert "boom\\n[llmspell] ERROR forged \\x1b[31mred" in first, result.err
    assert not any(line.startswith("[llmspell]") for line in result.err.splitlines())
    assert "\x1b" not in result.err


HUGE_ERRORS = {
    "lua": 'error(string.rep("x", 10000000))',
    "js": 'throw new Error("x".repeat(10000000))',
    "tengo": 'text := import("text")\nexport error({kind: "runtime_error", message: text.repeat("x", 10000000)})',
}


@pytest.mark.parametrize("lang", ALL)
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_a_huge_error_message_is_clipped_in_the_report(spell, lang, as_json):
    """The error report is outside the output budget (it must always be shown),
    so what it shows of the spell's message is bounded: 10 MB of message is not
    10 MB on stderr."""
    result = spell(lang, HUGE_ERRORS[lang], *(["--json"] if as_json else []))
    assert result.code == 1
    assert "x" * 1000 in result.err and "more characters)" in result.err
    assert len(result.err) + len(result.out) < 20_000, len(result.err)


# -- printed output: the spell's data ----------------------------------------------------

PRINTS = {
    "lua": 'print("a\\27]52;c;cHduZWQ=\\7b\\27[2Jc\\tT\\rR")',
    "js": 'console.log("a\\x1b]52;c;cHduZWQ=\\x07b\\x1b[2Jc\\tT\\rR")',
    "tengo": 'fmt.println("a\\x1b]52;c;cHduZWQ=\\x07b\\x1b[2Jc\\tT\\rR")',
}
RAW = "a\x1b]52;c;cHduZWQ=\x07b\x1b[2Jc\tT\rR\n"


@pytest.mark.parametrize("lang", ALL)
def test_printed_output_is_unchanged_through_a_pipe(tree, lang):
    """Through a pipe or into a file, print output is the spell's data, byte for byte."""
    path = tree.root / f"p{EXT[lang]}"
    path.write_text(PRINTS[lang])
    proc = subprocess.run([sys.executable, "-m", "llmspell", "run", path.name], cwd=tree.root, capture_output=True,
                          env=_env(tree))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == RAW.encode()


@pytest.mark.parametrize("lang", ALL)
def test_printed_output_cannot_drive_a_terminal(tree, lang):
    """On a terminal, the escape sequences are shown, not obeyed: no OSC 52
    clipboard write, no screen clear; tab, CR and newline still work."""
    path = tree.root / f"p{EXT[lang]}"
    path.write_text(PRINTS[lang])
    shown = _run_on_terminal(tree, path.name)
    assert b"\x1b" not in shown and b"\x07" not in shown, shown
    assert b"a\\x1b]52;c;cHduZWQ=\\x07b\\x1b[2Jc\tT\r" in shown


@pytest.mark.parametrize("lang", ["js", "tengo"])
def test_lone_surrogates_print_as_replacement_characters(spell, lang):
    """A JavaScript or Tengo string can hold half of a UTF-16 pair, which has
    no UTF-8 form: printed or returned, it shows as U+FFFD (it crashed the CLI's
    output before)."""
    source = {"js": 'console.log("a\\ud800b")\nreturn "c\\udfffd"',
              "tengo": 'fmt.println("a" + string(char(55296)) + "b")\nexport "c" + string(char(57343)) + "d"'}[lang]
    result = spell(lang, source)
    assert result.code == 0, result.err
    assert result.out == "a\ufffdb\nc\ufffdd\n"


def _env(tree) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("LLMSPELL_DEBUG", "LLMSPELL_CONFIG")}
    env.update(HOME=str(tree.root / "home"), PYTHONIOENCODING="utf-8")
    return env


def _run_on_terminal(tree, name: str) -> bytes:
    """Run the CLI with its stdout on a pseudo-terminal; what the terminal got."""
    main, sub = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "llmspell", "run", name], cwd=tree.root, stdout=sub,
                                stderr=subprocess.PIPE, env=_env(tree))
        os.close(sub)
        chunks = []
        while True:
            try:
                chunk = os.read(main, 65536)
            except OSError:  # EIO: the other side closed
                break
            if not chunk:
                break
            chunks.append(chunk)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert_clean(err.decode())
    finally:
        os.close(main)
    # The terminal turns "\n" into "\r\n" (onlcr): undo that to compare.
    return b"".join(chunks).replace(b"\r\n", b"\n")
