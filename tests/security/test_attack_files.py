"""Files beyond the path tricks: what an open file still allows, FIFOs, and the write quota.

- An open file keeps what its opening allowed: a file opened for reading under
  a read-only grant cannot be ``chmod``-ed, ``chown``-ed or written through
  (Tengo's file objects); ``O_RDWR`` needs read *and* write.
- A FIFO (or device) in a granted folder is refused at once by every read
  path -- Tengo's ``os``, the file tools, ``spell.require``, Tengo ``import``
  -- instead of blocking the spell until its time limit.
- ``--max-write`` bounds the bytes one run writes to files, every way it
  writes (the file tools in every language, Tengo's file objects, appends,
  ``truncate`` growing a file); the run ends with ``limit_exceeded`` naming
  the flag, and no ``pcall``/``try`` swallows it.
"""

from __future__ import annotations

import os
import stat

import pytest
from tests.security.conftest import LANGS, expect_error

READ_ONLY = ("--allow-read=allowed",)
RW = ("--allow-read=allowed", "--allow-write=allowed")


# -- an open file keeps what its opening allowed ------------------------------------------

@pytest.mark.parametrize("change", [
    "f.chmod(0777)", "f.chown(os.getuid(), os.getgid())", 'f.write_string("pwned")', 'f.write(bytes("pwned"))',
], ids=["chmod", "chown", "write_string", "write"])
def test_a_file_opened_for_reading_cannot_be_changed_through(spell, tree, change):
    target = tree.allowed / "inside.txt"
    target.chmod(0o644)
    source = f'os := import("os")\nf := os.open("allowed/inside.txt")\nx := {change}\nf.close()\nexport x\n'
    result = spell("tengo", source, *READ_ONLY)
    assert "error" in result.out + result.err, result
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert target.read_text() == "inside"


@pytest.mark.parametrize("flags", ["os.o_rdwr", "os.o_wronly", "os.o_rdonly | os.o_trunc", "os.o_rdonly | os.o_append"])
def test_opening_for_writing_needs_write_permission(spell, tree, flags):
    source = f'os := import("os")\nx := os.open_file("allowed/inside.txt", {flags}, 0)\nexport x\n'
    result = spell("tengo", source, *READ_ONLY)
    assert "permission_denied" in result.out + result.err and "--allow-write=" in result.out + result.err
    assert tree.allowed.joinpath("inside.txt").read_text() == "inside"


def test_reading_and_writing_needs_both(spell, tree):
    """``os.create`` opens read-write (as Go's): a write-only grant does not let the spell read back."""
    source = 'os := import("os")\nx := os.create("allowed/new.txt")\nexport x\n'
    result = spell("tengo", source, "--allow-write=allowed")
    assert "permission_denied" in result.out + result.err and "--allow-read=" in result.out + result.err
    assert not (tree.allowed / "new.txt").exists()


def test_a_file_opened_for_writing_may_change_its_mode(spell, tree):
    target = tree.allowed / "inside.txt"
    target.chmod(0o644)
    source = ('os := import("os")\nf := os.open_file("allowed/inside.txt", os.o_rdwr, 0)\n'
              'x := f.chmod(0600)\nf.close()\nexport x\n')
    result = spell("tengo", source, *RW)
    assert result.code == 0 and result.out.strip() == "true", result
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


# -- FIFOs are refused at once ---------------------------------------------------------------

@pytest.fixture
def fifo(tree):
    os.mkfifo(tree.allowed / "fifo")
    for ext in (".lua", ".js", ".tengo"):
        os.mkfifo(tree.allowed / f"fifo{ext}")
    return tree.allowed / "fifo"


@pytest.mark.parametrize("call", [
    'os.read_file("allowed/fifo")', 'os.open("allowed/fifo")', 'os.open_file("allowed/fifo", os.o_rdwr, 0)',
    'tools.file_read("allowed/fifo")',
], ids=["read_file", "open", "open_file", "file_read"])
def test_tengo_fifo_is_refused_at_once(spell, fifo, call):
    source = f'os := import("os")\nx := {call}\nexport x\n'
    result = spell("tengo", source, *RW, "--timeout", "20")
    assert result.kind != "timeout" and "timeout" not in result.out, result
    assert "invalid_argument" in result.out + result.err and "not a regular file" in result.out + result.err


