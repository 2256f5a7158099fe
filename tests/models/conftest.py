"""Fixtures for the model tests: the scripted OpenAI-compatible server."""

from tests.support.fixtures import openai_server, openai_server_factory  # noqa: F401
