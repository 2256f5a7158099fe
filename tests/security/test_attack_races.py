"""Check-then-use races: a folder inside the grant swapped for a symbolic link while a spell works.

A second party (here a thread of the test, standing for another process that
shares the folder) exchanges ``allowed/d`` (a real folder) with ``allowed/dx``
(a link to ``outside/``) with ``renameat2(RENAME_EXCHANGE)`` as fast as it can,
for the whole run, while the spell loops over one file operation under
``allowed/d``.  Whatever order check and use meet the swap in, nothing
outside the grant may be read (its content never appears), written, created,
removed or renamed (a snapshot of ``outside/`` is unchanged).

Every surface that reaches a file takes part: Tengo's ``os`` module, the file
tools, ``spell.require`` (Lua, JavaScript, Tengo) and Tengo's ``import``.
Each run lasts about two seconds; the spell prints how many operations
succeeded and failed, so a test also proves the race was really run.

These hold the VM's own line: the kernel's confinement of the worker
(Landlock, which would refuse a write outside the grant by itself) is turned
off for them with ``LLMSPELL_CONFINE=0``.
"""

from __future__ import annotations

import ctypes
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from tests.security.conftest import LANGS, Tree, run_spell

SECRET = "OUTSIDE-SECRET-CONTENT"
INSIDE = "inside"
RW = ("--allow-read=allowed", "--allow-write=allowed", "--timeout", "20")
#: How long a spell loops (seconds).
LOOP_SECONDS = 1.5
#: Where the raced files are below ``d``: deep, so that resolving the rest of the path after
#: ``d`` takes long enough for a swap to land between the check and the use.
DEEP = "etc/" + "/".join(["x"] * 300)

_AT_FDCWD = -100
_RENAME_EXCHANGE = 2
_libc = ctypes.CDLL(None, use_errno=True)


def _exchange(a: bytes, b: bytes) -> int:
    return _libc.renameat2(_AT_FDCWD, a, _AT_FDCWD, b, _RENAME_EXCHANGE)


@contextmanager
def swapping(a: Path, b: Path) -> Iterator[dict]:
    """Exchange ``a`` and ``b`` in a loop until the block ends; they end as they began."""
    stop = threading.Event()
    stats = {"swaps": 0}
    first, second = os.fsencode(a), os.fsencode(b)

    def loop() -> None:
        while not stop.is_set():
            if _exchange(first, second) != 0:
                raise OSError(ctypes.get_errno(), "renameat2")
            stats["swaps"] += 1

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield stats
    finally:
        stop.set()
        thread.join()
        if stats["swaps"] % 2:
            _exchange(first, second)
    assert stats["swaps"] > 100, "the swapper did not run"


@pytest.fixture
def spell(tree: Tree):
    """As conftest's ``spell``, with the worker's kernel confinement off (see above)."""

    def run(lang: str, source: str, *flags: str, **kwargs):
        return run_spell(lang, source, *flags, cwd=tree.root, env={"LLMSPELL_CONFINE": "0"}, **kwargs)

    return run


@pytest.fixture
def raced(tree: Tree) -> Tree:
    """allowed/d/DEEP/hostname (inside) and outside/DEEP/hostname (the secret);
    allowed/dx -> outside, the link swapped with allowed/d."""
    (tree.allowed / "d" / DEEP).mkdir(parents=True)
    (tree.allowed / "d" / DEEP / "hostname").write_text(INSIDE)
    (tree.outside / DEEP).mkdir(parents=True)
    (tree.outside / DEEP / "hostname").write_text(SECRET)
    (tree.allowed / "dx").symlink_to(tree.outside)
    return tree


def _deep(source: str) -> str:
    """Spells name the raced files as d/etc/...: the real place is d/DEEP/..."""
    return source if DEEP in source else source.replace("d/etc/", f"d/{DEEP}/")


def _race(tree: Tree, run) -> tuple:
    """Run ``run()`` with the swap going; returns its result, with the outside snapshot checked."""
    before = tree.snapshot()
    with swapping(tree.allowed / "d", tree.allowed / "dx"):
        result = run()
    assert tree.snapshot() == before, "something outside the grant changed"
    return result


