"""The pipes between a spell's worker and its parent: framed messages, read safely.

A worker is untrusted once a spell runs in it: a spell that broke out of its
VM into Python or native code writes whatever bytes it likes on its pipe.  So
what the parent reads from a worker is never trusted as Python objects:

* each message is a frame, a 4-byte length then the body, and a frame longer
  than the run allows is refused from its header, before any of it is read;
* the body is a pickle read by :class:`PlainUnpickler`, which refuses every
  class, function or extension a pickle could name: what comes out can only be
  ``None``, booleans, numbers, strings, bytes, tuples, lists, dicts and sets,
  so reading a forged frame runs no code in the parent (pickle's ``REDUCE``
  needs a callable, and no callable can be loaded);
* :func:`check_plain` then walks the value without recursion and refuses
  what a worker could still build to hurt the parent's later code: a cycle,
  a container shared by two places, nesting deeper than any result may have.

The other direction, parent to worker, is trusted (the worker runs a fork of
the parent's code), so it uses ordinary pickles.  Reads in the parent never
block its event loop (an ``asyncio.StreamReader``); the worker writes
whole frames, blocking, one at a time.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
from typing import Any

_HEADER = struct.Struct(">I")
#: The largest frame either side accepts: 4 GiB is what the header can say.
MAX_FRAME = (1 << 32) - 1
#: How deep a plain value from a worker may nest (a result's own limit is 64, values.MAX_DEPTH).
MAX_DEPTH = 200
_PLAIN_LEAVES = (type(None), bool, int, float, str, bytes)


class WireError(Exception):
    """A frame the parent will not read: too large, not a plain pickle, or not plain data."""


class PlainUnpickler(pickle.Unpickler):
    """Reads a pickle that names no class, function or extension, or refuses it."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError("a worker's message may hold plain data only")

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("a worker's message may hold plain data only")


def frame(value: Any) -> bytes:
    """``value`` as one frame (header and pickle)."""
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    if len(body) > MAX_FRAME:
        raise WireError(f"a message of {len(body)} bytes is larger than a frame can be")
    return _HEADER.pack(len(body)) + body


def read_plain(body: bytes) -> Any:
    """The plain value in an untrusted frame body, or :class:`WireError`."""
    try:
        value = PlainUnpickler(io.BytesIO(body)).load()
    except Exception as exc:  # noqa: BLE001 -- any malformed pickle is the same refusal
        raise WireError(f"not a plain-data message ({type(exc).__name__})") from None
    check_plain(value)
    return value


def check_plain(value: Any, max_depth: int = MAX_DEPTH) -> None:
    """Refuse anything but a tree of plain values: no cycles, no shared containers, bounded depth."""
    seen: set[int] = set()
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, _PLAIN_LEAVES):
            continue
        if type(item) not in (list, tuple, dict, set, frozenset):
            raise WireError(f"a {type(item).__name__} is not plain data")
        if depth >= max_depth:
            raise WireError(f"the message nests more than {max_depth} levels deep")
        if id(item) in seen:
            raise WireError("the message holds a container twice (or a cycle)")
        seen.add(id(item))
        if type(item) is dict:
            for key, sub in item.items():
                if not isinstance(key, _PLAIN_LEAVES):
                    raise WireError(f"a {type(key).__name__} is not a plain dict key")
                stack.append((sub, depth + 1))
        else:
            stack.extend((sub, depth + 1) for sub in item)


async def read_frame(reader: Any, limit: int) -> bytes | None:
    """The next frame's body from an ``asyncio.StreamReader``; ``None`` at a clean end of the pipe.

    A header that announces more than ``limit`` bytes is refused before the body is read."""
    import asyncio

    try:
        header = await reader.readexactly(_HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise WireError("the pipe ended inside a message header") from None
        return None
    (size,) = _HEADER.unpack(header)
    if size > limit:
        raise WireError(f"a message of {size} bytes is larger than the {limit} bytes a run's message may be")
    try:
        return await reader.readexactly(size)
    except asyncio.IncompleteReadError:
        raise WireError("the pipe ended inside a message") from None


def write_all(fd: int, data: bytes) -> None:
    """Write ``data`` whole to a blocking file descriptor."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


class FrameBuffer:
    """Cuts frames out of bytes read in pieces (the worker's non-blocking reads of the parent's pipe)."""

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._data += data
        bodies = []
        while len(self._data) >= _HEADER.size:
            (size,) = _HEADER.unpack_from(self._data)
            end = _HEADER.size + size
            if len(self._data) < end:
                break
            bodies.append(bytes(self._data[_HEADER.size:end]))
            del self._data[:end]
        return bodies
