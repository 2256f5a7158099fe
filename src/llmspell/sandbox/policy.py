"""The one security policy of a spell run, and the checks every access goes through.

Spells are untrusted code.  Whatever a spell can reach outside its VM — files,
the network, environment variables, subprocesses, bridge methods, other
spells — is decided here and nowhere else, so that there is one place to read,
test and audit.  The model is Deno's: nothing is allowed unless granted
(``--allow-read=DIR``, ``--allow-net=HOST``, ...), a ``deny`` entry wins over
any ``allow``, and the error for a refused access names the flag that would
grant it.

A *grant* (``allow_*`` / ``deny_*``) is ``None`` (nothing), ``True``
(everything) or a tuple of entries: folders or files for read/write, hosts
(``example.com``, ``127.0.0.1:8080``, ``*.example.com``, ``10.0.0.0/8``) for
net, names or globs (``MYAPP_*``) for env, program names for run.

Limits are ``None`` for "no limit".  The engines and the host enforce them;
the policy only carries them so that one object describes a run completely.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmspell.engines.languages import EXTENSIONS as SCRIPT_EXTENSIONS
from llmspell.errors import SpellError

from . import env as _env
from . import net as _net
from .netaddr import parse_rule
from .paths import check_path, is_within, resolve_path, to_path_string
from .sizes import parse_size

Grant = bool | tuple[str, ...] | None

GRANT_FIELDS = (
    "allow_read", "allow_write", "allow_net", "allow_env", "allow_run",
    "deny_read", "deny_write", "deny_net", "deny_env",
)
#: Grants whose entries are file system paths (made absolute when read from flags or config).
PATH_GRANTS = ("allow_read", "allow_write", "deny_read", "deny_write")
LIMIT_FIELDS = (
    "timeout", "max_memory", "max_instructions", "max_llm_calls", "max_tokens",
    "max_bridge_calls", "max_concurrent", "max_output", "max_prompt", "max_write",
)
_SIZE_LIMITS = ("max_memory", "max_output", "max_prompt", "max_write")

#: Variables that look like secrets; the permissive profile still hides them.
SECRET_ENV_PATTERNS = (
    "*_API_KEY", "*_APIKEY", "*_KEY", "*_TOKEN", "*_SECRET", "*_SECRET_*", "*PASSWORD*", "*_CREDENTIALS",
)
#: Cloud metadata endpoints: reachable from many hosts, never a spell's business.
METADATA_HOSTS = ("169.254.169.254", "metadata.google.internal", "fd00:ec2::254")

MiB = 1024 * 1024


def normalize_grant(value: Any, name: str = "grant") -> Grant:
    """``None``/``False``/empty -> ``None``; ``True`` -> ``True``; a string or
    iterable of strings -> a tuple of stripped, non-empty strings."""
    if value is None or value is False:
        return None
    if value is True:
        return True
    if isinstance(value, (str, os.PathLike)):
        value = (value,)
    if not isinstance(value, Iterable):
        raise SpellError("invalid_argument",
                         f"{name}: expected true, false or a list of strings, got {value!r}")
    entries: list[str] = []
    for item in value:
        if isinstance(item, os.PathLike):
            item = os.fspath(item)
        if not isinstance(item, str):
            raise SpellError("invalid_argument", f"{name}: entries must be strings, got {item!r}")
        item = item.strip()
        if not item:
            raise SpellError("invalid_argument", f"{name}: entries cannot be empty")
        if "\x00" in item:
            raise SpellError("invalid_argument", f"{name}: entries cannot contain NUL bytes")
        if item not in entries:
            entries.append(item)
    return tuple(entries) or None


def union_grant(a: Grant, b: Grant) -> Grant:
    """What either grant covers: ``True`` absorbs everything, tuples concatenate."""
    if a is True or b is True:
        return True
    merged = tuple(dict.fromkeys((a or ()) + (b or ())))
    return merged or None


def _max_limit(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else max(a, b)


def _check_limit(name: str, value: Any) -> int | float | None:
    if value is None or value is False:
        return None
    if isinstance(value, str) and value.strip().lower() in ("none", "unlimited"):
        return None
    if name in _SIZE_LIMITS:
        value = parse_size(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SpellError("invalid_argument", f"{name}: expected a number, got {value!r}")
    if value <= 0:
        raise SpellError("invalid_argument", f"{name}: must be greater than 0, got {value!r}")
    if name == "timeout":
        return float(value)
    if value != int(value):
        raise SpellError("invalid_argument", f"{name}: expected a whole number, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class Policy:
    """What a spell may touch and how much it may use.  ``Policy()`` grants nothing
    and carries the ``standard`` limits.  Immutable: derive with ``replace``/``merge``."""

    allow_read: Grant = None
    allow_write: Grant = None
    allow_net: Grant = None
    allow_env: Grant = None
    #: Subprocesses: ``True`` for any program, or a tuple of program names / paths.  Resolved
    #: once, when the policy is made (as Deno does): a bare name is looked up on this
    #: process's ``PATH`` then; a path means exactly that file.
    allow_run: Grant = None
    deny_read: Grant = None
    deny_write: Grant = None
    deny_net: Grant = None
    deny_env: Grant = None
    #: Globals or ``bridge.method`` names (globs allowed: ``llm.*``) a spell may not call.
    disabled_builtins: tuple[str, ...] = ()
    #: Globs of paths / module names ``spell.require`` and Tengo ``import`` may load;
    #: ``None`` = no narrowing beyond the read permission.
    allowed_imports: tuple[str, ...] | None = None
    timeout: float | None = 300.0
    max_memory: int | None = 256 * MiB
    max_instructions: int | None = None
    max_llm_calls: int | None = 100
    max_tokens: int | None = None
    max_bridge_calls: int | None = 100_000
    max_concurrent: int | None = 16
    max_output: int | None = 10 * MiB
    #: UTF-8 bytes one model call may send: prompt, messages and system together.
    max_prompt: int | None = 4 * MiB
    #: Bytes one run may write to files, every way it writes (the file tools, Tengo's os) together.
    max_write: int | None = 256 * MiB

    def __post_init__(self) -> None:
        for name in GRANT_FIELDS:
            object.__setattr__(self, name, normalize_grant(getattr(self, name), name))
        object.__setattr__(self, "_programs", _resolve_programs(self.allow_run))
        for name in ("allow_net", "deny_net"):
            grant = getattr(self, name)
            for entry in grant if isinstance(grant, tuple) else ():
                parse_rule(entry)  # a malformed host is an error now, not at the first request
        builtins = normalize_grant(self.disabled_builtins, "disabled_builtins")
        object.__setattr__(self, "disabled_builtins", () if builtins in (None, True) else builtins)
        if self.allowed_imports is not None:
            imports = normalize_grant(self.allowed_imports, "allowed_imports")
            object.__setattr__(self, "allowed_imports", () if imports is None else
                               (("*",) if imports is True else imports))
        for name in LIMIT_FIELDS:
            object.__setattr__(self, name, _check_limit(name, getattr(self, name)))

    # -- construction ---------------------------------------------------------
    @classmethod
    def profile(cls, name: str) -> Policy:
        """A named starting point.

        - ``strict``: no permissions; tight limits (30 s, 64 MiB, 50M
          instructions, 20 model calls, 200k tokens, 10k bridge calls, 4
          concurrent, 1 MiB output, 256 KiB prompt, 16 MiB written to files);
          ``spell.require``/``import`` limited to
          the spell's own folder (``allowed_imports = ()``) — for code you have
          not read.
        - ``standard`` (= ``Policy()``): no permissions (Deno's default);
          limits 300 s, 256 MiB, 100 model calls, 100k bridge calls, 16
          concurrent, 10 MiB output, 4 MiB prompt, 256 MiB written to files.
        - ``permissive``: read, write and network everywhere (private and
          loopback addresses included, as Deno's bare ``--allow-net``) except
          cloud metadata endpoints; every environment variable except those
          that look like secrets (``*_API_KEY``, ``*_TOKEN``, ...); still no
          subprocesses; limits 1 h, 1 GiB, 1000 model calls, 64 concurrent,
          100 MiB output, 32 MiB prompt, 4 GiB written to files — for your own
          spells on your own machine.
        """
        if name == "standard":
            return cls()
        if name == "strict":
            return cls(
                allowed_imports=(), timeout=30, max_memory=64 * MiB, max_instructions=50_000_000,
                max_llm_calls=20, max_tokens=200_000, max_bridge_calls=10_000, max_concurrent=4,
                max_output=MiB, max_prompt=256 * 1024, max_write=16 * MiB,
            )
        if name == "permissive":
            return cls(
                allow_read=True, allow_write=True, allow_net=True, allow_env=True,
                deny_env=SECRET_ENV_PATTERNS, deny_net=METADATA_HOSTS,
                timeout=3600, max_memory=1024 * MiB, max_llm_calls=1000, max_bridge_calls=None,
                max_concurrent=64, max_output=100 * MiB, max_prompt=32 * MiB, max_write=4096 * MiB,
            )
        raise SpellError("invalid_argument", f"unknown sandbox profile {name!r}",
                         hint="use one of: strict, standard, permissive")

    @classmethod
    def from_config(cls, table: Mapping[str, Any], *, base_dir: str | os.PathLike | None = None) -> Policy:
        """The policy of a ``[sandbox]`` table of llmspell.toml.

        Keys are the field names (``allow-read`` works as well as
        ``allow_read``); ``profile = "strict"`` picks the starting point the
        other keys change.  Grants are ``true``, ``false``, a string or a list
        of strings; relative paths in path grants are relative to ``base_dir``
        (the config file's folder).  Sizes may be strings (``"64MB"``); a limit
        of ``false`` or ``"unlimited"`` removes it.
        """
        if not isinstance(table, Mapping):
            raise SpellError("invalid_argument", "[sandbox] must be a table")
        data = {str(key).replace("-", "_"): value for key, value in table.items()}
        profile = data.pop("profile", "standard")
        if not isinstance(profile, str):
            raise SpellError("invalid_argument", f"[sandbox] profile must be a string, got {profile!r}")
        known = set(GRANT_FIELDS) | set(LIMIT_FIELDS) | {"disabled_builtins", "allowed_imports"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SpellError("invalid_argument", f"[sandbox] has unknown keys: {', '.join(unknown)}",
                             hint="known keys: profile, " + ", ".join(sorted(known)))
        for name in PATH_GRANTS:
            if name in data:
                data[name] = absolute_paths(normalize_grant(data[name], name), base_dir)
        if "allow_run" in data:
            data["allow_run"] = program_paths(normalize_grant(data["allow_run"], "allow_run"), base_dir)
        return cls.profile(profile).replace(**data)

    @classmethod
    def from_settings(cls, settings: Any) -> Policy:
        """The policy the settings (:class:`llmspell.config.Settings`) ask for:
        their ``[sandbox]`` table, or the standard policy when there is none."""
        table = getattr(settings, "sandbox", None)
        return cls.from_config(table) if table else cls()

    def replace(self, **changes: Any) -> Policy:
        """A copy with some fields changed (validated like the constructor)."""
        try:
            return dataclasses.replace(self, **changes)
        except TypeError as exc:
            raise SpellError("invalid_argument", f"not a policy field: {exc}") from None

    def merge(self, other: Policy) -> Policy:
        """The union of two policies: everything either allows, everything
        either denies (a deny still wins over any allow), every disabled builtin,
        and for each limit the larger one (no limit beats any limit)."""
        changes: dict[str, Any] = {n: union_grant(getattr(self, n), getattr(other, n)) for n in GRANT_FIELDS}
        changes["disabled_builtins"] = tuple(dict.fromkeys(self.disabled_builtins + other.disabled_builtins))
        if self.allowed_imports is None or other.allowed_imports is None:
            changes["allowed_imports"] = None
        else:
            changes["allowed_imports"] = tuple(dict.fromkeys(self.allowed_imports + other.allowed_imports))
        for name in LIMIT_FIELDS:
            changes[name] = _max_limit(getattr(self, name), getattr(other, name))
        return dataclasses.replace(self, **changes)

    # -- checks -----------------------------------------------------------------
    def check_read(self, path: str | os.PathLike, *, base: Path | None = None) -> Path:
        """The resolved real path if the spell may read it; else ``permission_denied``."""
        return check_path(self, path, "read", base=base)

    def check_write(self, path: str | os.PathLike, *, base: Path | None = None) -> Path:
        """The resolved real path if the spell may write it; else ``permission_denied``."""
        return check_path(self, path, "write", base=base)

    def check_env(self, name: str) -> None:
        """Raise ``permission_denied`` unless the variable ``name`` may be read."""
        _env.check_env(self, name)

    def check_exec(self, command: str | os.PathLike | list[str] | tuple[str, ...], *,
                   base: str | os.PathLike | None = None) -> str:
        """The absolute path of the program to run for ``command`` (a program or an
        argv list whose first item is the program), or ``permission_denied``.

        Run exactly that path: nothing may be looked up on a ``PATH`` the spell
        controls.  A bare name is allowed if it is an ``allow_run`` entry (and
        means the program that entry resolved to) or names, on this process's
        ``PATH``, an allowed program; a path (relative ones from ``base``) must
        be an allowed program itself -- ``DATA/echo`` is not ``echo``."""
        if isinstance(command, (list, tuple)):
            if not command:
                raise SpellError("invalid_argument", "empty command")
            command = command[0]
        program = os.fspath(command) if isinstance(command, os.PathLike) else command
        if not isinstance(program, str) or not program.strip() or "\x00" in program:
            raise SpellError("invalid_argument", f"not a program name: {program!r}")
        bare = "/" not in program
        if self.allow_run is True:
            found = _program_path(program, base)
            if found is None:
                raise SpellError("not_found", f'"{program}": no such program on PATH')
            return found
        programs: dict[str, str | None] = self._programs  # type: ignore[attr-defined]
        if bare and program in programs:
            if programs[program] is None:
                raise SpellError("not_found", f'"{program}" is allowed by --allow-run but was not found on '
                                 "PATH when the sandbox policy was made")
            return programs[program]  # type: ignore[return-value]
        wanted = _program_path(program, base)
        for allowed in programs.values():
            if wanted is not None and allowed is not None and _same_program(wanted, allowed):
                return allowed
        shown = program if bare or wanted is None else wanted
        raise SpellError("permission_denied", f'running "{program}" is not allowed; run with --allow-run={shown}')

    @property
    def allowed_programs(self) -> tuple[str, ...]:
        """The absolute programs ``allow_run`` entries resolved to when the policy was
        made (empty for ``allow_run=True``: any program)."""
        programs: dict[str, str | None] = self._programs  # type: ignore[attr-defined]
        return tuple(dict.fromkeys(p for p in programs.values() if p is not None))

    def check_net(self, url: str) -> _net.CheckedURL:
        """A ``CheckedURL`` (scheme, host, port and the resolved address to connect
        to) if the spell may fetch ``url``; resolves DNS synchronously — use
        ``net.check_net_async`` on an event loop."""
        return _net.check_net(self, url)

    def check_builtin(self, name: str) -> None:
        """Raise ``permission_denied`` if the global or ``bridge.method`` is disabled."""
        for pattern in self.disabled_builtins:
            if fnmatch.fnmatchcase(name, pattern) or name.startswith(pattern + "."):
                raise SpellError("permission_denied", f'"{name}" is disabled by the sandbox policy')

    def check_import(self, path_or_name: str | os.PathLike, *, base: Path | None = None) -> Path | None:
        """May a spell load this module?  Returns the resolved path for a file
        (``None`` for a module name such as Tengo's ``"fmt"``).

        Files in the spell's folder (``base``) and below need no permission, as
        Deno's static imports need none; anything else needs read permission.
        ``allowed_imports``, when set, narrows both further (globs of paths,
        relative ones taken from ``base``, or of module names)."""
        text = to_path_string(path_or_name)
        if not _looks_like_path(text):
            if self.allowed_imports is not None and not any(
                fnmatch.fnmatchcase(text, glob) for glob in self.allowed_imports
            ):
                raise SpellError("permission_denied", f'importing module "{text}" is not allowed by the '
                                 "sandbox policy (allowed_imports)")
            return None
        root = resolve_path(base if base is not None else os.getcwd())
        target = resolve_path(text, base=root)
        if is_within(target, root):
            check_path(self, target, "read", base=root, denied_only=True)
        else:
            check_path(self, target, "read", base=root)
        if self.allowed_imports is not None:
            globs = [str(root / glob) if not os.path.isabs(glob) else glob for glob in self.allowed_imports]
            if not any(fnmatch.fnmatchcase(str(target), glob) for glob in globs):
                raise SpellError("permission_denied", f'importing "{target}" is not allowed by the sandbox '
                                 "policy (allowed_imports)")
        return target


def _program_path(program: str, base: str | os.PathLike | None) -> str | None:
    """A path: made absolute (from ``base``); a bare name: found on this process's PATH."""
    if "/" in program:
        return os.path.normpath(os.path.join(os.fspath(base) if base is not None else os.getcwd(), program))
    found = shutil.which(program)
    return os.path.abspath(found) if found else None


def _resolve_programs(grant: Grant) -> dict[str, str | None]:
    """``allow_run`` entries -> the absolute program each allows (None: not found)."""
    if not isinstance(grant, tuple):
        return {}
    return {entry: _program_path(entry, None) for entry in grant}


def _same_program(wanted: str, allowed: str) -> bool:
    return wanted == allowed or os.path.realpath(wanted) == os.path.realpath(allowed)


def _looks_like_path(text: str) -> bool:
    # A spell file's name (``tool.lua``) is a path too, not a program to look up on PATH.
    return "/" in text or "\\" in text or text.startswith(".") or text.endswith(SCRIPT_EXTENSIONS)


def program_paths(grant: Grant, base_dir: str | os.PathLike | None) -> Grant:
    """``allow_run`` entries with a relative path made absolute against ``base_dir``
    (or the working directory); bare names stay names (looked up on PATH)."""
    if grant is None or grant is True:
        return grant
    base = os.fspath(base_dir) if base_dir is not None else os.getcwd()
    return tuple(os.path.join(base, e) if "/" in e and not os.path.isabs(e) else e for e in grant)


def absolute_paths(grant: Grant, base_dir: str | os.PathLike | None) -> Grant:
    """Path grants made absolute against ``base_dir`` (or the working directory)
    now, so that a later change of directory cannot change what they mean."""
    if grant is None or grant is True:
        return grant
    base = os.fspath(base_dir) if base_dir is not None else os.getcwd()
    return tuple(os.path.join(base, entry) for entry in grant)
