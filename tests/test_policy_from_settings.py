"""The policy of llmspell.toml's ``[sandbox]`` table (Policy.from_settings) is the
same whether a spell runs from the CLI or from ``llmspell.Runtime``: what it grants
is granted, what it does not is refused, and with no table the standard policy
(nothing granted) applies."""

from __future__ import annotations

import json

import pytest

from llmspell import SpellError

#: A spell returning env.get(NAME) for the variable named by params.name.
READ = {
    "lua": ("lua", "return env.get(params.name)\n"),
    "javascript": ("js", "return await env.get(params.name);\n"),
    "tengo": ("tengo", 'v := env.get(params.name)\nexport is_error(v) ? v.value.kind : v\n'),
}


def _cli(isolated, lang, name):
    ext, source = READ[lang]
    isolated.write(f"read.{ext}", source)
    p = isolated.cli("run", f"read.{ext}", "--json", "-p", f"name={name}",
                     env={"GRANTED_VAR": "granted", "OTHER_VAR": "other"})
    return p.returncode, json.loads(p.stdout) if p.returncode == 0 else p.stdout + p.stderr


def _runtime(isolated, lang, name, monkeypatch):
    ext, source = READ[lang]
    isolated.write(f"read.{ext}", source)
    monkeypatch.setenv("GRANTED_VAR", "granted")
    monkeypatch.setenv("OTHER_VAR", "other")
    rt, _ = isolated.runtime(isolation="inline")
    try:
        return 0, rt.run(f"read.{ext}", {"name": name})
    except SpellError as exc:
        return 1, f"{exc.kind}: {exc.message}"


@pytest.mark.parametrize("lang", sorted(READ))
@pytest.mark.parametrize("via", ["cli", "runtime"])
def test_the_sandbox_table_grants_what_it_names_and_nothing_else(isolated, monkeypatch, lang, via):
    run = (lambda n: _cli(isolated, lang, n)) if via == "cli" else (lambda n: _runtime(isolated, lang, n, monkeypatch))
    # No [sandbox] table: the standard policy grants no variable.
    isolated.config('[llm]\ndefault_model = "test"\n')
    code, out = run("GRANTED_VAR")
    assert "permission_denied" in str(out), out
    # The table grants one variable: it is read, the other is still refused.
    isolated.config('[llm]\ndefault_model = "test"\n\n[sandbox]\nallow_env = ["GRANTED_VAR"]\n')
    assert run("GRANTED_VAR") == (0, "granted")
    code, out = run("OTHER_VAR")
    assert "permission_denied" in str(out) and "other" not in str(out).replace("OTHER_VAR", ""), out
    # A deny entry in the table wins over its own allow.
    isolated.config('[sandbox]\nallow_env = true\ndeny_env = ["GRANTED_VAR"]\n')
    code, out = run("GRANTED_VAR")
    assert "permission_denied" in str(out), out
    assert run("OTHER_VAR") == (0, "other")
