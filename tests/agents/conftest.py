"""Agent tests run spells in every language against a scripted FunctionModel (tests/support/scripted_model.py)."""

from __future__ import annotations

from typing import Any

import pytest

#: Spell file extension per language.
EXT = {"lua": "lua", "js": "js", "tengo": "tengo"}
LANGS = {"lua": "lua", "js": "javascript", "tengo": "tengo"}


def run_spell(isolated: Any, lang: str, source: str, script: Any = None, *, params: dict | None = None,
              isolation: str = "process", **kwargs: Any) -> tuple[Any, str]:
    """Run ``source`` through a Runtime with ``script`` named ``scripted``; (result, printed text)."""
    if script is not None:
        kwargs.setdefault("models", {"scripted": script.model()})
    rt, out = isolated.runtime(isolation=isolation, **kwargs)
    result = rt.run(source=source, language=LANGS[lang], filename=f"spell.{EXT[lang]}", params=params)
    return result, "".join(out)


@pytest.fixture(params=["lua", "js", "tengo"])
def lang(request: pytest.FixtureRequest) -> str:
    return request.param
