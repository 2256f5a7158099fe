"""Environment variables a spell may see: only the names the policy lists.

The host's environment holds API keys and tokens; a spell must not learn them
by asking.  So there is no "list all variables" here, only a lookup of one
name that the policy allows by exact name or by a glob such as ``MYAPP_*``
(matched case-sensitively, as POSIX names are).
"""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from llmspell.errors import SpellError

if TYPE_CHECKING:
    from .policy import Policy


def _matches(name: str, pattern: str) -> bool:
    return name == pattern or ("*" in pattern and fnmatch.fnmatchcase(name, pattern))


def check_env(policy: Policy, name: str) -> None:
    """Raise ``permission_denied`` unless the policy lets the spell read ``name``."""
    if not isinstance(name, str) or not name or "=" in name or "\x00" in name:
        raise SpellError("invalid_argument", f"not an environment variable name: {name!r}")
    deny = policy.deny_env
    if deny is True:
        raise SpellError("permission_denied",
                         f'access to environment variable "{name}" is denied by --deny-env')
    for pattern in deny or ():
        if _matches(name, pattern):
            raise SpellError("permission_denied",
                             f'access to environment variable "{name}" is denied by --deny-env={pattern}')
    allow = policy.allow_env
    if allow is True or any(_matches(name, pattern) for pattern in allow or ()):
        return
    raise SpellError("permission_denied",
                     f'access to environment variable "{name}" is not allowed; run with --allow-env={name}')


def get_env(policy: Policy, name: str, environ: Mapping[str, str] = os.environ) -> str | None:
    """The value of an allowed variable (``None`` when it is unset)."""
    check_env(policy, name)
    return environ.get(name)
