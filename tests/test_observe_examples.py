"""The hooks, events and guardrails examples run with ``llmspell run ... --model test`` and print the
same in every language."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
EXT = {"lua": ".lua", "js": ".js", "tengo": ".tengo"}

EXPECTED = {
    "hooks": ("sent at temperature 0.2, tokens used: 56\nsuccess (no tool calls) [reviewed]\n6 * 7 = 42\n"
              "permission_denied: file_write: beforeToolCall: no writes to /etc/",
              {"content": "success (no tool calls) [reviewed]", "refused": True}),
    "events": ("the first job event: job.progress\nprogress 1/3\nprogress 2/3\nprogress 3/3\n"
               "listeners of the last progress event: 0\ncalculator ran, success: true\n"
               "calculator ran, success: false\nmodel events: llm.request, llm.response\n"
               "validation_error: events.emit: a listener of 'job.failed' failed: cannot handle this",
               {"model_events": 2}),
    "guardrails": ("validation_error: guardrail 'no_passwords' blocked the prompt: the prompt contains a password\n"
                   "passed: success (no tool calls)\nstreamed: success (no tool calls)",
                   {"blocked": True}),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("lang", sorted(EXT))
def test_examples_print_the_same_in_every_language(isolated, name, lang):
    printed_want, result_want = EXPECTED[name]
    p = subprocess.run([sys.executable, "-m", "llmspell", "run", str(EXAMPLES / lang / (name + EXT[lang])),
                        "--model", "test", "--json"], cwd=isolated.cwd, env=isolated.env,
                       capture_output=True, text=True, timeout=120)
    isolated.no_traceback(p.stdout, p.stderr)
    assert p.returncode == 0, p.stderr
    printed, _, last = p.stdout.rstrip("\n").rpartition("\n")
    assert printed == printed_want
    assert json.loads(last) == result_want
