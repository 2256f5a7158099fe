"""Response bodies decoded under a size cap, layer by layer, as the bytes arrive.

A compressed body is a promise of more bytes than were sent: 3.4 KB of
``Content-Encoding: gzip, gzip`` decode to 2 GB.  A decoder that inflates each
received chunk in one call (as httpx's do) produces all of that before anyone
can count it.  Here every layer inflates at most :data:`PIECE` bytes at a time
(zlib's ``max_length``) and hands that piece to the next layer at once, so the
bytes in flight are bounded by ``layers x PIECE`` and decoding stops the moment
the decoded total passes the limit, whatever the ratio of any layer.

Supported: ``gzip`` (``x-gzip``), ``deflate`` (zlib-wrapped or raw, as servers
send either) and ``identity``; only those are asked for (``Accept-Encoding``).
A token this module cannot decode with a cap (``br``, ``zstd``, anything
unknown) leaves the body as received, as httpx does for codings it lacks:
the raw bytes are capped as well.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable

#: What the client asks for: exactly the codings decoded here.
ACCEPT_ENCODING = "gzip, deflate"
#: The most bytes one layer produces before passing them on.
PIECE = 64 * 1024
#: More codings than this on one body is not a real server.
MAX_LAYERS = 4


class _Inflater:
    """One zlib layer (gzip, or deflate with either framing) that yields at most ``PIECE`` bytes per step."""

    def __init__(self, gzip: bool) -> None:
        self._raw_fallback = not gzip  # deflate: zlib-wrapped first, raw if that fails at once
        self._started = False
        self._d = zlib.decompressobj(zlib.MAX_WBITS | 16 if gzip else zlib.MAX_WBITS)

    def step(self, data: bytes) -> bytes:
        try:
            out = self._d.decompress(data, PIECE)
        except zlib.error:
            if self._raw_fallback and not self._started:
                self._raw_fallback = False
                self._d = zlib.decompressobj(-zlib.MAX_WBITS)
                return self.step(data)
            raise
        self._started = True
        return out

    def more(self, last: bytes) -> bytes | None:
        """The next piece of output without new input, or ``None`` when this layer needs input."""
        if self._d.eof:
            return None
        if self._d.unconsumed_tail or len(last) == PIECE:
            return self._d.decompress(self._d.unconsumed_tail, PIECE)
        return None


class DecodeError(ValueError):
    """The body is not valid data for its declared Content-Encoding."""


class BoundedDecoder:
    """Decodes a body with the given ``Content-Encoding`` header, calling ``too_large()``
    (which must raise) as soon as more than ``limit`` bytes were received or produced."""

    def __init__(self, content_encoding: str, limit: int, too_large: Callable[[], BaseException]) -> None:
        tokens = [t.strip().lower() for t in content_encoding.split(",") if t.strip()]
        if len(tokens) > MAX_LAYERS:
            raise DecodeError(f"the response declares {len(tokens)} content codings; at most {MAX_LAYERS} "
                              "are accepted")
        # Codings are listed in the order they were applied: undo the last one first.
        self._layers = [_Inflater(gzip=t in ("gzip", "x-gzip")) for t in reversed(tokens)
                        if t in ("gzip", "x-gzip", "deflate")]
        self._limit = limit
        self._too_large = too_large
        self._received = 0
        self._produced = 0
        self._out: list[bytes] = []

    @property
    def size(self) -> int:
        """Decoded bytes so far."""
        return self._produced

    def feed(self, data: bytes) -> None:
        """Take the next received bytes."""
        self._received += len(data)
        if self._received > self._limit:
            raise self._too_large()
        try:
            self._push(0, data)
        except zlib.error as exc:
            raise DecodeError(f"the response body is not valid for its Content-Encoding: {exc}") from None

    def body(self) -> bytes:
        """Everything decoded, once the last bytes were fed."""
        return b"".join(self._out)

    def _push(self, index: int, data: bytes) -> None:
        if index == len(self._layers):
            self._emit(data)
            return
        layer = self._layers[index]
        out: bytes | None = layer.step(data)
        while out is not None:
            if out:
                self._push(index + 1, out)
            out = layer.more(out)

    def _emit(self, data: bytes) -> None:
        if not data:
            return
        self._produced += len(data)
        if self._produced > self._limit:
            raise self._too_large()
        self._out.append(data)
