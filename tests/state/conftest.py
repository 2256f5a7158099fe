"""Helpers of the state tests: run a spell in a language through ``Runtime`` or the CLI."""

from __future__ import annotations

from typing import Any

import pytest

from llmspell.sandbox import Policy

LANGS = {"lua": "lua", "js": "javascript", "tengo": "tengo"}


def grant(folder: Any, *, read: bool = True, write: bool = True) -> Policy:
    """A policy that lets a spell read and/or write ``folder``."""
    return Policy(allow_read=(str(folder),) if read else None, allow_write=(str(folder),) if write else None)


@pytest.fixture
def run_spell(isolated):
    """``run_spell(lang, source, policy=..., isolation=...)`` -> (result, printed text)."""

    def run(lang: str, source: str, **kwargs: Any) -> tuple[Any, str]:
        kwargs.setdefault("isolation", "inline")
        params = kwargs.pop("params", None)
        rt, out = isolated.runtime(**kwargs)
        result = rt.run(source=source, language=LANGS[lang], filename=f"spell.{lang}", params=params)
        return result, "".join(out)

    return run
