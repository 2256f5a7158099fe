"""Host exceptions become the API's error kinds, in the spell's terms.

Spell inputs that used to surface as ``internal: UnicodeEncodeError: ...``,
``internal: RecursionError: ...``, ``internal: ValueError: ...`` or
``internal: OSError: [Errno 36] ... /site-packages/tzdata/...`` (a host
path) now get the kind the API names for them and a message about what the
spell did.  What is truly a bug of ours stays ``internal``, says so, and
names no Python class; its details go to the host's log with LLMSPELL_DEBUG=1.
"""

from __future__ import annotations

import errno
import logging
import re
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import pytest
from tests.security.conftest import run_spell

from llmspell import SpellError
from llmspell.bridges.base import Bridge, method
from llmspell.errors import host_error

#: A Python class name in what a user sees (UnicodeEncodeError, OSError, KeyError, ...).
_CLASS = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception|Warning)\b|\bKeyError\b|\bErrno\b")


def _cli(tmp_path: Path, lang: str, source: str):
    (tmp_path / "allowed").mkdir(exist_ok=True)
    return run_spell(lang, source, "--allow-read=allowed", "--allow-write=allowed", cwd=tmp_path)


def _expect(result, kind: str, *words: str) -> None:
    assert result.code == 1, result.out
    head = result.err.strip().splitlines()[0]
    assert f"{kind}: " in head, result.err
    assert "internal" not in head, result.err
    assert not _CLASS.search(result.err), result.err
    assert "site-packages" not in result.err and "tzdata" not in result.err, result.err
    for word in words:
        assert word in result.err, result.err


# -- real spell inputs that reached the host as Python exceptions ---------------------------

SURROGATE_WRITE = {
    # Lua strings are bytes: the UTF-8 form of a surrogate is Lua's lone surrogate.
    "lua": 'return tools.file_write("allowed/a.txt", "ok\\237\\160\\128").bytes',
    "js": 'return (await tools.file_write("allowed/a.txt", "ok\\udc00")).bytes',
    "tengo": 'export tools.file_write("allowed/a.txt", "ok" + string(char(56320))).bytes',
}


@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
def test_text_with_a_lone_surrogate_is_written_with_a_replacement_character(tmp_path, lang):
    """It was ``internal: UnicodeEncodeError``; the one rule (wellformed.py): U+FFFD in its place."""
    result = _cli(tmp_path, lang, SURROGATE_WRITE[lang])
    assert result.code == 0, result.err
    assert result.out.strip() == "5"
    assert (tmp_path / "allowed" / "a.txt").read_bytes() == "ok\ufffd".encode()


@pytest.mark.parametrize("lang", ["js", "tengo"])
def test_require_of_a_path_with_a_lone_surrogate_names_the_replacement_character(tmp_path, lang):
    source = {"js": 'return spell.require("./\\ud800.js")',
              "tengo": 'export spell.require("./" + string(char(55296)) + ".tengo")'}[lang]
    _expect(_cli(tmp_path, lang, source), "not_found", "\ufffd")


DEEP_JSON = {
    "lua": 'return json.decode(string.rep("[", 100000))',
    "js": 'return json.decode("[".repeat(100000))',
    "tengo": 'text := import("text")\nexport json.decode(text.repeat("[", 100000))',
}


@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
def test_json_nested_past_the_hosts_depth_is_invalid_argument(tmp_path, lang):
    _expect(_cli(tmp_path, lang, DEEP_JSON[lang]), "invalid_argument", "json.decode")


@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
def test_json_number_with_too_many_digits_reads_as_infinity_in_every_language(tmp_path, lang):
    # An integer beyond int64 reads as the nearest float, as JavaScript's JSON.parse reads it.
    source = {"lua": 'return json.decode(string.rep("1", 5000)) == math.huge',
              "js": 'return json.decode("1".repeat(5000)) === Infinity',
              "tengo": 'text := import("text")\nmath := import("math")\n'
                       'export json.decode(text.repeat("1", 5000)) == math.inf(1)'}[lang]
    result = _cli(tmp_path, lang, source)
    assert (result.code, result.out.strip(), result.err) == (0, "true", "")


TIME_ZONE = {
    "lua": 'return tools.datetime(string.rep("%Y", 200))',
    "js": 'return await tools.datetime("%Y".repeat(200))',
    "tengo": 'text := import("text")\nexport tools.datetime(text.repeat("%Y", 200))',
}


@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
def test_a_time_zone_name_too_long_for_the_file_system_is_invalid_argument(tmp_path, lang):
    """It was ``internal: OSError: [Errno 36] File name too long: '/.../site-packages/tzdata/...'``:
    a host path in the spell's hands."""
    _expect(_cli(tmp_path, lang, TIME_ZONE[lang]), "invalid_argument", "tools.datetime: ", "too long")


@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
def test_mapped_errors_can_be_caught_as_their_kind(tmp_path, lang):
    source = {
        "lua": 'local ok, e = pcall(tools.datetime, string.rep("%Y", 200))\nreturn e.kind',
        "js": 'try { await tools.datetime("%Y".repeat(200)) } catch (e) { return e.kind }',
        "tengo": 'text := import("text")\nr := tools.datetime(text.repeat("%Y", 200))\nexport r.value.kind',
    }[lang]
    result = _cli(tmp_path, lang, source)
    assert result.code == 0, result.err
    assert result.out.strip() == "invalid_argument"


