"""The ``file`` store: the state as one JSON object in a file, replaced atomically on every write.

Each write makes the whole new text, writes it to a temporary file in the same
folder, fsyncs it, renames it over the state file and fsyncs the folder: a
reader (or a run after a crash, SIGKILL included) finds the old file or the
new one, never half of one, and ``set`` returns only once the new one is on
disk.  A file that is there but is not a JSON object is never written over:
opening it is an error naming the file, and what it holds stays.

One writer at a time: the file is read when the state is opened and each
write replaces it whole, so two processes (or two runs in one process: each
run has its own stores) writing one file keep only the last writer's data.
States shared between processes or runs use ``sqlite``.  A writer killed
between writing its temporary file and renaming it leaves that file
(``.NAME.RANDOM.tmp``) beside the state; the state itself is whole.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llmspell.errors import SpellError
from llmspell.sandbox.paths import read_resolved, replace_file

from . import data as _data
from ._files import checked_path, not_regular, os_error, parent_dir, sync_dir
from .keys import MISSING
from .store import MAX_FILE_BYTES, Reserve, Store

if TYPE_CHECKING:
    from llmspell.sandbox.policy import Policy


class FileStore(Store):
    kind = "file"

    def __init__(self, policy: Policy, real: Path, reserve: Reserve | None, where: str) -> None:
        super().__init__()
        self.policy = policy
        self.path = real
        self._reserve = reserve
        self._writable: bool | SpellError | None = None
        self._data: dict[str, Any] = {}
        #: Each top-level value's JSON text, kept so a write encodes only what changed.
        self._texts: dict[str, str] = {}
        self._load(where)

    @classmethod
    def open(cls, policy: Policy, path: str, base: Path | None, reserve: Reserve | None, where: str) -> FileStore:
        """The state in the file ``path`` (made on the first write if missing); needs read access."""
        return cls(policy, checked_path(policy, path, base, ("read",)), reserve, where)

    def _load(self, where: str) -> None:
        real = self.path
        assert real is not None
        try:
            raw = read_resolved(real, max_bytes=MAX_FILE_BYTES)
        except OSError as exc:
            if isinstance(exc, FileNotFoundError):
                return  # a new state: the file is made on the first write
            raise os_error(exc, real, "read", where) from None
        except SpellError as exc:
            if exc.kind == "invalid_argument" and "not a regular file" in exc.message:
                raise not_regular(real, where) from None
            if exc.kind == "invalid_argument":  # a folder
                raise SpellError("invalid_argument", f'{where}: "{real}" is a directory, not a state file',
                                 hint="name a file inside it, e.g. state.json") from None
            raise SpellError(exc.kind, f"{where}: {exc.message}", hint=exc.hint) from None
        if not raw.strip():
            return  # an empty file: an empty state
        try:
            value = _data.decode(raw)
        except (ValueError, RecursionError) as exc:
            raise corrupt(real, where, str(exc)) from None
        if type(value) is not dict:
            raise corrupt(real, where, "it holds JSON, but not an object")
        self._data = value
        self._texts = {k: _data.encode(v) for k, v in value.items()}

    # -- the store's primitives ---------------------------------------------------------
    def _present(self, names: list[str]) -> set[str]:
        return {n for n in names if n in self._data}

    def _read(self, name: str) -> Any:
        return self._data.get(name, MISSING)

    def _write(self, name: str, value: Any, where: str) -> None:
        texts = dict(self._texts)
        if value is MISSING:
            texts.pop(name, None)
        else:
            texts[name] = _data.encode(value)
        body = ",".join(f"{json.dumps(k, ensure_ascii=False)}:{texts[k]}" for k in sorted(texts))
        self._replace(("{" + body + "}\n").encode("utf-8"), where)
        # Only once the file holds it: a write that failed leaves the state as the file has it.
        self._texts = texts
        if value is MISSING:
            self._data.pop(name, None)
        else:
            self._data[name] = value

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._data)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return _data.copy(self._data)

    # -- writing ----------------------------------------------------------------------
    def _check_writable(self, where: str) -> None:
        if self._writable is None:
            try:
                self.policy.check_write(self.path)
                self._writable = True
            except SpellError as exc:
                self._writable = exc
        if isinstance(self._writable, SpellError):
            err = self._writable
            raise SpellError(err.kind, f"{where}: {err.message}", hint=err.hint)

    def _replace(self, text: bytes, where: str) -> None:
        real = self.path
        assert real is not None
        self._check_writable(where)
        if self._reserve is not None:
            self._reserve(len(text))
        try:
            with parent_dir(real, create=self.policy) as (dfd, name):
                _atomic_replace(dfd, name, text, real, where)
        except OSError as exc:
            raise os_error(exc, real, "write", where) from None


def _atomic_replace(dfd: int, name: str, text: bytes, real: Path, where: str) -> None:
    """Temporary file, fsync, rename over ``name``, fsync of the folder."""
    try:
        existing = os.stat(name, dir_fd=dfd, follow_symlinks=False)
    except FileNotFoundError:
        existing = None
    if existing is not None and not stat.S_ISREG(existing.st_mode):
        if stat.S_ISDIR(existing.st_mode):
            raise SpellError("invalid_argument", f'{where}: "{real}" is a directory, not a state file')
        raise not_regular(real, where)
    replace_file(dfd, name, text)
    sync_dir(dfd)


def corrupt(real: Path, where: str, why: str) -> SpellError:
    """A state file that cannot be read as one: named, and left as it is."""
    return SpellError("invalid_argument", f'{where}: "{real}" is not a readable state file ({why}); it was left '
                      "as it is", hint="fix or move the file; llmspell never writes over a state it cannot read")
