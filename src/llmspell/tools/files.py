"""The file tools: text in and out of files the policy allows, nothing else.

They are thin on purpose: the checks and the link-safe opening live in
:mod:`llmspell.sandbox.paths`; these only add text decoding, run the
blocking I/O off the event loop, and say how to grant a refused file's
folder: a model (or its user) asked to read one file usually means the
folder it is in, and ``--allow-read`` grants folders as well as files.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

from llmspell.errors import SpellError
from llmspell.sandbox.paths import list_dir, read_bytes, resolve_path, write_bytes
from llmspell.sandbox.policy import Policy

#: What file_read returns at most; bigger files are an error, not a truncated answer.
MAX_READ_BYTES = 16 * 1024 * 1024


def _folder_hint(exc: SpellError, mode: str, path: str, base: str | os.PathLike | None) -> SpellError:
    """A refused file's error, naming also the flag that grants its folder (the
    sandbox's message names the one file: the narrowest grant).  In the message,
    not a hint: every language's error value carries the message."""
    if exc.kind == "permission_denied" and exc.message.find(f"; run with --allow-{mode}=") > 0:
        try:
            folder = resolve_path(path, base=base).parent
        except SpellError:
            return exc
        return dataclasses.replace(exc, message=f"{exc.message} (or --allow-{mode}={folder} for its folder)")
    return exc


async def file_read(policy: Policy, path: str, *, base: str | os.PathLike | None = None,
                    max_bytes: int = MAX_READ_BYTES) -> str:
    """The text (UTF-8) of a file the spell may read."""
    try:
        data = await asyncio.to_thread(read_bytes, policy, path, base, max_bytes=max_bytes)
    except SpellError as exc:
        raise _folder_hint(exc, "read", path, base) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SpellError("invalid_argument", f'"{path}" is not UTF-8 text (byte {exc.start})') from None


async def file_write(policy: Policy, path: str, content: str, *,
                     base: str | os.PathLike | None = None,
                     count_write: Callable[[int], None] | None = None) -> dict:
    """Replace (or create) a file with ``content``, creating missing folders the
    spell may write; returns ``{path, bytes}`` with the real path written.
    ``count_write`` is the run's write quota (SpellRun.count_write)."""
    if not isinstance(content, str):
        raise SpellError("invalid_argument", "file_write: content must be a string")
    data = content.encode("utf-8")
    try:
        real: Path = await asyncio.to_thread(write_bytes, policy, path, data, base, make_parents=True,
                                             reserve=count_write)
    except SpellError as exc:
        raise _folder_hint(exc, "write", path, base) from None
    return {"path": str(real), "bytes": len(data)}


async def file_list(policy: Policy, path: str = ".", *, base: str | os.PathLike | None = None) -> list[dict]:
    """The entries of a folder: ``[{name, type, size}]`` sorted by name."""
    return await asyncio.to_thread(list_dir, policy, path, base)