@pytest.mark.parametrize("command", ["run", "check"])
def test_a_spell_file_that_is_not_utf8_is_invalid_argument(isolated, command):
    """``check`` said ``internal error: UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff``."""
    (isolated.cwd / "bad.lua").write_bytes(b"return '\xff\xfe'\n")
    p = isolated.cli(command, "bad.lua")
    assert p.returncode == 1, p.stderr
    assert p.stderr.startswith("invalid_argument: bad.lua: cannot read it: the data is not valid UTF-8 text"), p.stderr
    assert not _CLASS.search(p.stderr) and "codec" not in p.stderr, p.stderr


def test_a_reader_that_goes_away_ends_the_run_quietly(isolated):
    """``llmspell run s.lua | head -1``: the pipe closes; that is not a tool_error
    nor an internal error, and no traceback."""
    isolated.write("many.lua", 'for i = 1, 100000 do print("line " .. i) end')
    proc = subprocess.Popen([sys.executable, "-m", "llmspell", "run", "many.lua"], cwd=isolated.cwd,
                            env=isolated.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline() == b"line 1\n"
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 1
    assert err == "", err


# -- a true bug stays internal, says so, and keeps its details for the host ----------------


class Buggy(Bridge):
    """An embedder's bridge with bugs in it."""

    name = "buggy"

    @method
    def lookup(self, key: Annotated[str, "a key"]) -> Any:
        """Index a dict that lacks the key."""
        return {}[key]

    @method
    def first(self, key: Annotated[str, "a key"]) -> Any:
        """Index an empty list."""
        return [][0]


BUGGY = {
    "lua": 'local ok, e = pcall(buggy.lookup, "k")\nlocal ok2, e2 = pcall(buggy.first, "k")\n'
           'return {e.kind, e.message, e2.message}',
    "javascript": 'const r = []\ntry { await buggy.lookup("k") } catch (e) { r.push(e.kind, e.message) }\n'
                  'try { await buggy.first("k") } catch (e) { r.push(e.message) }\nreturn r',
    "tengo": 'a := buggy.lookup("k")\nb := buggy.first("k")\nexport [a.value.kind, a.value.message, b.value.message]',
}


@pytest.mark.parametrize("lang", ["lua", "javascript", "tengo"])
@pytest.mark.parametrize("isolation", ["process", "inline"])
def test_a_host_bug_is_internal_without_a_class_name(isolated, lang, isolation):
    rt, _ = isolated.runtime(isolation=isolation)
    rt.add_bridge("buggy", Buggy)
    kind, message, other = rt.run(source=BUGGY[lang], language=lang)
    assert kind == "internal"
    assert message == "buggy.lookup: an internal error in llmspell"
    assert other == "buggy.first: an internal error in llmspell"


def test_a_host_bug_keeps_its_details_for_the_debug_log(isolated, caplog):
    rt, _ = isolated.runtime(isolation="inline")
    rt.add_bridge("buggy", Buggy)
    with caplog.at_level(logging.DEBUG, logger="llmspell"):
        with pytest.raises(SpellError) as info:
            rt.run(source='buggy.lookup("secret-key")', language="lua")
    assert info.value.kind == "internal"
    assert "LLMSPELL_DEBUG=1" in (info.value.hint or "")
    assert "KeyError" not in info.value.render() and "secret-key" not in info.value.render()
    records = [r for r in caplog.records if r.exc_info and r.exc_info[0] is KeyError]
    assert records, caplog.text
    assert "buggy.lookup" in records[0].getMessage()


# -- the mapping itself ---------------------------------------------------------------------

@pytest.mark.parametrize("exc,kind", [
    (MemoryError(), "memory_limit"),
    (RecursionError("maximum recursion depth exceeded"), "invalid_argument"),
    (OverflowError("int too large to convert"), "invalid_argument"),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), "invalid_argument"),
    (FileNotFoundError(errno.ENOENT, "No such file or directory", "/host/secret/path"), "not_found"),
    (PermissionError(errno.EACCES, "Permission denied", "/host/secret/path"), "permission_denied"),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "/host/secret/path"), "invalid_argument"),
    (OSError(errno.ENOSPC, "No space left on device", "/host/secret/path"), "tool_error"),
    (OSError(errno.EPROTO, "Protocol error", "/host/secret/path"), "tool_error"),
    (TimeoutError(), "timeout"),
    (ConnectionResetError(errno.ECONNRESET, "reset"), "tool_error"),
    (ValueError("embedded null byte"), "invalid_argument"),
    (KeyError("x"), "internal"),
    (IndexError("list index out of range"), "internal"),
    (TypeError("unsupported operand"), "internal"),
    (AttributeError("'NoneType' object has no attribute 'x'"), "internal"),
])
def test_host_error_maps_every_exception_to_a_kind_in_the_spells_terms(exc, kind):
    err = host_error(exc, "tools.thing")
    assert err.kind == kind
    assert err.message.startswith("tools.thing: ")
    text = err.render()
    assert not _CLASS.search(text), text
    assert "/host/secret/path" not in text
    if kind == "internal":
        assert err.message == "tools.thing: an internal error in llmspell"
        assert "LLMSPELL_DEBUG=1" in err.hint
    if kind == "memory_limit":
        assert getattr(err, "run_limit", False)


def test_a_spell_error_passes_unchanged():
    err = SpellError("not_found", "x")
    assert host_error(err, "where") is err
