"""A module's own relative requires cannot leave the folders the policy allows.

A relative path inside a module starts from the module's folder (as in every
module system), and that must not widen what a spell may read: the policy's
rule stays that of the spell's own folder, with ``..`` and symbolic links
resolved first.  Attacked from a module in every way: ``..`` out, a link out
(in the path, as the module's folder, as the module's file), a module outside that was granted
reaching on to a neighbour that was not, a forged second argument, and
Tengo's ``import`` the same way.
"""

from __future__ import annotations

import pytest
from tests.security.conftest import EXT, expect_error, run_spell

LANGS = ("lua", "js", "tengo")
REQUIRE = {"lua": 'return spell.require("{path}")', "js": 'return await spell.require("{path}");',
           "tengo": 'export spell.require("{path}")'}
SECRET = "outside module body"


def _module(lang: str) -> str:
    return {"lua": f'return "{SECRET}"', "js": f'return "{SECRET}";', "tengo": f'export "{SECRET}"'}[lang]


@pytest.fixture
def layout(tree):
    """allowed/lib/ (the modules), allowed/lib/sneaky -> ../../outside, and in
    outside/ and allowed-x/ a module of each language."""
    (tree.allowed / "lib").mkdir()
    (tree.allowed / "lib" / "sneaky").symlink_to("../../outside")
    for lang in LANGS:
        for folder in (tree.outside, tree.root / "allowed-x"):
            (folder / f"mod{EXT[lang]}").write_text(_module(lang))
        # a module file that is itself a link out
        (tree.allowed / "lib" / f"evil{EXT[lang]}").symlink_to(f"../../outside/mod{EXT[lang]}")
    return tree


def _run_from_module(tree, lang: str, inner: str, *flags: str):
    """The spell (in allowed/) requires lib/m, which requires ``inner``."""
    ext = EXT[lang]
    (tree.allowed / "lib" / f"m{ext}").write_text(REQUIRE[lang].format(path=inner))
    return run_spell(lang, REQUIRE[lang].format(path=f"./lib/m{ext}"), *flags, cwd=tree.allowed)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("inner", ["../../outside/mod", "../link-out/mod", "./sneaky/mod", "../../allowed-x/mod",
                                   "../../allowed/../outside/mod", "./evil", "evil", "../lib/./sneaky/../evil"])
def test_a_modules_relative_require_cannot_leave_the_spells_folder(layout, lang, inner):
    before = layout.snapshot()
    result = _run_from_module(layout, lang, inner + EXT[lang])
    expect_error(result, "permission_denied")
    assert SECRET not in result.out + result.err
    assert layout.snapshot() == before


@pytest.mark.parametrize("lang", LANGS)
def test_a_granted_module_outside_cannot_reach_its_ungranted_neighbour(layout, lang):
    ext = EXT[lang]
    (layout.outside / f"hop{ext}").write_text(REQUIRE[lang].format(path=f"../allowed-x/mod{ext}"))
    result = _run_from_module(layout, lang, f"../../outside/hop{ext}", f"--allow-read={layout.outside}")
    expect_error(result, "permission_denied")
    assert SECRET not in result.out + result.err


@pytest.mark.parametrize("lang", LANGS)
def test_a_granted_module_outside_requires_from_its_own_folder(layout, lang):
    """The way in still works: a granted folder's module loads its sibling."""
    ext = EXT[lang]
    (layout.outside / f"hop{ext}").write_text(REQUIRE[lang].format(path=f"./mod{ext}"))
    result = _run_from_module(layout, lang, f"../../outside/hop{ext}", f"--allow-read={layout.outside}")
    assert result.code == 0, result.err
    assert SECRET in result.out


@pytest.mark.parametrize("lang", ["lua", "js"])
def test_a_forged_second_argument_does_not_move_the_start(layout, lang):
    """spell.require takes the path only: a second argument naming a folder outside is ignored."""
    ext = EXT[lang]
    source = {"lua": 'return spell.require("./mod.lua", "../outside/x.lua")',
              "js": 'return await spell.require("./mod.js", "../outside/x.js");'}[lang]
    result = run_spell(lang, source, cwd=layout.allowed)
    expect_error(result, "not_found", contains=f"./mod{ext}")


def test_tengo_require_takes_one_argument(layout):
    result = run_spell("tengo", 'export spell.require("./mod.tengo", "../outside/x.tengo")', cwd=layout.allowed)
    expect_error(result, "invalid_argument", contains="takes 1 argument")


@pytest.mark.parametrize("inner", ["../../outside/mod", "../link-out/mod", "./sneaky/mod", "../../allowed-x/mod",
                                   "./evil", "evil"])
def test_tengo_import_inside_a_module_cannot_leave_the_spells_folder(layout, inner):
    (layout.allowed / "lib" / "m.tengo").write_text(f'export import("{inner}")')
    result = run_spell("tengo", 'export import("./lib/m")', cwd=layout.allowed)
    expect_error(result, "permission_denied")
    assert SECRET not in result.out + result.err
