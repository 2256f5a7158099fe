"""Shared helpers of the Tengo conformance tests: decoding the reference's
cases (tests/tengo/corpus/README.md) and comparing values exactly."""

from __future__ import annotations

import base64
import datetime
import json
import math
import pathlib
from typing import Any

from llmspell.engines.tengo.objects import (
    UNDEFINED,
    Char,
    Error,
    ImmutableArray,
    ImmutableMap,
    Time,
)

#: The reference's cases, kept in the repository (see corpus/README.md for their origin and licence).
CASES_DIR = pathlib.Path(__file__).resolve().parent / "corpus"


def load_cases(name: str) -> list[dict]:
    path = CASES_DIR / name
    with path.open(encoding="utf-8") as f:  # a missing corpus is an error, not zero cases
        return [json.loads(line) for line in f if line.strip()]


def rfc3339_time(x: str) -> Time:
    dt = datetime.datetime.fromisoformat(x.replace("Z", "+00:00"))
    off = int(dt.utcoffset().total_seconds()) if dt.utcoffset() is not None else 0
    ns = int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000
    return Time(ns, off, "UTC" if off == 0 else "")


def decode(v: dict, decode_time: Any = rfc3339_time) -> Any:
    """A case's encoded value as a Tengo value (``decode_time`` reads times)."""
    (kind, x), = v.items()
    if kind == "int":
        return x
    if kind == "float":
        if isinstance(x, str):
            return {"NaN": math.nan, "+Inf": math.inf, "-Inf": -math.inf}[x]
        return float(x)
    if kind == "string":
        return x
    if kind == "bool":
        return x
    if kind == "char":
        return Char(ord(x))
    if kind == "undefined":
        return UNDEFINED
    if kind == "bytes":
        return bytearray(base64.b64decode(x))  # Tengo bytes are bytearrays (objects.py)
    if kind == "time":
        return decode_time(x)
    if kind == "error":
        return Error(decode(x, decode_time))
    if kind == "array":
        return [decode(e, decode_time) for e in x]
    if kind == "immutable_array":
        return ImmutableArray(decode(e, decode_time) for e in x)
    if kind == "map":
        return {k: decode(e, decode_time) for k, e in x.items()}
    if kind == "immutable_map":
        return ImmutableMap({k: decode(e, decode_time) for k, e in x.items()})
    raise ValueError(f"unknown encoding {kind}")


def same(a: Any, b: Any) -> bool:
    """Exact equality: same Tengo type and same value, recursively."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, Error):
        return same(a.value, b.value)
    if isinstance(a, Char):
        return a.v == b.v
    if isinstance(a, Time):
        return a.ns == b.ns
    return a == b if a is not UNDEFINED else b is UNDEFINED


def as_exported(v: Any) -> Any:
    """What an exported value looks like: top-level arrays and maps immutable."""
    if type(v) is list:
        return ImmutableArray(v)
    if type(v) is dict:
        return ImmutableMap(v)
    return v


def NullPolicy() -> Any:  # noqa: N802 - was a fake
    """Allows nothing: conformance cases never touch the outside world."""
    from llmspell.sandbox.policy import Policy

    return Policy()


class CaseHost:
    """The StdlibHost given to stdlib modules in conformance runs."""

    def __init__(self, max_string_len: int | None = None, max_bytes_len: int | None = None) -> None:
        self.policy = NullPolicy()
        self.output: list[str] = []
        if max_string_len:
            self.max_string_len = max_string_len
        if max_bytes_len:
            self.max_bytes_len = max_bytes_len

    def write(self, text: str) -> None:
        self.output.append(text)

    def cwd(self) -> pathlib.Path:
        return pathlib.Path("/nonexistent")
