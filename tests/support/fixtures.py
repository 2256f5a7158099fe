"""pytest fixtures shared by every test folder (tests/conftest.py imports them)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from tests.support.openai_server import ScriptedOpenAIServer


@pytest.fixture
def openai_server() -> Iterator[ScriptedOpenAIServer]:
    """A scripted OpenAI-compatible server on 127.0.0.1, closed after the test."""
    with ScriptedOpenAIServer() as server:
        yield server


@pytest.fixture
def openai_server_factory() -> Iterator[object]:
    """Start as many scripted servers as a test needs (e.g. one per link of a fallback chain)."""
    started: list[ScriptedOpenAIServer] = []

    def make(models: tuple[str, ...] = ("scripted-model",)) -> ScriptedOpenAIServer:
        server = ScriptedOpenAIServer(models).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.close()
