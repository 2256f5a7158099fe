"""A workflow drawn as a Mermaid flowchart (``wf:to_mermaid()``), to show it in Markdown or a web page.

Sequential and conditional workflows are a chain (a step with a condition is
a diamond before it, with a ``no`` edge around it); parallel ones fan out from
a start and join at an end; a loop chains its steps and draws the edge back
from ``until``.  A nested workflow is a subgraph.  Names come from spells, so
every label is quoted with Mermaid's entity escapes and every node id is made
here, never from a name.
"""

from __future__ import annotations

import itertools

from .definition import Step, Workflow


def to_mermaid(wf: Workflow) -> str:
    """The flowchart's text (``flowchart TD`` and its lines)."""
    lines = ["flowchart TD"]
    ids = itertools.count(1)
    _draw(wf, lines, ids, "  ")
    return "\n".join(lines) + "\n"


def _label(text: str) -> str:
    escaped = "".join(f"#{ord(c)};" if c in '"#<>&' or ord(c) < 32 else c for c in text)
    return f'"{escaped}"'


def _step_label(step: Step) -> str:
    if step.kind == "agent":
        assert step.agent is not None
        what = f"agent {step.agent.shown_name}"
    elif step.kind == "tool":
        what = f"tool {step.tool}"
    elif step.kind == "fn":
        what = "function"
    else:
        assert step.workflow is not None
        what = f"workflow {step.workflow.name}"
    return _label(f"{step.name}\n{what}".replace("\n", " · "))


def _draw(wf: Workflow, lines: list[str], ids: itertools.count, pad: str) -> tuple[str, str]:
    """Draw ``wf``; returns the ids of its entry and exit nodes."""
    start, end = f"n{next(ids)}", f"n{next(ids)}"
    lines.append(f"{pad}{start}([{_label(f'{wf.name} ({wf.type})')}])")
    lines.append(f"{pad}{end}([{_label('end')}])")
    if wf.type == "parallel":
        for step in wf.steps:
            first, last = _node(step, lines, ids, pad)
            lines.append(f"{pad}{start} --> {first}")
            lines.append(f"{pad}{last} --> {end}")
        if not wf.steps:
            lines.append(f"{pad}{start} --> {end}")
        return start, end
    previous = start
    loop_start = None
    for step in wf.steps:
        first, last = _node(step, lines, ids, pad)
        if step.condition is not None:
            check = f"n{next(ids)}"
            lines.append(f"{pad}{check}{{{_label(f'condition of {step.name}')}}}")
            lines.append(f"{pad}{previous} --> {check}")
            lines.append(f"{pad}{check} -->|yes| {first}")
            join = f"n{next(ids)}"
            lines.append(f"{pad}{join}(( ))")
            lines.append(f"{pad}{check} -->|no| {join}")
            lines.append(f"{pad}{last} --> {join}")
            entry, previous = check, join
        else:
            lines.append(f"{pad}{previous} --> {first}")
            entry, previous = first, last
        loop_start = loop_start or entry
    if wf.type == "loop":
        until = f"n{next(ids)}"
        lines.append(f"{pad}{until}{{{_label(f'until (at most {wf.max_iterations} times)')}}}")
        lines.append(f"{pad}{previous} --> {until}")
        lines.append(f"{pad}{until} -->|no| {loop_start or until}")
        lines.append(f"{pad}{until} -->|yes| {end}")
    else:
        lines.append(f"{pad}{previous} --> {end}")
    return start, end


def _node(step: Step, lines: list[str], ids: itertools.count, pad: str) -> tuple[str, str]:
    if step.workflow is not None:
        sub = f"s{next(ids)}"
        lines.append(f"{pad}subgraph {sub}[{_step_label(step)}]")
        entry, exit_ = _draw(step.workflow, lines, ids, pad + "  ")
        lines.append(f"{pad}end")
        return entry, exit_
    node = f"n{next(ids)}"
    lines.append(f"{pad}{node}[{_step_label(step)}]")
    return node, node
