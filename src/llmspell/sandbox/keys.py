"""Provider API keys stay in the parent: what a worker removes of them before its spell runs.

A worker is a fork of the parent, so it starts with the parent's environment
and configuration, keys included, and a spell that broke out of its VM could
read them.  The worker needs none (its models are served by the parent,
models/remote.py), so before the spell runs it:

* unsets every key variable (``os.environ`` and the C ``environ``, which
  ``os.environ`` deletion also updates) and overwrites the original text of
  each in the process's initial environment block, which is what
  ``/proc/self/environ`` shows and which ``unsetenv`` leaves in memory;
* replaces the run's :class:`~llmspell.config.Settings` with a copy whose key
  variables hold :data:`PLACEHOLDER`, so what only asks *whether* a key is
  set (``llm.providers()``, which providers a spell may use) answers as
  before, and no key can be read from it;
* drops the SDK clients cached by models/resolve.py, overwriting the keys
  they hold first (a dropped client lingers on the heap until a full
  garbage collection).

A variable the policy lets the spell read (``--allow-env``) is left alone:
the operator gave it to the spell.

What is not removed: the rest of the parent's heap, which the fork copied
(freed strings, objects the parent's own frames still hold, such as a
``Settings`` an embedder built with a key in a dict).  Nothing in the worker
refers to it any more, but native code could scan memory for it; only a
worker that is not a fork of a process that held keys (a fork server started
before settings load, or a fresh interpreter) would remove that too.
"""

from __future__ import annotations

import ctypes
import dataclasses
import os
import re
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from llmspell.config import Settings

#: What a key variable holds in a worker's settings: set, but not readable here.
PLACEHOLDER = "(set; held by the parent process)"
_KEYISH = re.compile(r".*_API_KEY$")


def key_names(settings: Settings, environ: Iterable[str] = ()) -> set[str]:
    """Every variable that holds (or may hold) a provider's key: the known ones, those the
    settings name (``api_key_env``), and any ``*_API_KEY`` in ``environ`` or the settings' env."""
    from llmspell.config import KNOWN_PROVIDERS

    names = {var for variables in KNOWN_PROVIDERS.values() for var in variables}
    names |= {p.api_key_env for p in settings.providers.values() if p.api_key_env}
    names |= {name for name in (*environ, *settings.env) if _KEYISH.match(name)}
    return names


def secret_names(settings: Settings, policy: Any) -> set[str]:
    """:func:`key_names` less those the policy lets the spell read."""
    from llmspell.errors import SpellError
    from llmspell.sandbox.env import check_env

    names = set()
    for name in key_names(settings, os.environ):
        try:
            check_env(policy, name)
        except SpellError:
            names.add(name)
        except Exception:  # noqa: BLE001 -- no policy (None): nothing is granted
            names.add(name)
    return names


def keyless(settings: Settings, names: set[str]) -> Settings:
    """A copy of ``settings`` whose key variables say only that they are set."""
    env = {k: (PLACEHOLDER if k in names and v else v) for k, v in settings.env.items()}
    return dataclasses.replace(settings, env=env)


def scrub_environment(names: set[str]) -> None:
    """Unset ``names`` in this process and overwrite their text in the initial environment block."""
    for name in names:
        os.environ.pop(name, None)  # also unsetenv(3): the C environ
    _wipe_initial_block({name.encode() for name in names})


def _wipe_initial_block(names: set[bytes]) -> None:
    """Zero ``NAME=value`` entries of the block the kernel set up at exec (``/proc/self/environ``)."""
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        start, end = int(fields[47]), int(fields[48])  # env_start, env_end: fields 50 and 51 of proc(5)
    except (OSError, ValueError, IndexError):
        return
    if not 0 < start < end or end - start > 64 << 20:
        return
    block = (ctypes.c_char * (end - start)).from_address(start)
    data = bytes(block)
    offset = 0
    for entry in data.split(b"\0"):
        if entry.split(b"=", 1)[0] in names:
            ctypes.memset(start + offset, 0, len(entry))
        offset += len(entry) + 1


def clear_model_clients(settings: Settings, names: set[str]) -> None:
    """Drop the SDK clients models/resolve.py keeps per event loop, and take the keys out of them first.

    Dropping is not enough: a client is a cycle of objects, so it lingers on
    the heap (where ``gc.get_objects()`` finds it) until a full collection,
    which costs a worker tens of milliseconds; overwriting the keys it holds
    costs nothing."""
    resolve = sys.modules.get("llmspell.models.resolve")
    if resolve is None:  # never imported here: no client was made
        return
    values = {settings.env.get(name) for name in names} - {None, ""}
    for per_loop in list(resolve._clients.values()):
        for client in per_loop.values():
            _overwrite(client, values, set(), 4)
    resolve._clients.clear()


def _overwrite(obj: Any, values: set[str], seen: set[int], depth: int) -> None:
    """Replace every attribute of ``obj`` (and of what it holds, ``depth`` levels down) that is one of ``values``."""
    attributes = getattr(obj, "__dict__", None)
    if depth <= 0 or id(obj) in seen or not isinstance(attributes, dict):
        return
    seen.add(id(obj))
    for name, value in list(attributes.items()):
        if type(value) is str and value in values:
            attributes[name] = PLACEHOLDER
        elif not isinstance(value, str | bytes | int | float | type):
            _overwrite(value, values, seen, depth - 1)
