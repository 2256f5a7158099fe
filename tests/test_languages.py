"""The spell languages are declared once (llmspell/engines/languages.py):
every extension and every name it declares picks its engine, from the CLI and
from the Python API, and what it does not declare is refused with a hint that
lists what it does."""

from __future__ import annotations

import pytest

from llmspell import SpellError
from llmspell.engines.base import engine_class
from llmspell.engines.languages import BY_NAME, EXTENSIONS, LANGUAGES, NAMES

#: A spell answering 42 in each language; a language added to the declaration needs one here.
ANSWER = {"lua": "return 40 + 2\n", "javascript": "return 40 + 2;\n", "tengo": "export 40 + 2\n"}


def test_every_declared_language_has_a_spell_here():
    assert set(ANSWER) == set(NAMES)


@pytest.mark.parametrize(("lang", "ext"), [(lang.name, ext) for lang in LANGUAGES for ext in lang.extensions])
def test_each_extension_runs_its_language(isolated, lang, ext):
    name = "answer" + (ext.upper() if ext == ".lua" else ext)  # the extension's case does not matter
    isolated.write(name, ANSWER[lang])
    p = isolated.cli("run", name)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "42"
    assert isolated.cli("check", name).returncode == 0


@pytest.mark.parametrize(("lang", "alias"), [(lang.name, n) for lang in LANGUAGES for n in (lang.name, *lang.aliases)])
def test_each_name_picks_its_language(isolated, lang, alias):
    isolated.write("answer.txt", ANSWER[lang])
    p = isolated.cli("run", "answer.txt", "--language", alias.upper())
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "42"
    rt, _ = isolated.runtime(isolation="inline")
    assert rt.run(source=ANSWER[lang], language=alias) == 42
    assert engine_class(lang).language == lang


def test_an_undeclared_extension_or_name_is_refused_with_the_declared_ones(isolated):
    isolated.write("answer.py", "print(42)\n")
    p = isolated.cli("run", "answer.py")
    assert p.returncode != 0
    assert "cannot tell the spell's language from '.py'" in p.stderr
    assert "hint: name the file .lua, .js, .mjs or .tengo" in p.stderr
    assert all(ext in p.stderr for ext in EXTENSIONS)
    p = isolated.cli("run", "answer.py", "--language", "python")
    assert "unknown language 'python'" in p.stderr and "use one of: javascript, js, lua, tengo" in p.stderr
    assert all(name in p.stderr for name in BY_NAME)
    rt, _ = isolated.runtime(isolation="inline")
    with pytest.raises(SpellError) as info:
        rt.run(source="return 1")
    assert info.value.message == "source= needs language= (lua, javascript or tengo)"
    with pytest.raises(SpellError):
        engine_class("js")  # an alias names a language, not an engine


def test_cli_help_names_every_language_and_extension(isolated):
    top = isolated.cli("--help").stdout
    assert "Lua, JavaScript or Tengo scripts" in " ".join(top.split())
    run = " ".join(isolated.cli("run", "--help").stdout.split())
    assert "the spell file (.lua, .js, .mjs, .tengo)" in run
