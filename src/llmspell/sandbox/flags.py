"""Deno-style permission flags for the command line.

``--allow-read`` alone grants everything; ``--allow-read=a,b`` grants a list;
flags repeat and add up.  argparse cannot express "a value only after =":
given ``--allow-read spell.lua`` it would take the spell as the value.  So the
parser that gets these flags rewrites a bare ``--allow-X`` (one with no ``=``,
before any ``--``) into ``--allow-X=<everything>`` before parsing; the value
form must therefore be written with ``=``, exactly as in Deno.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from llmspell.errors import SpellError

from .netaddr import parse_rule
from .policy import GRANT_FIELDS, PATH_GRANTS, Policy, absolute_paths, program_paths, union_grant
from .sizes import parse_size

#: Internal value standing for "everything"; never a real path, host or name.
_EVERYTHING = "\x00everything"
_GRANT_FLAGS = {
    "--allow-read": ("allow_read", "PATHS", "allow reading these files/folders (all without a value)"),
    "--allow-write": ("allow_write", "PATHS", "allow writing these files/folders (all without a value)"),
    "--allow-net": ("allow_net", "HOSTS",
                    "allow these hosts: host, host:port, *.domain, CIDR (all without a value)"),
    "--allow-env": ("allow_env", "NAMES",
                    "allow these environment variables, NAME or PREFIX_* (all without a value)"),
    "--allow-run": ("allow_run", "PROGRAMS",
                    "allow running these programs: a name is looked up on PATH now, a path means that "
                    "file (any program without a value)"),
    "--deny-read": ("deny_read", "PATHS", "deny reading these files/folders, even if allowed"),
    "--deny-write": ("deny_write", "PATHS", "deny writing these files/folders, even if allowed"),
    "--deny-net": ("deny_net", "HOSTS", "deny these hosts, even if allowed"),
    "--deny-env": ("deny_env", "NAMES", "deny these environment variables, even if allowed"),
}
_LIMIT_DESTS = ("timeout", "max_memory", "max_instructions", "max_llm_calls", "max_output", "max_prompt",
                "max_write")


class _GrantAction(argparse.Action):
    """Accumulates comma-separated entries; the bare flag means everything."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        current = getattr(namespace, self.dest, None)
        if values == _EVERYTHING or values is None:
            setattr(namespace, self.dest, True)
            return
        entries = [item.strip() for item in str(values).split(",") if item.strip()]
        if not entries:
            raise argparse.ArgumentError(self, "expected a comma-separated list after '='")
        if any("\x00" in item for item in entries):
            raise argparse.ArgumentError(self, "values cannot contain NUL bytes")
        if self.dest in ("allow_net", "deny_net"):
            for item in entries:
                try:
                    parse_rule(item)
                except SpellError as exc:
                    raise argparse.ArgumentError(self, exc.message) from None
        if current is True:
            return
        setattr(namespace, self.dest, [*(current or []), *entries])


def _positive(kind: type) -> Any:
    def convert(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a {'whole ' if kind is int else ''}number, "
                                             f"got {text!r}") from None
        if value <= 0 or value != value or value == float("inf"):
            raise argparse.ArgumentTypeError(f"must be greater than 0, got {text!r}")
        return value
    convert.__name__ = kind.__name__
    return convert


def _size(text: str) -> int:
    try:
        value = parse_size(text)
    except SpellError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0, got {text!r}")
    return value


def expand_bare_flags(args: Sequence[str]) -> list[str]:
    """``--allow-read`` -> ``--allow-read=<everything>`` (before any ``--``), so a
    bare flag never swallows the positional argument after it."""
    out: list[str] = []
    for index, arg in enumerate(args):
        if arg == "--":
            return out + list(args[index:])
        out.append(f"{arg}={_EVERYTHING}" if arg in _GRANT_FLAGS else arg)
    return out


def add_policy_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the permission and limit flags to ``parser`` (and teach it the bare-flag
    form); read them back with :func:`policy_from_args`."""
    group = parser.add_argument_group("sandbox",
                                      "what the spell may access (default: nothing) and its limits")
    for flag, (dest, metavar, help_text) in _GRANT_FLAGS.items():
        group.add_argument(flag, dest=dest, action=_GrantAction, nargs="?", const=_EVERYTHING, default=None,
                           metavar=metavar, help=help_text)
    group.add_argument("--profile", choices=("strict", "standard", "permissive"), default=None,
                       help="start from a named policy (see Policy.profile); other flags change it")
    limits = (
        ("--timeout", _positive(float), "SECONDS", "wall-clock limit of the run"),
        ("--max-memory", _size, "SIZE", "memory limit of the VM, e.g. 256MiB"),
        ("--max-instructions", _positive(int), "N", "instruction budget of the VM"),
        ("--max-llm-calls", _positive(int), "N", "model calls allowed in one run"),
        ("--max-output", _size, "SIZE", "limit on what the spell may print"),
        ("--max-prompt", _size, "SIZE", "limit on what one model call may send (prompt, messages, system)"),
        ("--max-write", _size, "SIZE", "limit on what the spell may write to files, all writes together"),
    )
    for flag, convert, metavar, help_text in limits:
        group.add_argument(flag, type=convert, metavar=metavar, default=None, help=help_text)
    _install_rewrite(parser)
    return parser


def _install_rewrite(parser: argparse.ArgumentParser) -> None:
    if getattr(parser, "_llmspell_bare_flags", False):
        return
    original = parser.parse_known_args

    def parse_known_args(args: Sequence[str] | None = None,
                         namespace: argparse.Namespace | None = None) -> Any:
        raw = sys.argv[1:] if args is None else args
        return original(expand_bare_flags(list(raw)), namespace)

    parser.parse_known_args = parse_known_args  # type: ignore[method-assign]
    parser._llmspell_bare_flags = True  # type: ignore[attr-defined]


def policy_from_args(ns: argparse.Namespace, base: Policy | None = None) -> Policy:
    """The policy the flags describe, on top of ``base`` (e.g. the config file's).

    ``--profile`` replaces ``base`` as the starting point; grants from flags are
    added to those of the starting point; limits from flags replace its limits.
    Relative paths are made absolute against the current directory now."""
    profile = getattr(ns, "profile", None)
    start = Policy.profile(profile) if profile else (base if base is not None else Policy())
    changes: dict[str, Any] = {}
    for name in GRANT_FIELDS:
        value = getattr(ns, name, None)
        if value is None:
            continue
        grant = True if value is True else tuple(value)
        if name in PATH_GRANTS:
            grant = absolute_paths(grant, os.getcwd())
        elif name == "allow_run":
            grant = program_paths(grant, os.getcwd())
        changes[name] = union_grant(getattr(start, name), grant)
    for name in _LIMIT_DESTS:
        value = getattr(ns, name, None)
        if value is not None:
            changes[name] = value
    return start.replace(**changes) if changes else start
