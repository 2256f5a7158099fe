"""The spell languages, declared once: each one's engine, the file extensions
that mean it and the other names ``--language`` takes.

Everything that names languages or extensions reads :data:`LANGUAGES`: the
engine lookup (engines/base.py), the sandbox's test for a script path
(sandbox/policy.py, sandbox/kernel.py), the CLI's help and the error hints.
Adding a language is one entry here and its engine module.  This module
imports nothing of llmspell, so the sandbox and the CLI read it without
loading a VM.
"""

from __future__ import annotations

from typing import NamedTuple


class Language(NamedTuple):
    """One spell language (a NamedTuple: defined in a tenth of a dataclass's time, and the CLI reads it at start)."""

    #: The name the runtime and the engines use (``Engine.language``).
    name: str
    #: Its name in prose (``JavaScript``).
    title: str
    #: Its engine class as ``module:Class``, imported on first use.
    engine: str
    #: File extensions (lower case, with the dot) of its spells.
    extensions: tuple[str, ...]
    #: Other names ``--language`` / ``language=`` accept.
    aliases: tuple[str, ...] = ()


LANGUAGES: tuple[Language, ...] = (
    Language("lua", "Lua", "llmspell.engines.lua:LuaEngine", (".lua",)),
    Language("javascript", "JavaScript", "llmspell.engines.javascript:JavaScriptEngine", (".js", ".mjs"), ("js",)),
    Language("tengo", "Tengo", "llmspell.engines.tengo.engine:TengoEngine", (".tengo",)),
)

#: A language by its name or one of its aliases.
BY_NAME: dict[str, Language] = {n: lang for lang in LANGUAGES for n in (lang.name, *lang.aliases)}
#: A language by one of its file extensions.
BY_EXTENSION: dict[str, Language] = {ext: lang for lang in LANGUAGES for ext in lang.extensions}
#: Every spell file extension, in declaration order.
EXTENSIONS: tuple[str, ...] = tuple(BY_EXTENSION)
#: Every language name, in declaration order.
NAMES: tuple[str, ...] = tuple(lang.name for lang in LANGUAGES)


def spoken(words: tuple[str, ...] | list[str]) -> str:
    """``a, b or c``: a list of choices as an error hint says it."""
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
