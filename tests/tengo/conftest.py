"""Prints, after a run, how many conformance cases pass per reference test."""

from __future__ import annotations

import collections
import re

_results: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
_ID = re.compile(r"test_conformance_(\w+)\.py::\w+\[(?:\d+)-(\w+?)(?:-module)?\]")


def pytest_runtest_logreport(report):  # noqa: ANN001, ANN201 - pytest hook
    if report.when != "call" and not (report.when == "setup" and report.skipped):
        return
    m = _ID.search(report.nodeid)
    if m:
        _results[f"{m.group(1)}:{m.group(2)}"][report.outcome] += 1


def pytest_terminal_summary(terminalreporter):  # noqa: ANN001, ANN201 - pytest hook
    if not _results:
        return
    tr = terminalreporter
    tr.section("Tengo conformance: passed / total per reference test")
    total = collections.Counter()
    for name in sorted(_results):
        c = _results[name]
        n = sum(c.values())
        total.update(c)
        note = f"  ({c['skipped']} skipped)" if c["skipped"] else ""
        tr.write_line(f"{name:45s} {c['passed']:5d} / {n:5d}{note}")
    tr.write_line(f"{'TOTAL':45s} {total['passed']:5d} / {sum(total.values()):5d}")
