"""Shared fixtures for the whole test suite.

* ``openai_server`` / ``openai_server_factory``: the scripted OpenAI-compatible
  server on 127.0.0.1 (tests/support/fixtures.py).
* ``isolated``: runs the test in an empty temporary working directory with no
  ``llmspell.toml``, no API keys and no ``LLMSPELL_*`` / ``OPENAI_BASE_URL``
  variables, so what the user has configured on this machine cannot change a
  result.  It returns a :class:`Sandbox` that writes spells and config files and
  runs the CLI (as a subprocess) or a :class:`llmspell.Runtime` there.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.support.fixtures import openai_server, openai_server_factory  # noqa: F401

#: Variables that would let the user's own setup leak into a test.
_LEAKY_VARS = (
    "LLMSPELL_MODEL", "LLMSPELL_CONFIG", "LLMSPELL_DEBUG", "OPENAI_BASE_URL", "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_KEY", "OLLAMA_API_KEY", "OLLAMA_BASE_URL",
    "LOCAL_LLM_KEY",
)


@dataclass
class Sandbox:
    """An isolated working directory for one test."""

    cwd: Path
    env: dict[str, str]

    def write(self, name: str, text: str) -> Path:
        path = self.cwd / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def config(self, text: str) -> Path:
        """Write ``llmspell.toml`` in the working directory."""
        return self.write("llmspell.toml", text)

    def server_config(self, server: Any, *, extra: str = "", timeout: float | None = None) -> Path:
        """A config that points ``openai-compatible`` at a scripted server, with no retries."""
        llm = "[llm]\nmax_retries = 0\n" + (f"timeout = {timeout}\n" if timeout else "")
        return self.config(
            f'{llm}{extra}\n[providers.openai-compatible]\nbase_url = "{server.base_url}"\n'
        )

    def cli(self, *args: str, env: dict[str, str] | None = None, timeout: float = 60,
            input: str | None = None) -> subprocess.CompletedProcess:
        """Run ``python -m llmspell ARGS`` in the working directory."""
        return subprocess.run(
            [sys.executable, "-m", "llmspell", *args], cwd=self.cwd, env={**self.env, **(env or {})},
            capture_output=True, text=True, timeout=timeout, input=input,
        )

    @staticmethod
    def no_traceback(*texts: str) -> None:
        """Assert that no Python traceback (or exception repr) is in anything a user sees."""
        for text in texts:
            assert "Traceback (most recent call last)" not in text, text
            assert 'File "' not in text, text
            assert "lupa." not in text and "quickjs." not in text, text

    def runtime(self, **kwargs: Any) -> tuple[Any, list[str]]:
        """A Runtime working here whose printed output is collected in the returned list."""
        from llmspell import Runtime

        out: list[str] = []
        kwargs.setdefault("cwd", self.cwd)
        kwargs.setdefault("output", out.append)
        return Runtime(**kwargs), out


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    for name in _LEAKY_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY_VARS}
    env["PYTHONIOENCODING"] = "utf-8"
    yield Sandbox(tmp_path, env)