def _counts(out: str) -> dict[str, int]:
    for line in out.splitlines():
        if line.startswith("counts "):
            return {k: int(v) for k, v in (item.split("=") for item in line.split()[1:])}
    raise AssertionError(f"no counts in {out!r}")


def _tengo_loop(body: str, setup: str = "") -> str:
    """A Tengo spell that runs ``body`` (with ``i`` the iteration) for LOOP_SECONDS;
    ``body`` sets ``ok`` (true: it worked) and may set ``leak`` (true: it saw outside)."""
    return _deep(f"""
os := import("os")
times := import("times")
fmt := import("fmt")
{setup}
start := times.now()
good := 0
bad := 0
leaks := 0
for i := 0; times.since(start) < {int(LOOP_SECONDS * 1e9)}; i++ {{
    ok := false
    leak := false
    {body}
    if leak {{ leaks += 1 }}
    if ok {{ good += 1 }} else {{ bad += 1 }}
}}
fmt.println("counts good=" + string(good) + " bad=" + string(bad) + " leaks=" + string(leaks))
""")


def _check_race(result, *, need_good: bool = True) -> dict[str, int]:
    assert result.code == 0, result.err
    assert SECRET not in result.out + result.err
    counts = _counts(result.out)
    print(counts)  # shown with -s: how hard the race was run
    assert counts.get("leaks", 0) == 0, counts
    if need_good:
        assert counts["good"] > 0, f"nothing succeeded: the race was not run ({counts})"
    assert counts["bad"] > 0, f"nothing failed: the swap never met the spell ({counts})"
    return counts


# -- Tengo's os module ----------------------------------------------------------------

def test_tengo_read_file_never_reads_through_a_swapped_link(spell, raced):
    body = """
    v := os.read_file("allowed/d/etc/hostname")
    if !is_error(v) {
        ok = true
        if string(v) != "inside" { leak = true; fmt.println(string(v)) }
    }"""
    _check_race(_race(raced, lambda: spell("tengo", _tengo_loop(body), *RW)))


def test_tengo_open_never_reads_through_a_swapped_link(spell, raced):
    body = """
    f := os.open("allowed/d/etc/hostname")
    if !is_error(f) {
        buf := bytes(64)
        n := f.read(buf)
        f.close()
        if !is_error(n) {
            ok = true
            if string(buf[:n]) != "inside" { leak = true; fmt.println(string(buf[:n])) }
        }
    }"""
    _check_race(_race(raced, lambda: spell("tengo", _tengo_loop(body), *RW)))


def test_tengo_stat_never_describes_a_file_outside(spell, raced):
    body = """
    st := os.stat("allowed/d/etc/hostname")
    if !is_error(st) {
        ok = true
        if st.size != 6 { leak = true }
    }"""
    _check_race(_race(raced, lambda: spell("tengo", _tengo_loop(body), *RW)))


@pytest.mark.parametrize("how", ["create", "open_file", "mkdir", "mkdir_all", "symlink"])
def test_tengo_never_creates_outside_through_a_swapped_link(spell, raced, how):
    body = {
        "create": 'f := os.create("allowed/d/etc/w" + i)\n'
                  '    if !is_error(f) { f.write_string("x"); f.close(); ok = true }',
        "open_file": 'f := os.open_file("allowed/d/etc/w" + i, os.o_wronly | os.o_create | os.o_excl, 0644)\n'
                     '    if !is_error(f) { f.write_string("x"); f.close(); ok = true }',
        "mkdir": 'ok = !is_error(os.mkdir("allowed/d/etc/w" + i, 0755))',
        "mkdir_all": 'ok = !is_error(os.mkdir_all("allowed/d/etc/w" + i + "/x", 0755))',
        "symlink": 'ok = !is_error(os.symlink(os.getwd() + "/allowed/inside.txt", "allowed/d/etc/w" + i))',
    }[how]
    _check_race(_race(raced, lambda: spell("tengo", _tengo_loop(body), *RW)))


