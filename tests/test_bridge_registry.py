"""The bridge registry (llmspell/bridges/__init__.py) is the one list of a
spell's globals: a run in every language defines each name it declares,
``check`` accepts them, the reference documents them, and nothing else is a
global."""

from __future__ import annotations

import json

import pytest

from llmspell.bridges import ALIASES, GLOBALS, HANDLES, PLAIN_GLOBALS, default_bridges, documented, handle_types

NAMES = [*GLOBALS, *ALIASES, *PLAIN_GLOBALS]

#: A spell that reports, for each name, whether it is defined, in each language.
SPELLS = {
    "lua": ("lua", "return {" + ", ".join(f"{n} ~= nil" for n in NAMES) + "}\n"),
    "javascript": ("js", "return [" + ", ".join(f'typeof {n} !== "undefined"' for n in NAMES) + "];\n"),
    "tengo": ("tengo", "export [" + ", ".join(f"!is_undefined({n})" for n in NAMES) + "]\n"),
}


@pytest.mark.parametrize("lang", sorted(SPELLS))
def test_every_declared_global_is_defined_and_checks(isolated, lang):
    ext, source = SPELLS[lang]
    isolated.write(f"globals.{ext}", source)
    ran = isolated.cli("run", f"globals.{ext}", "--json")
    assert ran.returncode == 0, ran.stderr
    assert json.loads(ran.stdout) == [True] * len(NAMES)
    checked = isolated.cli("check", f"globals.{ext}")
    assert checked.returncode == 0, checked.stderr


def test_a_name_the_registry_does_not_declare_is_not_a_global(isolated):
    # Tengo's check resolves every name: one more global than the registry's is refused, as at run time.
    isolated.write("agent.tengo", "export agent\n")
    checked = isolated.cli("check", "agent.tengo")
    assert checked.returncode != 0 and "unresolved reference 'agent'" in checked.stderr
    rt, _ = isolated.runtime(isolation="inline")
    assert set(rt.global_names()) == set(NAMES)


def test_declared_names_are_the_names_bridges_report():
    # A method's reference line (`llm.complete(...)`) and its errors use the class's name: it must be the global's.
    assert [(n, c.name) for n, c in default_bridges() if n not in ALIASES] == [(n, n) for n in GLOBALS]
    assert [(n, c.name) for n, c in handle_types()] == [(n, n) for n in HANDLES]
    assert [n for n, _ in documented()] == [*GLOBALS, *HANDLES]
    assert [n for n, _ in default_bridges()] == [n for g in GLOBALS for n in (g, *[a for a, o in ALIASES.items()
                                                                                    if o == g])]
