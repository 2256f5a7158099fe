"""The reference and editor stubs are generated from the bridge declarations;
the committed copies must match what `llmspell docs` writes now."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from llmspell.bridges import default_bridges

DOCS = Path(__file__).resolve().parent.parent / "docs"


@pytest.mark.parametrize(("fmt", "name"), [("markdown", "API.md"), ("typescript", "llmspell.d.ts"),
                                            ("lua", "llmspell.lua")])
def test_committed_reference_is_current(fmt: str, name: str) -> None:
    out = subprocess.run([sys.executable, "-m", "llmspell", "docs", "--format", fmt], capture_output=True,
                         text=True, check=True).stdout
    assert out == (DOCS / name).read_text(encoding="utf-8"), f"docs/{name} is stale: run llmspell docs --format {fmt}"


def test_every_declared_method_is_documented_with_its_parameters() -> None:
    reference = (DOCS / "API.md").read_text(encoding="utf-8")
    stubs = (DOCS / "llmspell.d.ts").read_text(encoding="utf-8")
    for _, cls in default_bridges():
        for spec in cls.specs.values():
            assert f"`{spec.bridge}.{spec.name}(" in reference
            assert f"  {spec.name}(" in stubs
            for p in spec.params:
                assert f"`{p.name}`" in reference