@pytest.mark.parametrize("lang", LANGS)
def test_file_read_of_a_fifo_is_refused_at_once(spell, fifo, lang):
    source = 'return tools.file_read("allowed/fifo")' if lang == "lua" else \
        'return await tools.file_read("allowed/fifo")'
    expect_error(spell(lang, source, *RW, "--timeout", "20"), "invalid_argument", contains="not a regular file")


@pytest.mark.parametrize("lang", (*LANGS, "tengo"))
def test_require_of_a_fifo_is_refused_at_once(spell, fifo, lang):
    ext = {"lua": ".lua", "js": ".js", "tengo": ".tengo"}[lang]
    source = {"lua": f'return spell.require("./fifo{ext}")',
              "js": f'return await spell.require("./fifo{ext}")',
              "tengo": f'x := spell.require("./fifo{ext}")\nexport x\n'}[lang]
    result = spell(lang, source, "--timeout", "20", name="allowed/spell")
    assert result.kind != "timeout", result
    assert "invalid_argument" in result.out + result.err and "not a regular file" in result.out + result.err


def test_tengo_import_of_a_fifo_is_refused_at_once(spell, fifo):
    result = spell("tengo", 'm := import("./fifo")\nexport m\n', "--timeout", "20", name="allowed/spell")
    expect_error(result, "invalid_argument", contains="not a regular file")


# -- the write quota -----------------------------------------------------------------------

QUOTA = (*RW, "--max-write", "1MB", "--timeout", "60")
CHUNK = 64 * 1024


def _written(tree) -> int:
    return sum(p.stat().st_size for p in tree.allowed.rglob("*") if p.is_file() and not p.is_symlink())


@pytest.mark.parametrize("lang", (*LANGS, "tengo"))
def test_file_write_is_bounded_by_max_write(spell, tree, lang):
    """Each call writes a new 64 KiB file; the 16th goes past 1 MB.  Catching the
    error does not help: the run ends."""
    source = {
        "lua": f'local s = string.rep("x", {CHUNK})\n'
               'for i = 1, 100 do pcall(tools.file_write, "allowed/q" .. i, s) end\nreturn "done"',
        "js": f'const s = "x".repeat({CHUNK});\n'
              'for (let i = 1; i <= 100; i++) { try { await tools.file_write("allowed/q" + i, s); } catch (e) {} }\n'
              'return "done";',
        "tengo": f'text := import("text")\ns := text.repeat("x", {CHUNK})\n'
                 'for i := 1; i <= 100; i++ { tools.file_write("allowed/q" + i, s) }\nexport "done"\n',
    }[lang]
    before = _written(tree)
    result = spell(lang, source, *QUOTA)
    expect_error(result, "limit_exceeded", contains="--max-write")
    assert "done" not in result.out
    assert _written(tree) - before <= 1_000_000


@pytest.mark.parametrize("how", ["write", "write_string", "append", "truncate", "many_files"])
def test_tengo_os_writes_are_bounded_by_max_write(spell, tree, how):
    body = {
        "write": 'f := os.create("allowed/big")\nfor i := 0; i < 100; i++ { f.write(bytes(s)) }',
        "write_string": 'f := os.create("allowed/big")\nfor i := 0; i < 100; i++ { f.write_string(s) }',
        "append": 'for i := 0; i < 100; i++ {\n  f := os.open_file("allowed/big", os.o_wronly | os.o_append | '
                  'os.o_create, 0644)\n  f.write_string(s)\n  f.close()\n}',
        "truncate": 'x := os.truncate("allowed/inside.txt", 1 << 30)',
        "many_files": 'for i := 0; i < 100; i++ { f := os.create("allowed/f" + i); f.write_string(s); f.close() }',
    }[how]
    source = f'os := import("os")\ntext := import("text")\ns := text.repeat("x", {CHUNK})\n{body}\nexport "done"\n'
    before = _written(tree)
    result = spell("tengo", source, *QUOTA)
    expect_error(result, "limit_exceeded", contains="--max-write")
    assert _written(tree) - before <= 1_000_000
    assert tree.allowed.joinpath("inside.txt").stat().st_size == len("inside")


def test_writes_within_the_quota_work(spell, tree):
    source = 'for i = 1, 10 do tools.file_write("allowed/q" .. i, string.rep("x", 65536)) end\nreturn "done"'
    result = spell("lua", source, *QUOTA)
    assert result.code == 0 and result.out.strip() == "done", result.err
