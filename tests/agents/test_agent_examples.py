"""The agent examples run with ``llmspell run ... --model test`` and print the same in every language."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXT = {"lua": ".lua", "js": ".js", "tengo": ".tengo"}

EXPECTED = {
    "agent_tools": (
        '{"get_weather":{"city":"a","sky":"sunny","temperature_c":21},'
        '"calculator":"invalid_argument: calculator: unknown name \'a\'"}\n'
        "tool call: get_weather (ok)\ntool call: calculator (failed)",
        {"tool_calls": 2, "requests": 2}),
    "sub_agent": ('{"researcher":"success (no tool calls)"}\nasked the researcher', {"questions": 1}),
    "structured_output": ("title: a\nservings: 1\n- a a\nsum: number",
                          {"title": "a", "servings": 1, "ingredients": 1}),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_agent_examples_print_the_same_in_every_language(isolated, name):
    printed_want, result_want = EXPECTED[name]
    for lang, ext in EXT.items():
        p = subprocess.run([sys.executable, "-m", "llmspell", "run", str(EXAMPLES / lang / (name + ext)),
                            "--model", "test", "--json"], cwd=isolated.cwd, env=isolated.env,
                           capture_output=True, text=True, timeout=120)
        isolated.no_traceback(p.stdout, p.stderr)
        assert p.returncode == 0, (lang, p.stderr)
        printed, _, last = p.stdout.rstrip("\n").rpartition("\n")
        result = json.loads(last)
        assert printed == printed_want, lang
        assert {k: result[k] for k in result_want} == result_want, lang
