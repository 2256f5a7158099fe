"""A spell or module file that starts with a UTF-8 byte order mark (which some
Windows editors write) runs and checks in every language, its line numbers
unchanged: the mark is not part of the source (it was a syntax error in Lua
and Tengo)."""

from __future__ import annotations

import pytest

BOM = "\ufeff"
SPELLS = {
    "lua": ('local m = spell.require("./m.lua")\nprint(m.x)\nerror("three")', "return {x = 1}\n"),
    "js": ('const m = await spell.require("./m.js")\nconsole.log(m.x)\nthrow new Error("three")', "return {x: 1}\n"),
    "tengo": ('m := spell.require("./m.tengo")\nfmt.println(m.x)\nx := 1 + "three"', "export {x: 1}\n"),
}


@pytest.mark.parametrize("lang", list(SPELLS))
def test_a_spell_and_a_module_with_a_byte_order_mark_run_with_their_own_line_numbers(isolated, lang):
    main, module = SPELLS[lang]
    isolated.write(f"s.{lang}", BOM + main)
    isolated.write(f"m.{lang}", BOM + module)
    checked = isolated.cli("check", f"s.{lang}")
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == f"s.{lang}: ok\n"
    ran = isolated.cli("run", f"s.{lang}")
    assert ran.returncode == 1
    assert ran.stdout == "1\n"
    assert ran.stderr.startswith(f"s.{lang}:3"), ran.stderr
    assert "syntax_error" not in ran.stderr


@pytest.mark.parametrize("lang", list(SPELLS))
def test_a_byte_order_mark_before_the_first_statement_is_not_part_of_it(isolated, lang):
    spell = {"lua": 'return "ok"', "js": 'return "ok"', "tengo": 'export "ok"'}[lang]
    isolated.write(f"s.{lang}", BOM + spell)
    ran = isolated.cli("run", f"s.{lang}")
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "ok\n"
