"""Merging two states' data into a third: ``deep``, ``shallow`` or ``replace``.

``ours`` is the state ``merge`` is called on, ``theirs`` the argument.  Where
both hold a key, ``conflictResolution`` says whose value stays (``theirs``
by default, as ``Object.assign`` and Lua's table updates read); ``deep``
merges tables inside tables the same way, so only leaves conflict (a table
and a non-table under one key conflict whole).  ``shallow`` decides per
top-level key.  ``replace`` keeps one side whole: the other's keys are not
kept.  Merging never changes its inputs: the result is made of copies.
"""

from __future__ import annotations

from typing import Any, Literal

from .data import copy

Strategy = Literal["deep", "shallow", "replace"]
Resolution = Literal["ours", "theirs"]


def merge(ours: dict[str, Any], theirs: dict[str, Any], strategy: Strategy = "deep",
          resolution: Resolution = "theirs") -> dict[str, Any]:
    """The merged data (see the module)."""
    if strategy == "replace":
        return copy(ours if resolution == "ours" else theirs)
    if strategy == "shallow":
        first, second = (theirs, ours) if resolution == "ours" else (ours, theirs)
        return copy({**first, **second})
    return _deep(ours, theirs, resolution == "ours")


def _deep(ours: dict[str, Any], theirs: dict[str, Any], keep_ours: bool) -> dict[str, Any]:
    out = {k: copy(v) for k, v in ours.items()}
    for key, value in theirs.items():
        if key not in ours:
            out[key] = copy(value)
            continue
        mine = ours[key]
        if type(mine) is dict and type(value) is dict:
            out[key] = _deep(mine, value, keep_ours)
        elif not keep_ours:
            out[key] = copy(value)
    return out
