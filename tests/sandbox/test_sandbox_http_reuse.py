"""fetch reuses connections (the cause of http_get's 20 requests a second was a new client,
TLS context and connection per request), but never across host names or event loops."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from llmspell.sandbox import Policy
from llmspell.sandbox.httpclients import client_for, default_tls
from llmspell.sandbox.net import fetch


class Seen:
    def __init__(self) -> None:
        self.requests: list[tuple[int, str]] = []  # (client port, Host header)


@pytest.fixture
def server() -> Iterator[tuple[int, Seen]]:
    seen = Seen()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            seen.requests.append((self.client_address[1], self.headers.get("Host", "")))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd.server_address[1], seen
    httpd.shutdown()
    httpd.server_close()


def test_sequential_requests_share_one_connection(server) -> None:
    port, seen = server
    policy = Policy(allow_net=(f"127.0.0.1:{port}",))

    async def fifty() -> list[str]:
        return [(await fetch(policy, f"http://127.0.0.1:{port}/{i}")).text for i in range(50)]

    assert asyncio.run(fifty()) == ["ok"] * 50
    assert len({client for client, _ in seen.requests}) == 1


def test_a_connection_never_carries_two_host_names(server) -> None:
    port, seen = server
    policy = Policy(allow_net=(f"127.0.0.1:{port}", f"localhost:{port}"))

    async def alternate() -> None:
        for i in range(10):
            host = "localhost" if i % 2 else "127.0.0.1"
            await fetch(policy, f"http://{host}:{port}/")

    asyncio.run(alternate())
    hosts_per_connection: dict[int, set[str]] = {}
    for client, host in seen.requests:
        hosts_per_connection.setdefault(client, set()).add(host)
    assert len(hosts_per_connection) == 2
    assert all(len(hosts) == 1 for hosts in hosts_per_connection.values())


def test_clients_belong_to_their_loop_and_share_one_tls_context() -> None:
    async def get() -> object:
        return client_for("https", "example.com", "93.184.216.34", 443, True)

    first, second = asyncio.run(get()), asyncio.run(get())
    assert first is not second  # connections belong to the loop that opened them
    assert default_tls() is default_tls()


def test_the_least_recently_used_client_is_closed_beyond_the_limit() -> None:
    from llmspell.sandbox import httpclients

    async def many() -> tuple[object, object, bool]:
        first = client_for("http", "h0.example", "93.184.216.34", 80, True)
        for i in range(1, httpclients.MAX_CLIENTS + 1):
            client_for("http", f"h{i}.example", "93.184.216.34", 80, True)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        again = client_for("http", "h0.example", "93.184.216.34", 80, True)
        return first, again, first.is_closed

    first, again, closed = asyncio.run(many())
    assert closed and again is not first
