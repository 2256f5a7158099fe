"""HTTP clients for :func:`llmspell.sandbox.net.fetch`, reused instead of built per request.

A fresh ``httpx.AsyncClient`` per request cost about 40 ms, nearly all of it
loading the CA bundle into a new TLS context (even for plain ``http``), and
that work blocks the event loop: 10 000 queued ``tools.http_get`` calls
drained about 20 a second.  So there is one verifying TLS context per
process, and one client (with its keep-alive connections) per event loop and
*origin at an address*: ``(scheme, host name, checked IP, port, TLS setting)``.
Keying on the name as well as the address keeps a TLS connection made for one
name from ever carrying a request for another name on the same address; the
policy still checks every request (and every redirect) before it is sent.

Clients belong to the loop that made them (their connections do), are kept
for the loop's life in a small LRU, and are closed when pushed out.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import weakref
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import httpx

#: Clients kept per event loop; the least recently used is closed beyond this.
MAX_CLIENTS = 32
#: Seconds an idle keep-alive connection is kept.
KEEPALIVE_EXPIRY = 5.0

_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, OrderedDict[tuple, Any]] = (
    weakref.WeakKeyDictionary()
)


@functools.lru_cache(maxsize=1)
def default_tls() -> ssl.SSLContext:
    """The verifying TLS context (certifi's CA bundle), built once: building one costs ~35 ms."""
    import httpx

    return httpx.create_ssl_context(verify=True)


def client_for(scheme: str, host: str, ip: str, port: int, verify: ssl.SSLContext | bool) -> httpx.AsyncClient:
    """The client of this origin at this address on the running loop (made on first use)."""
    import httpx

    tls: ssl.SSLContext | bool = default_tls() if verify is True else verify
    key = (scheme, host, ip, port, id(tls) if isinstance(tls, ssl.SSLContext) else tls)
    loop = asyncio.get_running_loop()
    pool = _pools.get(loop)
    if pool is None:
        pool = _pools[loop] = OrderedDict()
    client = pool.get(key)
    if client is not None and not client.is_closed:
        pool.move_to_end(key)
        return client
    client = httpx.AsyncClient(
        trust_env=False, follow_redirects=False, verify=tls,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20,
                            keepalive_expiry=KEEPALIVE_EXPIRY),
        event_hooks={"response": [_take_location]},
    )
    pool[key] = client
    while len(pool) > MAX_CLIENTS:
        _, old = pool.popitem(last=False)
        closing = loop.create_task(old.aclose())
        _closing.add(closing)  # a task nobody holds may be collected before it runs
        closing.add_done_callback(_closing.discard)
    return client


_closing: set[asyncio.Task] = set()

#: Where :func:`_take_location` leaves a redirect's target, in ``response.extensions``.
LOCATION = "llmspell.location"
_REDIRECTS = (301, 302, 303, 307, 308)


async def _take_location(response: httpx.Response) -> None:
    # httpx parses a redirect's Location itself (even with follow_redirects off) and
    # rejects spellings such as 0177.0.0.1 with a protocol error; the policy, which
    # knows every spelling, must be the one that judges where a redirect points.
    if response.status_code in _REDIRECTS and "location" in response.headers:
        response.extensions[LOCATION] = response.headers["location"]
        del response.headers["location"]
