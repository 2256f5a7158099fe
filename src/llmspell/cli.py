"""The ``llmspell`` command.

Exit codes: 0 success, 1 the spell (or what it called) failed, 2 the command
was used wrongly.  No Python traceback reaches the user: errors are printed
as ``file:line: kind: message`` with the spell's own stack and a hint
(``LLMSPELL_DEBUG=1`` shows host tracebacks for our own bugs).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from typing import Any

from . import __version__
from .display import for_terminal, utf8_safe
from .engines.languages import EXTENSIONS, LANGUAGES, spoken
from .errors import SpellError, clip, host_error

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _param(text: str) -> tuple[str, Any]:
    """``key=value``; the value is read as JSON when it is JSON (numbers,
    true/false, lists, objects), else kept as the string given.  Strict JSON
    only: ``NaN``, ``Infinity``, a number too big for a float (``1e400``) or
    ``0x10`` are not JSON numbers, so they stay strings, as every language's
    ``json.decode`` refuses them."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected key=value, got {text!r}")
    try:
        parsed = json.loads(value, parse_constant=_not_json, parse_float=_finite)
    except ValueError:
        parsed = value
    return key, parsed


def _not_json(text: str) -> Any:
    raise ValueError(f"{text} is not JSON")


def _finite(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ValueError(f"{text} is too big for a number")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="llmspell",
        description=f"Run spells ({spoken([lang.title for lang in LANGUAGES])} scripts) "
                    "that drive LLMs, tools and agents.",
    )
    parser.add_argument("--version", action="version", version=f"llmspell {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = sub.add_parser("run", help="run a spell", description="Run a spell and print its result.")
    run.add_argument("spell", help=f"the spell file ({', '.join(EXTENSIONS)})")
    run.add_argument("--param", "-p", action="append", type=_param, default=[], metavar="KEY=VALUE",
                     help="a parameter for the spell (repeatable; JSON values are parsed)")
    run.add_argument("--model", "-m", help="the default model for this run (an alias, provider:model, ...)")
    run.add_argument("--json", action="store_true", help="print the result (or the error) as JSON")
    run.add_argument("--config", help="configuration file (default: ./llmspell.toml or $LLMSPELL_CONFIG)")
    run.add_argument("--language", help="the spell's language, if its extension does not say")
    _add_policy(run)

    check = sub.add_parser("check", help="check a spell's syntax without running it")
    check.add_argument("spell")

    models = sub.add_parser("models", help="list known models")
    models.add_argument("provider", nargs="?")
    models.add_argument("--config")
    models.add_argument("--json", action="store_true")

    providers = sub.add_parser("providers", help="list providers and whether each is usable")
    providers.add_argument("--config")
    providers.add_argument("--json", action="store_true")

    sandbox = sub.add_parser("sandbox", help="say how the kernel confines spell workers here (Landlock, seccomp)")
    sandbox.add_argument("--json", action="store_true")

    docs = sub.add_parser("docs", help="write the spell API reference or editor stubs from the bridge declarations")
    docs.add_argument("--format", choices=["markdown", "typescript", "lua"], default="markdown")
    return parser


def _add_policy(parser: argparse.ArgumentParser) -> None:
    from .sandbox.flags import add_policy_arguments

    add_policy_arguments(parser)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.DEBUG if os.environ.get("LLMSPELL_DEBUG") else logging.WARNING,
                        format="%(levelname)s %(message)s", stream=sys.stderr)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return _COMMANDS[args.command](args, parser)
    except SpellError as exc:
        _report(exc, getattr(args, "json", False))
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (`llmspell run s.lua | head`): stop quietly, as Unix tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except Exception as exc:  # our bug, or the host's trouble: one line in the API's terms, not a traceback
        if os.environ.get("LLMSPELL_DEBUG"):
            raise
        _report(host_error(exc), getattr(args, "json", False))
        return EXIT_FAILED


