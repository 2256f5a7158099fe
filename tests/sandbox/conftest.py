"""Fixtures for the sandbox tests: a folder layout full of traps, and local HTTP servers."""

from __future__ import annotations

import gzip
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest


@dataclass
class Layout:
    """tmp/
         allowed/file.txt, allowed/sub/inner.txt
         allowed-sibling (named like allowed + "-x"): allowedx/secret.txt
         outside/secret.txt
    """

    root: Path
    allowed: Path
    sibling: Path
    outside: Path


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    allowed = tmp_path / "a"
    (allowed / "sub").mkdir(parents=True)
    (allowed / "file.txt").write_text("inside")
    (allowed / "sub" / "inner.txt").write_text("inner")
    sibling = tmp_path / "ab"
    sibling.mkdir()
    (sibling / "secret.txt").write_text("sibling secret")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("outside secret")
    return Layout(tmp_path, allowed, sibling, outside)


@dataclass
class Server:
    """A local HTTP server; ``hits`` lists the paths it was asked for and ``hosts`` the Host headers."""

    port: int
    hits: list[str] = field(default_factory=list)
    hosts: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            server.hits.append(parts.path)
            server.hosts.append(self.headers.get("Host", ""))
            if parts.path == "/redirect":
                self._send(int(query.get("status", "302")), b"", {"Location": query["to"]})
            elif parts.path == "/big":
                self._send(200, b"x" * int(query["n"]), {"Content-Type": "text/plain"})
            elif parts.path == "/chunked":
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for _ in range(int(query["chunks"])):
                    self.wfile.write(b"1000\r\n" + b"y" * 0x1000 + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
            elif parts.path == "/gzip-bomb":
                body = gzip.compress(b"\0" * int(query["n"]))
                self._send(200, body, {"Content-Encoding": "gzip"})
            elif parts.path == "/slow":
                server.release.wait(10)
                self._send(200, b"late")
            elif parts.path == "/json":
                self._send(200, query["body"].encode(), {"Content-Type": "application/json"})
            elif parts.path == "/latin1":
                self._send(200, "café".encode("latin-1"), {"Content-Type": "text/plain; charset=iso-8859-1"})
            else:
                self._send(200, b"hello from " + parts.path.encode(), {"Content-Type": "text/plain",
                                                                        "X-Test": "yes"})

    return Handler


@pytest.fixture
def make_server() -> Iterator:
    started: list[tuple[ThreadingHTTPServer, Server]] = []

    def start(tls: ssl.SSLContext | None = None) -> Server:
        state = Server(port=0)
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
        if tls is not None:
            httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
        httpd.daemon_threads = True
        state.port = httpd.server_address[1]
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        started.append((httpd, state))
        return state

    yield start
    for httpd, state in started:
        state.release.set()
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def server(make_server) -> Server:
    return make_server()
