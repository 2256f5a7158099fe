"""Provider failures -> one-line SpellErrors that tell the spell's author what to do.

pydantic-ai already sorts provider failures into categories (rate limit,
timeout, connection, HTTP status); this module only chooses the llmspell kind,
pulls the provider's own message out of the error body, and names the model
and endpoint involved -- when the spell could reach that endpoint itself (see
:func:`map_model_error`).  No Python traceback or exception repr reaches a spell.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from llmspell.errors import SpellError
from llmspell.models.resolve import ResolvedModel

if TYPE_CHECKING:
    from llmspell.sandbox.policy import Policy

log = logging.getLogger("llmspell.models")


def map_model_error(exc: BaseException, chain: list[ResolvedModel], policy: Policy | None = None) -> SpellError:
    """The SpellError for an exception raised by a model request over ``chain``.

    ``policy`` is the spell's (``None`` when the operator asks): what a provider
    answered reaches the spell only if the spell could have asked that endpoint
    itself.  Otherwise the spell could use a configured endpoint as a probe of a
    network it may not reach, and read back what answered; it gets the kind and
    the HTTP status, and the operator reads the rest with ``LLMSPELL_DEBUG=1``."""
    from pydantic_ai.exceptions import FallbackExceptionGroup

    if isinstance(exc, SpellError):
        return exc
    if isinstance(exc, FallbackExceptionGroup):
        errors = [map_model_error(sub, chain, policy) for sub in exc.exceptions]
        kinds = {e.kind for e in errors}
        kind = kinds.pop() if len(kinds) == 1 else "provider_error"
        return SpellError(kind, "every model failed: " + "; ".join(e.message for e in errors))
    link = _link_for(exc, chain)
    shown = policy is None or (link is not None and _reachable(policy, link.base_url))
    full = _map_one(exc, link, True)
    if shown:
        return full
    log.debug("model request failed (hidden from the spell): %s", full.message)
    return _map_one(exc, link, False)


def _reachable(policy: Policy, url: str | None) -> bool:
    """Could the spell itself send a request to ``url`` (its host as written; no DNS)?"""
    if not url:
        return False
    from llmspell.sandbox.net import check_url

    try:
        check_url(policy, url)
    except SpellError:
        return False
    return True


def _link_for(exc: BaseException, chain: list[ResolvedModel]) -> ResolvedModel | None:
    name = getattr(exc, "model_name", None)
    for link in chain:
        if name is not None and link.model.model_name == name:
            return link
    return chain[0] if len(chain) == 1 else None


_HIDDEN = ("the provider's answer is not shown to a spell that may not reach its endpoint "
           "(the operator sees it with LLMSPELL_DEBUG=1)")


def _map_one(exc: BaseException, link: ResolvedModel | None, shown: bool) -> SpellError:
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
    where = link.base_url if link and shown else None
    said = provider_message(exc) if shown else _HIDDEN
    if isinstance(exc, ModelRateLimitError) or (isinstance(exc, ModelHTTPError) and exc.status_code == 429):
        wait = f" (retry after {exc.retry_after:g}s)" if getattr(exc, "retry_after", None) else ""
        return SpellError("rate_limited", f"{who}: {said if shown else 'rate limited by the provider'}{wait}")
    if isinstance(exc, ModelTimeoutError | ModelRequestTimeout | TimeoutError):
        return SpellError("timeout", f"{who}: no answer in time" + (f" from {where}" if where else ""))
    if isinstance(exc, ModelConnectionError):
        if not shown:
            return SpellError("provider_error", f"{who}: cannot reach the provider's endpoint set up by the "
                              "operator (who sees where with LLMSPELL_DEBUG=1)")
        return SpellError(
            "provider_error",
            f"{who}: cannot reach {where or 'the provider'}: is the server running? set base_url / OPENAI_BASE_URL",
        )
    if isinstance(exc, ModelAuthenticationError) or (
        isinstance(exc, ModelHTTPError) and exc.status_code in (401, 403)
    ):
        status = getattr(exc, "status_code", None)
        code = f" (HTTP {status})" if status else ""
        if not shown:
            return SpellError("provider_error", f"{who}: the provider refused the API key{code}; ask the operator")
        check = f"; check {' / '.join(link.key_env)}" if link and link.key_env else ""
        return SpellError("provider_error", f"{who}: the provider refused the API key{code}: {said}{check}")
    if isinstance(exc, ModelHTTPError):
        return SpellError("provider_error", f"{who}: HTTP {exc.status_code}: {said}")
    if isinstance(exc, ModelAPIError):
        return SpellError("provider_error", f"{who}: {said}")
    if isinstance(exc, UnexpectedModelBehavior):
        return SpellError("provider_error", f"{who}: unexpected answer" + (f": {exc.message}" if shown else ""))
    if isinstance(exc, UserError):
        return SpellError("invalid_argument", f"{who}: {exc.message}")
    if not shown:
        return SpellError("provider_error", f"{who}: the request failed")
    return SpellError("provider_error", f"{who}: the request failed: {_first_line(str(exc))}")


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
