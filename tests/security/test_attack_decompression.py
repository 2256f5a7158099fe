"""Compression bombs: a few kilobytes on the wire that inflate to gigabytes.

The issue's case is 3.4 KB of ``Content-Encoding: gzip, gzip`` that decodes to
2 GB (the worker reached 616 MB before it was stopped; inline, the host
reached 4 GB).  Every fetch -- ``tools.http_get``, a redirect's target,
``tools.web_search`` -- must stop at its size limit while inflating, across
every layer and framing (gzip, deflate, chunked), with its memory staying near
the limit, not near what the bomb would become.
"""

from __future__ import annotations

import asyncio
import threading
import tracemalloc
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from tests.security.conftest import expect_error

from llmspell.errors import SpellError
from llmspell.sandbox import Policy
from llmspell.sandbox.net import fetch

ALL_LANGS = ("lua", "js", "tengo")
MiB = 1024 * 1024


def zeros(total: int, wbits: int) -> bytes:
    """A stream of ``total`` zero bytes compressed with zlib framing ``wbits`` (31 gzip, 15 zlib).

    Built in milliseconds: after a full flush the compressor starts afresh, so every
    further megabyte compresses to the same block, which is repeated.  The trailer's
    checksum is that of the first megabytes only: a decoder with a cap never gets there."""
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    chunk = b"\0" * MiB
    head = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    block = c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    assert block == c.compress(chunk) + c.flush(zlib.Z_FULL_FLUSH)
    return head + block * (total // MiB - 1) + c.flush()


def wrap(data: bytes, wbits: int) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, wbits)
    return c.compress(data) + c.flush()


class BombServer:
    """Serves bombs on 127.0.0.1: ``/PATH`` -> (headers, body, chunked)."""

    def __init__(self, routes: dict[str, tuple[list[tuple[str, str]], bytes, bool]]) -> None:
        self.routes = routes
        self.hits: list[str] = []
        server = self
        routes_ = routes

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = self.path.split("?", 1)[0]
                server.hits.append(path)
                headers, body, chunked = routes_[path]
                try:
                    self.send_response(302 if any(k == "Location" for k, _ in headers) else 200)
                    for key, value in headers:
                        self.send_header(key, value)
                    if chunked:
                        self.send_header("Transfer-Encoding", "chunked")
                        self.end_headers()
                        for i in range(0, len(body), 1000):
                            piece = body[i:i + 1000]
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                        self.wfile.write(b"0\r\n\r\n")
                    else:
                        self.send_header("Content-Length", str(len(body)))
                        self.end_headers()
                        self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):  # the client stopped reading: as it should
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def bombs() -> Iterator[BombServer]:
    gzip2 = wrap(zeros(2048 * MiB, 31), 31)  # the issue's: 2 GiB in two gzip layers
    assert len(gzip2) < 8 * 1024
    deflate2 = wrap(zeros(2048 * MiB, 15), 15)
    raw_deflate = zeros(512 * MiB, -15)
    mixed = wrap(zeros(2048 * MiB, 15), 31)  # deflate first, then gzip: "deflate, gzip"
    small = wrap(wrap(b"hello, " * 1000, 31), 15)
    gz = [("Content-Type", "text/plain")]
    srv = BombServer({
        "/gzip2": (gz + [("Content-Encoding", "gzip, gzip")], gzip2, False),
        "/gzip2-chunked": (gz + [("Content-Encoding", "gzip, gzip")], gzip2, True),
        "/gzip2-two-headers": (gz + [("Content-Encoding", "gzip"), ("Content-Encoding", "gzip")], gzip2, False),
        "/x-gzip": (gz + [("Content-Encoding", "x-gzip, GZIP")], gzip2, True),
        "/deflate2": (gz + [("Content-Encoding", "deflate, deflate")], deflate2, False),
        "/raw-deflate": (gz + [("Content-Encoding", "deflate")], raw_deflate, True),
        "/mixed": (gz + [("Content-Encoding", "deflate, gzip")], mixed, False),
        "/many-layers": (gz + [("Content-Encoding", "gzip, gzip, gzip, gzip, gzip")], gzip2, False),
        "/small": (gz + [("Content-Encoding", "gzip, deflate")], small, True),
        "/search": ([("Content-Type", "application/json"), ("Content-Encoding", "gzip, gzip")], gzip2, False),
        "/redirect": ([("Location", "/gzip2")], b"", False),
    })
    yield srv
    srv.close()


def _get(lang: str, url: str) -> str:
    if lang == "lua":
        return f'return #tools.http_get("{url}").body'
    if lang == "js":
        return f'return (await tools.http_get("{url}")).body.length'
    return f'x := tools.http_get("{url}")\nexport is_error(x) ? x : len(x.body)\n'


LIMITS = ("--max-memory", "64MB", "--timeout", "60")


@pytest.mark.parametrize("lang", ALL_LANGS)
@pytest.mark.parametrize("path", ["/gzip2", "/gzip2-chunked", "/gzip2-two-headers", "/x-gzip", "/deflate2",
                                  "/raw-deflate", "/mixed", "/redirect"])
def test_a_bomb_stops_at_the_size_limit(spell, bombs, lang, path):
    result = spell(lang, _get(lang, bombs.url(path)), f"--allow-net=127.0.0.1:{bombs.port}", *LIMITS)
    expect_error(result, "limit_exceeded", contains="larger than the limit")


@pytest.mark.parametrize("lang", ALL_LANGS)
def test_more_layers_than_any_server_uses_are_refused(spell, bombs, lang):
    result = spell(lang, _get(lang, bombs.url("/many-layers")), f"--allow-net=127.0.0.1:{bombs.port}", *LIMITS)
    expect_error(result, "tool_error", contains="content codings")


@pytest.mark.parametrize("lang", ALL_LANGS)
def test_web_search_stops_a_bomb_too(spell, tree, bombs, lang):
    (tree.root / "llmspell.toml").write_text(f'[tools.web_search]\nendpoint = "{bombs.url("/search")}"\n')
    src = {"lua": 'return tools.web_search("q")', "js": 'return await tools.web_search("q")',
           "tengo": 'x := tools.web_search("q")\nexport x\n'}[lang]
    result = spell(lang, src, f"--allow-net=127.0.0.1:{bombs.port}", *LIMITS)
    expect_error(result, "limit_exceeded")


@pytest.mark.parametrize("lang", ALL_LANGS)
def test_a_real_compressed_body_is_decoded(spell, bombs, lang):
    """The control case: two honest layers decode to the text."""
    result = spell(lang, _get(lang, bombs.url("/small")), f"--allow-net=127.0.0.1:{bombs.port}")
    assert result.code == 0, result.err
    assert result.out.strip() == str(len(b"hello, " * 1000))


@pytest.mark.parametrize("path", ["/gzip2", "/gzip2-chunked", "/mixed", "/raw-deflate"])
def test_memory_stays_near_the_limit_while_inflating(bombs, path):
    """In process (as ``isolation="inline"`` runs it): the bytes ever held stay within a few
    megabytes of the 1 MiB limit, whatever the bomb would become."""
    policy = Policy(allow_net=(f"127.0.0.1:{bombs.port}",))
    tracemalloc.start()
    try:
        with pytest.raises(SpellError) as excinfo:
            asyncio.run(fetch(policy, bombs.url(path), max_bytes=MiB))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert excinfo.value.kind == "limit_exceeded"
    assert peak < 8 * MiB, f"peak {peak / MiB:.1f} MiB while decoding a bomb under a 1 MiB limit"
