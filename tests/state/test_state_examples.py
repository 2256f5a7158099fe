"""The State Management examples run with ``llmspell run`` in every language, print the same, and keep
their state between runs (and between languages) in SQLite or a JSON file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = ["lua/state_management.lua", "js/state_management.js", "tengo/state_management.tengo"]


def run(isolated, example, *args):
    p = isolated.cli("run", str(REPO / "examples" / example), "--json", *args)
    assert p.returncode == 0, p.stderr
    isolated.no_traceback(p.stdout, p.stderr)
    printed, _, last = p.stdout.strip().rpartition("\n")
    return printed, json.loads(last)


def test_in_memory_every_language_prints_the_same(isolated):
    outputs = [run(isolated, example) for example in EXAMPLES]
    assert outputs[0][0] == outputs[1][0] == outputs[2][0]
    assert '"api_key":"[REDACTED]"' in outputs[0][0]
    assert all(r == {"visits": 1, "persistence": "memory", "keys": ["context", "session", "settings", "stats"],
                     "settings": {"theme": "dark", "language": "en", "page_size": 20}} for _, r in outputs)


@pytest.mark.parametrize("name", ["state.db", "state.json"])
def test_the_state_goes_on_between_runs_and_languages(isolated, name):
    folder = isolated.cwd / "demo"
    folder.mkdir()
    grants = [f"--allow-read={folder}", f"--allow-write={folder}", "--param", f"path={folder / name}"]
    results = [run(isolated, example, *grants)[1] for example in EXAMPLES]
    assert [r["visits"] for r in results] == [1, 2, 3]
    assert {r["persistence"] for r in results} == {"sqlite" if name.endswith(".db") else "file"}
