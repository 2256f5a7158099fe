"""One run's model usage, counted in pydantic-ai's own terms, and the run's limits on it.

A run's ``max_llm_calls`` and ``max_tokens`` are pydantic-ai's ``UsageLimits``
(``request_limit`` and ``total_tokens_limit``) over one ``RunUsage``: the same
objects an agent run takes (``agent.run(usage=..., usage_limits=...)``), so
that when pydantic-ai's agent loop decides how many requests a run makes, its
requests and tokens land in the same account as the spell's own
``llm.complete`` calls, and one limit covers both.

A request is counted when it starts, not when its answer comes back: the spell
may have many requests in flight at once, and each must take its place under
the limit before it is sent.  Tokens are added when the answer comes back.
Exceeding either limit ends the run (``limit_exceeded``, which no pcall or
try/catch swallows), with the texts spells have always seen.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass
from typing import Any

from llmspell.errors import SpellError


@dataclass
class UsageAccount:
    """The requests and tokens of one run, against its limits (``None``: no limit).

    pydantic-ai is imported when the run first asks for :attr:`usage` or
    :attr:`limits` (a spell that calls no model does not pay for it)."""

    max_llm_calls: int | None = None
    max_tokens: int | None = None

    @functools.cached_property
    def usage(self) -> Any:
        """pydantic-ai's ``RunUsage`` of the run: requests, input/output tokens, cost where known."""
        from pydantic_ai.usage import RunUsage

        return RunUsage()

    @functools.cached_property
    def limits(self) -> Any:
        """The run's limits as pydantic-ai's ``UsageLimits``: give these and :attr:`usage` to an agent run."""
        from pydantic_ai.usage import UsageLimits

        return UsageLimits(request_limit=self.max_llm_calls, total_tokens_limit=self.max_tokens)

    @property
    def requests(self) -> int:
        return self.usage.requests

    @property
    def total_tokens(self) -> int:
        return self.usage.total_tokens

    def start_request(self, what: str) -> None:
        """Count one request about to be sent by ``what`` (``llm.complete``), or refuse it
        with ``limit_exceeded`` if the run has no requests (or tokens) left."""
        from pydantic_ai.exceptions import UsageLimitExceeded

        try:
            self.limits.check_before_request(self.usage)
        except UsageLimitExceeded:
            limit = self.limits.request_limit
            if limit is not None and self.usage.requests >= limit:
                raise SpellError("limit_exceeded", f"{what}: more than {limit} LLM calls in one run",
                                 hint="raise it with --max-llm-calls N") from None
            raise self.tokens_error() from None
        self.usage.requests += 1

    def add(self, request_usage: Any) -> None:
        """Add the usage of one answer (pydantic-ai's ``RequestUsage``); ``limit_exceeded``
        if the run has now used more tokens than it may."""
        from pydantic_ai.exceptions import UsageLimitExceeded
        from pydantic_ai.usage import RequestUsage

        if not isinstance(request_usage, RequestUsage):
            raise TypeError(f"expected a RequestUsage, got {type(request_usage).__name__}")
        self.usage.incr(request_usage)
        try:
            with warnings.catch_warnings():  # an answer without usage is counted as 0 tokens, not warned about
                warnings.simplefilter("ignore")
                self.limits.check_tokens(self.usage)
        except UsageLimitExceeded:
            raise self.tokens_error() from None

    def tokens_error(self) -> SpellError:
        return SpellError("limit_exceeded", f"the spell used more than {self.max_tokens} tokens")