@pytest.mark.parametrize("how", ["write_file", "append", "truncate", "chmod"])
def test_tengo_never_changes_an_outside_file_through_a_swapped_link(spell, raced, how):
    body = {
        "write_file": 'f := os.open_file("allowed/d/etc/hostname", os.o_wronly | os.o_trunc, 0)\n'
                      '    if !is_error(f) { f.write_string("inside"); f.close(); ok = true }',
        "append": 'f := os.open_file("allowed/d/etc/hostname", os.o_wronly | os.o_append, 0)\n'
                  '    if !is_error(f) { f.write_string("x"); f.close(); ok = true }',
        "truncate": 'ok = !is_error(os.truncate("allowed/d/etc/hostname", 6))',
        "chmod": 'ok = !is_error(os.chmod("allowed/d/etc/hostname", 0600))',
    }[how]
    outside = raced.outside / DEEP / "hostname"
    outside.chmod(0o644)
    _check_race(_race(raced, lambda: spell("tengo", _tengo_loop(body), *RW)))
    assert outside.read_text() == SECRET
    assert outside.stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("how", ["remove", "remove_all", "rename_from", "rename_to", "link"])
def test_tengo_never_removes_or_moves_outside_through_a_swapped_link(spell, raced, how):
    count = 400
    for i in range(count):  # a victim per iteration, inside and outside, and a file to move
        (raced.allowed / "d" / DEEP / f"v{i}").write_text(INSIDE)
        (raced.outside / DEEP / f"v{i}").write_text(SECRET)
        (raced.allowed / f"s{i}").write_text(INSIDE)
    body = {
        "remove": 'ok = !is_error(os.remove("allowed/d/etc/v" + i))',
        "remove_all": 'ok = !is_error(os.remove_all("allowed/d/etc/v" + i))',
        "rename_from": 'ok = !is_error(os.rename("allowed/d/etc/v" + i, "allowed/got" + i))\n'
                       '        if ok { leak = string(os.read_file("allowed/got" + i)) != "inside" }',
        "rename_to": 'ok = !is_error(os.rename("allowed/s" + i, "allowed/d/etc/v" + i))',
        "link": 'ok = !is_error(os.link("allowed/d/etc/v" + i, "allowed/got" + i))\n'
                '        if ok { leak = string(os.read_file("allowed/got" + i)) != "inside" }',
    }[how]
    body = f"if i < {count} {{\n        {body}\n    }} else {{ break }}"
    _check_race(_race(raced, lambda: spell("tengo", _tengo_loop(body), *RW)))
    for i in range(count):
        assert (raced.outside / DEEP / f"v{i}").read_text() == SECRET


# -- the file tools (already link-safe: these hold before and after) ---------------------

def _tool_loop(lang: str, call: str, check: str) -> str:
    if lang == "lua":  # os.time has whole seconds: the loop lasts one to two
        return f"""
local good, bad, leaks, i = 0, 0, 0, 0
local t0 = os.time()
while os.time() - t0 < 2 do
  i = i + 1
  local ok, v = pcall(function() return {call} end)
  if ok then good = good + 1; if {check} then leaks = leaks + 1 end else bad = bad + 1 end
end
print("counts good=" .. good .. " bad=" .. bad .. " leaks=" .. leaks)
"""
    if lang == "js":
        return f"""
let good = 0, bad = 0, leaks = 0;
const t0 = Date.now();
for (let i = 0; Date.now() - t0 < {int(LOOP_SECONDS * 1000)}; i++) {{
  try {{ const v = await {call}; good++; if ({check}) leaks++; }} catch (e) {{ bad++; }}
}}
print("counts good=" + good + " bad=" + bad + " leaks=" + leaks);
"""
    body = f"""
    v := {call}
    if !is_error(v) {{ ok = true; if {check} {{ leak = true }} }}"""
    return _tengo_loop(body)


@pytest.mark.parametrize("lang", (*LANGS, "tengo"))
def test_file_tools_never_read_through_a_swapped_link(spell, raced, lang):
    call = 'tools.file_read("allowed/d/etc/hostname")'
    check = {"lua": 'v ~= "inside"', "js": 'v !== "inside"', "tengo": 'v != "inside"'}[lang]
    _check_race(_race(raced, lambda: spell(lang, _deep(_tool_loop(lang, call, check)), *RW)))


