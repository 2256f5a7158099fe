"""Provider failures -> one-line SpellErrors that tell the spell's author what to do.

pydantic-ai already sorts provider failures into categories (rate limit,
timeout, connection, HTTP status); this module only chooses the llmspell kind,
pulls the provider's own message out of the error body, and names the model
and endpoint involved.  No Python traceback or exception repr reaches a spell.
"""

from __future__ import annotations

from typing import Any

from llmspell.errors import SpellError
from llmspell.models.resolve import ResolvedModel


def map_model_error(exc: BaseException, chain: list[ResolvedModel]) -> SpellError:
    """The SpellError for an exception raised by a model request over ``chain``."""
    from pydantic_ai.exceptions import FallbackExceptionGroup

    if isinstance(exc, SpellError):
        return exc
    if isinstance(exc, FallbackExceptionGroup):
        errors = [map_model_error(sub, chain) for sub in exc.exceptions]
        kinds = {e.kind for e in errors}
        kind = kinds.pop() if len(kinds) == 1 else "provider_error"
        return SpellError(kind, "every model failed: " + "; ".join(e.message for e in errors))
    return _map_one(exc, _link_for(exc, chain))


def _link_for(exc: BaseException, chain: list[ResolvedModel]) -> ResolvedModel | None:
    name = getattr(exc, "model_name", None)
    for link in chain:
        if name is not None and link.model.model_name == name:
            return link
    return chain[0] if len(chain) == 1 else None


def _map_one(exc: BaseException, link: ResolvedModel | None) -> SpellError:
    from pydantic_ai.exceptions import (
        ModelAPIError,
        ModelAuthenticationError,
        ModelConnectionError,
        ModelHTTPError,
        ModelRateLimitError,
        ModelRequestTimeout,
        ModelTimeoutError,
        UnexpectedModelBehavior,
        UserError,
    )

    who = link.name if link else getattr(exc, "model_name", None) or "model"
    where = link.base_url if link else None
    if isinstance(exc, ModelRateLimitError) or (isinstance(exc, ModelHTTPError) and exc.status_code == 429):
        wait = f" (retry after {exc.retry_after:g}s)" if getattr(exc, "retry_after", None) else ""
        return SpellError("rate_limited", f"{who}: {provider_message(exc)}{wait}")
    if isinstance(exc, ModelTimeoutError | ModelRequestTimeout | TimeoutError):
        return SpellError("timeout", f"{who}: no answer in time" + (f" from {where}" if where else ""))
    if isinstance(exc, ModelConnectionError):
        target = where or "the provider"
        return SpellError(
            "provider_error",
            f"{who}: cannot reach {target}: is the server running? set base_url / OPENAI_BASE_URL",
        )
    if isinstance(exc, ModelAuthenticationError) or (
        isinstance(exc, ModelHTTPError) and exc.status_code in (401, 403)
    ):
        status = getattr(exc, "status_code", None)
        code = f" (HTTP {status})" if status else ""
        check = f"; check {' / '.join(link.key_env)}" if link and link.key_env else ""
        return SpellError(
            "provider_error", f"{who}: the provider refused the API key{code}: {provider_message(exc)}{check}"
        )
    if isinstance(exc, ModelHTTPError):
        return SpellError("provider_error", f"{who}: HTTP {exc.status_code}: {provider_message(exc)}")
    if isinstance(exc, ModelAPIError):
        return SpellError("provider_error", f"{who}: {provider_message(exc)}")
    if isinstance(exc, UnexpectedModelBehavior):
        return SpellError("provider_error", f"{who}: unexpected answer: {exc.message}")
    if isinstance(exc, UserError):
        return SpellError("invalid_argument", f"{who}: {exc.message}")
    return SpellError("internal", f"{who}: {type(exc).__name__}: {_first_line(str(exc))}")


def provider_message(exc: Any) -> str:
    """The provider's own words from an error body, else the exception's message."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error", body)
        if isinstance(inner, dict) and isinstance(inner.get("message"), str):
            return _first_line(inner["message"])
        if isinstance(inner, str):
            return _first_line(inner)
    if isinstance(body, str) and body.strip():
        return _first_line(body)
    return _first_line(getattr(exc, "message", None) or str(exc))


def _first_line(text: str) -> str:
    text = text.strip()
    return text.splitlines()[0] if text else "no details"
