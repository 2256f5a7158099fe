"""Workflow tests run spells in every language through ``Runtime``, with models of their own.

:class:`Echo` is a pydantic-ai ``FunctionModel`` that waits a fixed time and
answers with the prompt it was sent, so a test sees what a template made of
a prompt, how many requests were in flight at once, and which were cancelled.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, UserPromptPart
from pydantic_ai.models.function import AgentInfo, FunctionModel

EXT = {"lua": "lua", "js": "js", "tengo": "tengo"}
LANGS = {"lua": "lua", "js": "javascript", "tengo": "tengo"}


class Echo:
    """A model that sleeps ``delay`` seconds, then answers ``echo: PROMPT``; a prompt with FAIL in it fails,
    after ``fail_delay`` seconds."""

    def __init__(self, delay: float = 0.0, fail_delay: float = 0.0) -> None:
        self.delay = delay
        self.fail_delay = fail_delay
        self.prompts: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.cancelled = 0
        self.finished = 0

    async def _answer(self, messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        prompt = ""
        for message in messages:
            if isinstance(message, ModelRequest):
                for part in message.parts:
                    if isinstance(part, UserPromptPart) and isinstance(part.content, str):
                        prompt = part.content
        self.prompts.append(prompt)
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await asyncio.sleep(self.fail_delay if "FAIL" in prompt else self.delay)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.in_flight -= 1
        if "FAIL" in prompt:
            raise RuntimeError("the model is down")
        self.finished += 1
        return ModelResponse(parts=[TextPart(f"echo: {prompt}")])

    def model(self) -> FunctionModel:
        return FunctionModel(self._answer, model_name="echo")


def run_spell(isolated: Any, lang: str, source: str, *, echo: Echo | None = None, params: dict | None = None,
              isolation: str = "process", **kwargs: Any) -> tuple[Any, str]:
    """Run ``source`` through a Runtime whose model ``echo`` (and default model) is ``echo``; (result, printed)."""
    if echo is not None:
        kwargs.setdefault("models", {"echo": echo.model()})
        kwargs.setdefault("model", "echo")
    rt, out = isolated.runtime(isolation=isolation, **kwargs)
    result = rt.run(source=source, language=LANGS[lang], filename=f"spell.{EXT[lang]}", params=params)
    return result, "".join(out)


@pytest.fixture(params=["lua", "js", "tengo"])
def lang(request: pytest.FixtureRequest) -> str:
    return request.param