@pytest.mark.parametrize("lang", (*LANGS, "tengo"))
def test_file_tools_never_write_through_a_swapped_link(spell, raced, lang):
    call = 'tools.file_write("allowed/d/etc/w" .. i, "x")' if lang == "lua" else \
        'tools.file_write("allowed/d/etc/w" + i, "x")'
    _check_race(_race(raced, lambda: spell(lang, _deep(_tool_loop(lang, call, "false")), *RW)))


# -- spell.require and Tengo's import ----------------------------------------------------

MODULES = 400


def _modules(tree: Tree, ext: str, inside: str, outside: str) -> None:
    for i in range(MODULES):
        (tree.allowed / "d" / DEEP / f"m{i}{ext}").write_text(inside)
        (tree.outside / DEEP / f"m{i}{ext}").write_text(outside)


@pytest.mark.parametrize("lang", LANGS)
def test_require_never_loads_a_module_through_a_swapped_link(spell, raced, lang):
    ext = ".lua" if lang == "lua" else ".js"
    _modules(raced, ext, "return 'inside'", f"return '{SECRET}'")
    if lang == "lua":
        source = f"""
local good, bad, leaks = 0, 0, 0
local t0 = os.time()
for i = 0, {MODULES - 1} do
  local ok, v = pcall(spell.require, "./d/etc/m" .. i .. ".lua")
  if ok then good = good + 1; if v ~= "inside" then leaks = leaks + 1; print(v) end else bad = bad + 1 end
  if os.time() - t0 >= 2 then break end
end
print("counts good=" .. good .. " bad=" .. bad .. " leaks=" .. leaks)
"""
    else:
        source = f"""
let good = 0, bad = 0, leaks = 0;
const t0 = Date.now();
for (let i = 0; i < {MODULES} && Date.now() - t0 < {int(LOOP_SECONDS * 1000)}; i++) {{
  try {{
    const v = await spell.require("./d/etc/m" + i + ".js");
    good++; if (v !== "inside") {{ leaks++; print(v); }}
  }} catch (e) {{ bad++; }}
}}
print("counts good=" + good + " bad=" + bad + " leaks=" + leaks);
"""
    _check_race(_race(raced, lambda: spell(lang, _deep(source), "--timeout", "20", name="allowed/spell")))


def test_tengo_spell_require_never_reads_through_a_swapped_link(spell, raced):
    _modules(raced, ".tengo", 'export "inside"', f'export "{SECRET}"')
    body = f"""
    if i < {MODULES} {{
        m := spell.require("./d/etc/m" + i + ".tengo")
        if !is_error(m) {{ ok = true; if m != "inside" {{ leak = true }} }}
    }}"""
    _check_race(_race(raced, lambda: spell("tengo", _tengo_loop(body), "--timeout", "20", name="allowed/spell")))


def test_tengo_import_never_compiles_a_module_through_a_swapped_link(raced):
    """``import("./x")`` reads the file at compile time: each run tries once, so many short runs."""
    import time

    from llmspell import Runtime
    from llmspell.errors import SpellError
    from llmspell.sandbox.policy import Policy

    _modules(raced, ".tengo", 'export "inside"', f'export "{SECRET}"')
    runtime = Runtime(policy=Policy(timeout=10), isolation="inline", cwd=raced.allowed, output=lambda _: None)
    counts = {"good": 0, "bad": 0, "leaks": 0}

    def loop() -> dict:
        t0 = time.monotonic()
        i = 0
        while time.monotonic() - t0 < LOOP_SECONDS and i < MODULES:
            source = _deep(f'm := import("./d/etc/m{i}")\nexport m\n')
            i += 1
            try:
                value = runtime.run(source=source, language="tengo", filename=str(raced.allowed / "spell.tengo"))
            except SpellError:
                counts["bad"] += 1
                continue
            counts["good"] += 1
            if value != "inside":
                counts["leaks"] += 1
        return counts

    counts = _race(raced, loop)
    assert counts["leaks"] == 0, counts
    assert counts["good"] > 0 and counts["bad"] > 0, counts
