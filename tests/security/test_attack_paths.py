"""Every path trick against the file tools and spell.require, in Lua and JavaScript.

The spell may read and write ``allowed/`` only.  Symbolic links and ``..``
out of it, the same-prefix sibling ``allowed-x/``, ``~`` and ``$VAR`` (never
expanded: they are ordinary characters of a file name), NUL bytes and absolute
paths must all fail with the right kind, and nothing outside ``allowed/`` may
change.
"""

from __future__ import annotations

import pytest
from tests.security.conftest import LANGS, expect_error

READ = ("--allow-read=allowed",)
WRITE = ("--allow-read=allowed", "--allow-write=allowed")


def _call(lang: str, expr: str) -> str:
    return f"return {expr}" if lang == "lua" else f"return await {expr}"


READ_ATTACKS = [
    ("dotdot", "allowed/../outside/secret.txt", "permission_denied"),
    ("dotdot_deep", "allowed/./sub/../../outside/secret.txt", "permission_denied"),
    ("double_slashes", "allowed//..//outside/secret.txt", "permission_denied"),
    ("symlink_dir_out", "allowed/link-out/secret.txt", "permission_denied"),
    ("symlink_file_out", "allowed/link-file", "permission_denied"),
    ("sibling_same_prefix", "allowed-x/secret.txt", "permission_denied"),
    ("sibling_via_dotdot", "allowed/../allowed-x/secret.txt", "permission_denied"),
    ("tilde_home", "~/secret.txt", "permission_denied"),
    ("dollar_home", "$HOME/secret.txt", "permission_denied"),
    ("dollar_brace_home", "${HOME}/secret.txt", "permission_denied"),
    ("absolute_etc", "/etc/passwd", "permission_denied"),
    ("proc_environ", "/proc/self/environ", "permission_denied"),
    ("nul_byte", "allowed/inside.txt\\0/../../outside/secret.txt", "invalid_argument"),
    ("url_encoded_dotdot", "allowed/%2e%2e/outside/secret.txt", "not_found"),
    ("backslash_dotdot", "allowed\\\\..\\\\outside\\\\secret.txt", "permission_denied"),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path,kind", [a[1:] for a in READ_ATTACKS], ids=[a[0] for a in READ_ATTACKS])
def test_read_out_of_the_allowed_folder(spell, tree, lang, path, kind):
    before = tree.snapshot()
    result = spell(lang, _call(lang, f'tools.file_read("{path}")'), *READ)
    expect_error(result, kind)
    if kind == "permission_denied" and not path.startswith("/proc/"):
        assert "--allow-read=" in result.err  # the message names the flag that would grant it
    assert "secret" not in result.out
    assert tree.snapshot() == before


@pytest.mark.parametrize("lang", LANGS)
def test_tilde_and_vars_are_not_expanded(spell, tree, lang):
    """``~`` and ``$HOME`` name folders called ``~`` and ``$HOME`` inside the allowed folder."""
    (tree.allowed / "~").mkdir()
    (tree.allowed / "~" / "f.txt").write_text("tilde")
    (tree.allowed / "$HOME").mkdir()
    (tree.allowed / "$HOME" / "f.txt").write_text("dollar")
    sep = ".." if lang == "lua" else "+"
    source = _call(lang, f'tools.file_read("allowed/~/f.txt") {sep} tools.file_read("allowed/$HOME/f.txt")')
    if lang == "js":
        source = 'return (await tools.file_read("allowed/~/f.txt")) + (await tools.file_read("allowed/$HOME/f.txt"))'
    result = spell(lang, source, *READ)
    assert result.code == 0, result.err
    assert result.out.strip() == "tildedollar"


LIST_ATTACKS = [
    ("list_dotdot", "allowed/.."),
    ("list_symlink_out", "allowed/link-out"),
    ("list_sibling", "allowed-x"),
    ("list_root", "/"),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", [a[1] for a in LIST_ATTACKS], ids=[a[0] for a in LIST_ATTACKS])
def test_list_out_of_the_allowed_folder(spell, lang, path):
    result = spell(lang, _call(lang, f'tools.file_list("{path}")'), *READ)
    expect_error(result, "permission_denied", contains="--allow-read=")
    assert "secret.txt" not in result.out


WRITE_ATTACKS = [
    ("write_dotdot", "allowed/../outside/pwned.txt", "permission_denied"),
    ("write_symlink_dir", "allowed/link-out/pwned.txt", "permission_denied"),
    ("write_through_symlink_file", "allowed/link-file", "permission_denied"),
    ("write_sibling", "allowed-x/pwned.txt", "permission_denied"),
    ("write_tilde", "~/pwned.txt", "permission_denied"),
    ("write_dollar", "$HOME/pwned.txt", "permission_denied"),
    ("write_overwrite_outside", "allowed/sub/../../outside/secret.txt", "permission_denied"),
    ("write_nul", "allowed/ok.txt\\0/../../outside/secret.txt", "invalid_argument"),
    ("write_spell_itself", "spell.lua", "permission_denied"),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path,kind", [a[1:] for a in WRITE_ATTACKS], ids=[a[0] for a in WRITE_ATTACKS])
def test_write_out_of_the_allowed_folder(spell, tree, lang, path, kind):
    before = tree.snapshot()
    result = spell(lang, _call(lang, f'tools.file_write("{path}", "pwned")'), *WRITE)
    expect_error(result, kind)
    if kind == "permission_denied":
        assert "--allow-write=" in result.err
    assert tree.snapshot() == before
    assert (tree.outside / "secret.txt").read_text() == "outside secret"


@pytest.mark.parametrize("lang", LANGS)
def test_write_inside_is_allowed_and_changes_nothing_else(spell, tree, lang):
    """The control case: the grant works, and only the allowed folder changes."""
    before = tree.snapshot()
    result = spell(lang, _call(lang, 'tools.file_write("allowed/new/out.txt", "fine")'), *WRITE)
    assert result.code == 0, result.err
    assert (tree.allowed / "new" / "out.txt").read_text() == "fine"
    assert tree.snapshot() == before


@pytest.mark.parametrize("lang", LANGS)
def test_no_permission_at_all_by_default(spell, tree, lang):
    result = spell(lang, _call(lang, 'tools.file_read("allowed/inside.txt")'))
    expect_error(result, "permission_denied", contains="--allow-read=")


REQUIRE_ATTACKS = [
    ("require_dotdot", "../outside/module"),
    ("require_symlink_out", "./link-out/module"),
    ("require_absolute", "{root}/outside/module"),
]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("target", [a[1] for a in REQUIRE_ATTACKS], ids=[a[0] for a in REQUIRE_ATTACKS])
def test_require_out_of_the_spell_folder_needs_read_permission(spell, tree, lang, target):
    ext = ".lua" if lang == "lua" else ".js"
    target = target.format(root=tree.root) + ext
    result = spell(lang, _call(lang, f'spell.require("{target}")'), name="allowed/spell")
    expect_error(result, "permission_denied", contains="--allow-read=")
    assert "outside module" not in result.out


@pytest.mark.parametrize("lang", LANGS)
def test_allowed_imports_narrows_require(spell, tree, lang):
    ext = ".lua" if lang == "lua" else ".js"
    (tree.root / "lib").mkdir()
    (tree.root / "lib" / f"ok{ext}").write_text("return 'ok module'")
    (tree.root / f"other{ext}").write_text("return 'other module'")
    (tree.root / "llmspell.toml").write_text(f'[sandbox]\nallowed_imports = ["lib/*{ext}"]\n')
    ok = spell(lang, _call(lang, f'spell.require("./lib/ok{ext}")'))
    assert ok.code == 0, ok.err
    assert ok.out.strip() == "ok module"
    denied = spell(lang, _call(lang, f'spell.require("./other{ext}")'))
    expect_error(denied, "permission_denied", contains="allowed_imports")
    assert "other module" not in denied.out
