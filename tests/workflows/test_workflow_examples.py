"""The Workflow Orchestration example runs with ``llmspell run ... --model test`` and prints the same in every
language (timings aside)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXT = {"lua": ".lua", "js": ".js", "tengo": ".tengo"}


def test_workflow_orchestration_example_prints_the_same_in_every_language(isolated):
    printed: dict[str, str] = {}
    for lang, ext in EXT.items():
        spell = EXAMPLES / lang / f"workflow_orchestration{ext}"
        p = subprocess.run([sys.executable, "-m", "llmspell", "run", str(spell), "--model", "test", "--json"],
                           cwd=isolated.cwd, env=isolated.env,
                           capture_output=True, text=True, timeout=120)
        isolated.no_traceback(p.stdout, p.stderr)
        assert p.returncode == 0, (lang, p.stderr)
        assert p.stderr == "", (lang, p.stderr)
        text, _, last = p.stdout.rstrip("\n").rpartition("\n")
        assert json.loads(last) == {"steps": 5, "output": ["pass 1", "pass 2", "pass 3"]}, lang
        printed[lang] = re.sub(r"\d+ ms", "N ms", text)
    assert printed["js"] == printed["lua"] and printed["tengo"] == printed["lua"]
    lines = printed["lua"].splitlines()
    assert [line.split()[:2] for line in lines[:5]] == [
        ["research", "completed"], ["outline", "completed"], ["draft", "completed"], ["review", "completed"],
        ["polish", "completed"]]
    assert "words: 1000" in lines and "flowchart TD" in lines
    assert '    n6["basics · agent researcher"]' in lines
