"""Transforms: a new state made from a state's data -- ``filter``, ``flatten``, ``sanitize``.

Each takes the data (a copy, :meth:`Store.snapshot`) and returns new data; the
source is never changed.  ``sanitize`` exists so a state can be shown or
logged without its secrets: a value under a key that *looks* secret is
replaced whole, whatever it holds.  A key looks secret when one of the
patterns is a whole word of it: the key lower-cased, camelCase split and
``-``, ``.`` and spaces read as ``_`` (``apiKey``, ``X-Api-Key`` and
``openai_api_key`` hold ``api_key``; ``max_tokens`` and ``author`` hold no
``token`` or ``auth``).  A pattern with ``*``, ``?`` or ``[`` is a glob
matched against the whole key so read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import Any

from llmspell.errors import SpellError

from .data import copy
from .keys import MISSING, get_in, set_in

#: What ``sanitize`` treats as secret by default (see the module).
DEFAULT_SECRET_PATTERNS: tuple[str, ...] = (
    "password", "passwd", "passphrase", "secret", "secrets", "token", "api_key", "apikey", "access_key",
    "private_key", "secret_key", "credential", "credentials", "auth", "authorization", "cookie", "session_key",
)
#: What a secret value becomes.
REDACTED = "[REDACTED]"
#: Flattened keys join the names on the way with this.
SEPARATOR = "."


def filter_keys(data: dict[str, Any], keys: Iterable[str], where: str) -> dict[str, Any]:
    """Only the listed keys (dotted paths keep their place in the nesting); missing ones are left out."""
    out: dict[str, Any] = {}
    for key in keys:
        value = get_in(data, key)
        if value is not MISSING:
            out = set_in(out, key, copy(value), key, where)
    return out


def flatten(data: dict[str, Any]) -> dict[str, Any]:
    """One level: ``{a = {b = 1}}`` is ``{["a.b"] = 1}``.  Lists and empty tables are values."""
    out: dict[str, Any] = {}

    def walk(value: Any, prefix: str) -> None:
        for name, inner in value.items():
            key = f"{prefix}{SEPARATOR}{name}" if prefix else name
            if type(inner) is dict and inner:
                walk(inner, key)
            else:
                out[key] = copy(inner)

    walk(data, "")
    return out


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[-. ]+")


def _words(name: str) -> str:
    return _SEPARATORS.sub("_", _CAMEL.sub("_", name)).lower()


def secret_matcher(patterns: Iterable[str]) -> Any:
    """A test of a key name against ``patterns`` (see the module)."""
    patterns = list(patterns)
    globs = [_words(p) for p in patterns if any(c in p for c in "*?[")]
    plain = [_words(p) for p in patterns if not any(c in p for c in "*?[")]
    words = re.compile("(?:^|_)(?:" + "|".join(re.escape(p) for p in plain) + ")(?:_|$)") if plain else None

    def secret(name: str) -> bool:
        norm = _words(name)
        return bool(words and words.search(norm)) or any(fnmatchcase(norm, g) for g in globs)

    return secret


def sanitize(data: dict[str, Any], patterns: Iterable[str], replacement: Any = REDACTED) -> dict[str, Any]:
    """``data`` with the value of every key that looks secret (at any depth) replaced."""
    secret = secret_matcher(patterns)

    def walk(value: Any) -> Any:
        if type(value) is dict:
            return {k: (copy(replacement) if secret(k) else walk(v)) for k, v in value.items()}
        if type(value) is list:
            return [walk(v) for v in value]
        return value

    return walk(data)


def patterns_for(patterns: list[str] | None, keys: list[str] | None, where: str) -> tuple[str, ...]:
    """``patterns`` replace the defaults; ``keys`` are added to them."""
    chosen = tuple(DEFAULT_SECRET_PATTERNS if patterns is None else patterns) + tuple(keys or ())
    if not chosen:
        raise SpellError("invalid_argument", f"{where}: sanitize needs at least one pattern")
    if any(not p for p in chosen):
        raise SpellError("invalid_argument", f"{where}: a secret-key pattern cannot be empty")
    return chosen
