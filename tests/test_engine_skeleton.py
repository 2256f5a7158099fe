"""What every engine shares through the skeleton (engines/base.py and the
modules beside it) reads the same in every language: the limits of the run
end it with the same error, naming the spell, whatever the VM."""

from __future__ import annotations

import json

import pytest

BUSY = {
    "lua": "local n = 0 while true do n = n + 1 end",
    "js": "let n = 0; while (true) n++;",
    "tengo": "n := 0\nfor { n++ }",
}


@pytest.mark.parametrize("lang", sorted(BUSY))
def test_the_instruction_limit_reads_the_same_in_every_language(isolated, lang):
    isolated.write(f"busy.{lang}", BUSY[lang])
    p = isolated.cli("run", f"busy.{lang}", "--json", "--max-instructions", "100000", "--timeout", "20")
    assert p.returncode == 1
    error = json.loads(p.stdout)["error"]
    assert error["kind"] == "limit_exceeded"
    assert error["message"].startswith("the spell ran more than its limit of 100000 instructions")
    assert error["where"] == f"busy.{lang}"
    assert "hint: raise it with --max-instructions N" in p.stderr
    isolated.no_traceback(p.stdout, p.stderr)


@pytest.mark.parametrize("lang", sorted(BUSY))
def test_the_deadline_reads_the_same_in_every_language(isolated, lang):
    isolated.write(f"busy.{lang}", BUSY[lang])
    p = isolated.cli("run", f"busy.{lang}", "--json", "--timeout", "1")
    assert p.returncode == 1
    error = json.loads(p.stdout)["error"]
    # (on a loaded machine the worker may have to stop it by force, which the message then adds)
    assert (error["kind"], error["where"]) == ("timeout", f"busy.{lang}")
    assert error["message"].startswith("the spell ran longer than its time limit of 1s")
    assert "hint: raise it with --timeout SECONDS if the spell needs longer" in p.stderr


@pytest.mark.parametrize(("lang", "source"), [
    ("lua", "local ok, e = pcall(function() local n = 0 while true do n = n + 1 end end)\nreturn 'kept'"),
    ("js", "try { while (true) {} } catch (e) {}\nreturn 'kept'"),
])
def test_a_limit_cannot_be_caught(isolated, lang, source):
    isolated.write(f"catch.{lang}", source)
    p = isolated.cli("run", f"catch.{lang}", "--json", "--max-instructions", "100000", "--timeout", "20")
    assert p.returncode == 1, p.stdout
    assert json.loads(p.stdout)["error"]["kind"] == "limit_exceeded"