def _usage_error(command: str, message: str) -> int:
    print(f"llmspell {command}: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _report(exc: SpellError, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"error": {**exc.to_dict(), "message": clip(exc.message)}}))
    print(exc.render(), file=sys.stderr)


def _cmd_run(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .runtime import Runtime
    from .sandbox.flags import policy_from_args
    from .values import to_json_compatible

    if not os.path.isfile(args.spell):
        return _usage_error("run", f"{args.spell}: no such spell file")
    policy = policy_from_args(args, _config_policy(args.config))
    out = _Stdout(args.spell)
    runtime = Runtime(model=args.model, config=args.config, policy=policy, output=out.write)
    out.limit = runtime.limits.max_output
    result = runtime.run(args.spell, dict(args.param), language=args.language)
    if args.json:
        text = json.dumps(to_json_compatible(result), ensure_ascii=False)
    elif result is not None:
        text = result if isinstance(result, str) else json.dumps(to_json_compatible(result), indent=2,
                                                                 ensure_ascii=False)
    else:
        return EXIT_OK
    out.write(text + "\n")  # the result shares the output budget with what the spell printed
    return EXIT_OK


class _Stdout:
    """Where ``run`` writes what a spell prints and returns.  That is the
    spell's own data, so a pipe or a file gets it unchanged (lone surrogates
    aside, which have no UTF-8 form: U+FFFD).  A terminal gets it with the
    control sequences escaped (display.for_terminal): a hostile spell must not
    recolour, hide or rewrite what is on the user's screen, set the window
    title or write the clipboard (OSC 52).

    It also counts what it writes against ``limit`` (max_output), which the
    worker's host already enforces: this second count, in the parent, holds
    even against a worker whose VM is broken (see sandbox/worker.py)."""

    def __init__(self, spell: str) -> None:
        self.spell = spell
        self.tty = sys.stdout.isatty()
        self.written = 0
        self.limit: int | None = None

    def write(self, text: str) -> None:
        text = for_terminal(text) if self.tty else utf8_safe(text)
        size = len(text.encode("utf-8"))
        if self.limit is not None and self.written + size > self.limit:
            raise SpellError("limit_exceeded", "the spell printed or returned more than its output limit of "
                             f"{self.limit} bytes", file=self.spell, hint="raise it with --max-output SIZE",
                             run_limit=True)
        self.written += size
        sys.stdout.write(text)
        sys.stdout.flush()


def _config_policy(config: str | None) -> Any:
    from .config import load_settings
    from .sandbox.policy import Policy

    return Policy.from_settings(load_settings(config))


def _cmd_check(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .runtime import Runtime

    if not os.path.isfile(args.spell):
        return _usage_error("check", f"{args.spell}: no such spell file")
    Runtime().check(args.spell)
    print(f"{args.spell}: ok")
    return EXIT_OK


def _cmd_models(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .config import load_settings
    from .models.calls import list_models

    rows = list_models(load_settings(args.config), args.provider)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:  # a row's id is already the name --model takes ("openai:gpt-4o", "test", an alias)
            ctx = row.get("context_window")
            target = row.get("target")
            arrow = f" -> {target if isinstance(target, str) else ', '.join(target)}" if target else ""
            print(f"{row['id']}{arrow}" + (f"  (context {ctx})" if ctx else ""))
    return EXIT_OK


def _cmd_providers(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .config import load_settings
    from .models.calls import list_providers

    rows = list_providers(load_settings(args.config))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            state = "ready" if row.get("configured") else "not configured"
            reason = row.get("reason")
            print(f"{row['name']}: {state}" + (f" ({reason})" if reason else ""))
    return EXIT_OK


def _cmd_sandbox(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .sandbox.kernel import describe

    rows = describe()
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            abi = f" (ABI {row['abi']})" if row.get("abi") else ""
            print(f"{row['name']}: {'active' if row['active'] else 'not active'}{abi}: {row['detail']}")
        print("inline isolation (Runtime(isolation='inline')): not confined by the kernel")
    return EXIT_OK


def _cmd_docs(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    from .docs import render

    sys.stdout.write(render(args.format))
    return EXIT_OK


_COMMANDS = {"run": _cmd_run, "check": _cmd_check, "models": _cmd_models, "providers": _cmd_providers,
             "sandbox": _cmd_sandbox,
             "docs": _cmd_docs}


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
