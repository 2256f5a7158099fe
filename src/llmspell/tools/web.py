"""The network tools: one GET, and a web search through a search service you run.

Both go through :func:`llmspell.sandbox.net.fetch`, so the policy decides
which hosts they reach.  ``web_search`` speaks the JSON API of SearXNG (a
self-hostable metasearch engine: ``GET /search?q=...&format=json``); any
service with a URL template containing ``{query}`` that answers with a
``results`` list of ``{title, url, content}`` works too.  There is no default
endpoint: a search service is a choice of the operator, not of the spell.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import quote_plus, urlencode, urlsplit

from llmspell.errors import SpellError
from llmspell.sandbox.net import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, fetch
from llmspell.sandbox.policy import Policy

MAX_SEARCH_RESULTS = 20


async def http_get(policy: Policy, url: str, *, timeout: float = DEFAULT_TIMEOUT,
                   max_bytes: int = DEFAULT_MAX_BYTES) -> dict:
    """``{status, headers, body}`` of a GET of ``url`` (redirects followed and re-checked)."""
    response = await fetch(policy, url, timeout=timeout, max_bytes=max_bytes)
    return {"status": response.status, "headers": response.headers, "body": response.text}


def search_url(endpoint: str, query: str) -> str:
    """The request URL for ``query``: the endpoint's ``{query}`` filled in, or
    SearXNG's ``q`` and ``format=json`` parameters added."""
    if "{query}" in endpoint:
        return endpoint.replace("{query}", quote_plus(query))
    separator = "&" if urlsplit(endpoint).query else "?"
    return endpoint + separator + urlencode({"q": query, "format": "json"})


async def web_search(policy: Policy, query: str, *, endpoint: str | None = None,
                     headers: Mapping[str, str] | None = None, max_results: int = 5) -> list[dict]:
    """``[{title, url, snippet}]`` from the configured search service."""
    if not isinstance(query, str) or not query.strip():
        raise SpellError("invalid_argument", "web_search: the query must be a non-empty string")
    if not endpoint:
        raise SpellError(
            "tool_error", "web_search is not configured: no search endpoint is set",
            hint='set [tools.web_search] endpoint = "http://HOST/search" (a SearXNG instance, or a URL '
                 "with {query}) in llmspell.toml and allow its host with --allow-net=HOST",
        )
    response = await fetch(policy, search_url(endpoint, query.strip()), headers=headers)
    if response.status != 200:
        raise SpellError("tool_error", f"web_search: the search service answered HTTP {response.status}")
    try:
        payload = json.loads(response.text)
    except ValueError:
        raise SpellError("tool_error", "web_search: the search service did not answer with JSON") from None
    results = payload.get("results") if isinstance(payload, dict) else None
    if not isinstance(results, list):
        raise SpellError("tool_error", "web_search: the answer has no 'results' list")
    limit = max(1, min(int(max_results), MAX_SEARCH_RESULTS))
    found = []
    for item in results:
        if not isinstance(item, dict) or not isinstance(item.get("url"), str):
            continue
        snippet = item.get("content") or item.get("snippet") or item.get("description") or ""
        found.append({"title": str(item.get("title") or ""), "url": item["url"], "snippet": str(snippet)})
        if len(found) == limit:
            break
    return found
