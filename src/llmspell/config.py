"""Settings from ``llmspell.toml`` and the environment.

Spells name models by what they need ("gpt-4", "fast"); this file is where an
operator decides what serves those names and where the keys live, so the same
spell runs against OpenAI, a local server or the embedded model unchanged.
The file wins over the environment, and the environment only fills gaps, so a
checked-in ``llmspell.toml`` behaves the same on every machine.

API keys are never stored here: the file names the *variable* that holds a key
(``api_key_env``) and the key is read from the environment when a model is built.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmspell.errors import SpellError

#: Providers llmspell knows how to reach, and the variables their keys usually live in.
KNOWN_PROVIDERS: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "google": ("GOOGLE_API_KEY", "GEMINI_API_KEY"),
    "ollama": ("OLLAMA_API_KEY",),
    "openai-compatible": (),
}

#: The file looked for in the working directory when no other is named.
CONFIG_FILENAME = "llmspell.toml"

_TOP_KEYS = {"llm", "providers", "sandbox", "tools", "mcp"}
_TOOLS_KEYS = {"web_search"}
_WEB_SEARCH_KEYS = {"endpoint"}
_LLM_KEYS = {"default_model", "aliases", "max_retries", "timeout"}
_PROVIDER_KEYS = {"base_url", "api_key_env", "type"}
_PROVIDER_TYPES = {"openai-compatible"}
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_MCP_KEYS = {"servers"}
_MCP_SERVER_KEYS = {"command", "args", "env", "url", "headers", "prefix", "timeout"}
_MCP_PREFIX = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
#: An HTTP header name (RFC 9110's token).
_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


@dataclass(frozen=True)
class ProviderSettings:
    """How to reach one provider: where it lives and which variable holds its key."""

    name: str
    base_url: str | None = None
    api_key_env: str | None = None
    #: For a provider table with a name of its own (``[providers.vllm]``): the protocol it speaks.
    type: str | None = None


@dataclass(frozen=True)
class MCPServerSettings:
    """A Model Context Protocol server whose tools a spell connects with ``tools.mcp``: a
    program started for the run and spoken to over its stdin/stdout (``command``), or a
    streamable HTTP endpoint (``url``).  From ``[mcp.servers.NAME]`` or a spell's own table."""

    #: How messages name it: its ``[mcp.servers.NAME]``, or the program and arguments, or the URL.
    name: str
    command: str | None = None
    args: tuple[str, ...] = ()
    #: The server process's whole environment: none of the host's variables are added.
    env: Mapping[str, str] = field(default_factory=dict)
    url: str | None = None
    #: Sent with every request to ``url`` (e.g. ``Authorization``), never to another host.
    headers: Mapping[str, str] = field(default_factory=dict)
    #: Put with ``_`` in front of each of its tools' names (``fs`` -> ``fs_read_file``).
    prefix: str | None = None
    #: Seconds it may take to start and answer, and to answer each call; ``None``: tools/mcp.py's default.
    timeout: float | None = None
    #: Where the program starts and a relative ``command`` is found: the folder of the spell or
    #: llmspell.toml that named it.
    folder: Path | None = None

    def problem(self) -> tuple[str, str] | None:
        """``(key, what is wrong)`` for the first rule the server breaks, or ``None``."""
        if (self.command is None) == (self.url is None):
            return ("", "give either command (a program to start, with args) or url (a streamable HTTP "
                    "endpoint)" + (", not both" if self.command is not None else ""))
        texts = [("command", self.command), ("url", self.url), ("prefix", self.prefix),
                 *(("args", a) for a in self.args), *(("env", v) for v in self.env.values()),
                 *(("headers", v) for v in self.headers.values())]
        for key, text in texts:
            if text is not None and ("\x00" in text or (key != "args" and key != "env" and not text.strip())):
                return key, "must be a non-empty string without NUL characters"
        if self.url is not None:
            if not self.url.startswith(("http://", "https://")):
                return "url", 'must be an http(s) URL, e.g. "http://127.0.0.1:8000/mcp"'
            if self.args or self.env:
                return ("args" if self.args else "env"), "is for a server started with command, not one at a url"
        elif self.headers:
            return "headers", "are for a server at a url, not one started with command"
        for name in self.env:
            if not _ENV_NAME.match(name):
                return "env", f"{name!r} is not a variable name (letters, digits and _, not first a digit)"
        for name, value in self.headers.items():
            if not _HEADER_NAME.match(name) or name.lower() == "host":
                return "headers", f"{name!r} is not a header a server may be sent"
            if "\r" in value or "\n" in value:
                return "headers", f"the value of {name} may not contain a line break"
        if self.prefix is not None and not _MCP_PREFIX.match(self.prefix):
            return "prefix", "must start with a letter and hold only letters, digits, _ and - (at most 64)"
        timeout = self.timeout
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, int | float)
                                    or not 0 < timeout < float("inf")):
            return "timeout", "must be a number of seconds > 0, e.g. timeout = 30"
        return None


@dataclass
class Settings:
    """Everything about models that a spell must not hard-code.

    ``env`` is the environment the settings were loaded against; model
    resolution reads API keys from it, so tests can pass a dict instead of
    touching ``os.environ``.
    """

    default_model: str | None = None
    aliases: dict[str, str | list[str]] = field(default_factory=dict)
    providers: dict[str, ProviderSettings] = field(default_factory=dict)
    #: The raw ``[sandbox]`` table; the sandbox module validates it.
    sandbox: dict[str, Any] = field(default_factory=dict)
    #: ``[tools.web_search] endpoint``: the search service web_search asks (a
    #: SearXNG JSON API, or a URL with ``{query}``); an operator's choice.
    search_endpoint: str | None = None
    #: Retries of a failed HTTP request inside one provider call (the SDKs' own retry loop).
    max_retries: int = 2
    #: Seconds one HTTP attempt may take; ``None`` keeps the SDK default.
    timeout: float | None = None
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    #: Models the embedder named itself (``Runtime(models={"scripted": FunctionModel(...)})``): a
    #: pydantic-ai ``Model`` by the name a spell gives as ``model``; the operator's choice, so enabled.
    models: Mapping[str, Any] = field(default_factory=dict)
    #: ``[mcp.servers.NAME]``: MCP servers a spell connects by name (``tools.mcp("NAME")``).
    mcp_servers: dict[str, MCPServerSettings] = field(default_factory=dict)
    #: The file these settings came from, if any (for messages).
    source: Path | None = None

    def provider(self, name: str) -> ProviderSettings:
        """The settings of one provider, empty if the file says nothing about it."""
        return self.providers.get(name) or ProviderSettings(name)

    def api_key_env_names(self, provider: str) -> tuple[str, ...]:
        """The variables to look in for a provider's key, the configured one first."""
        configured = self.provider(provider).api_key_env
        usual = KNOWN_PROVIDERS.get(provider, ())
        return (configured,) if configured else usual

    def api_key(self, provider: str) -> str | None:
        """The provider's key from the environment, or ``None`` when none is set."""
        for name in self.api_key_env_names(provider):
            value = self.env.get(name)
            if value:
                return value
        return None


def load_settings(
    path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> Settings:
    """Load settings from the named file, ``$LLMSPELL_CONFIG``, or ``./llmspell.toml``.

    A file named explicitly (argument or variable) must exist; the one in the
    working directory is optional.  The environment then fills what the file
    leaves open: ``LLMSPELL_MODEL`` the default model and ``OPENAI_BASE_URL``
    the OpenAI-compatible base URL.
    """
    env = os.environ if env is None else env
    cwd = Path.cwd() if cwd is None else Path(cwd)
    file = _config_path(path, env, cwd)
    settings = Settings(env=env)
    if file is not None:
        _apply_file(settings, file, _display_name(file, cwd))
        settings.source = file
    if settings.default_model is None and env.get("LLMSPELL_MODEL"):
        settings.default_model = env["LLMSPELL_MODEL"]
    return settings


def _config_path(path: str | Path | None, env: Mapping[str, str], cwd: Path) -> Path | None:
    named = path if path is not None else env.get("LLMSPELL_CONFIG") or None
    if named is not None:
        file = Path(named)
        file = file if file.is_absolute() else cwd / file
        if not file.is_file():
            origin = "--config" if path is not None else "LLMSPELL_CONFIG"
            raise SpellError("not_found", f"config file {named} (from {origin}) does not exist")
        return file
    default = cwd / CONFIG_FILENAME
    return default if default.is_file() else None


def _display_name(file: Path, cwd: Path) -> str:
    try:
        return str(file.relative_to(cwd))
    except ValueError:
        return str(file)


def _apply_file(settings: Settings, file: Path, shown: str) -> None:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpellError("invalid_argument", f"{shown}: cannot read the config file: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _toml_syntax_error(shown, exc) from None
    _Reader(settings, text, shown, file.parent).read(data)


def _toml_syntax_error(shown: str, exc: tomllib.TOMLDecodeError) -> SpellError:
    message = str(exc)
    match = re.search(r"\(at line (\d+), column \d+\)$", message)
    line = int(match.group(1)) if match else None
    what = message[: match.start()].strip() if match else message
    where = f"{shown}:{line}" if line else shown
    err = SpellError("invalid_argument", f"{where}: not valid TOML: {what}; fix the syntax on that line")
    err.file, err.line = shown, line
    return err


class _Reader:
    """Checks the parsed file against the schema, with line numbers in every complaint."""

    def __init__(self, settings: Settings, text: str, shown: str, folder: Path | None = None) -> None:
        self.settings = settings
        self.lines = text.splitlines()
        self.shown = shown
        self.folder = folder

    def read(self, data: dict[str, Any]) -> None:
        for key in data:
            if key not in _TOP_KEYS:
                self.fail((), key, f"unknown table [{key}]; llmspell.toml has {_names(_TOP_KEYS)}")
        llm = self.table(data, (), "llm")
        providers = self.table(data, (), "providers")
        self.settings.sandbox = dict(self.table(data, (), "sandbox"))
        self.read_tools(self.table(data, (), "tools"))
        self.read_mcp(self.table(data, (), "mcp"))
        self.read_llm(llm)
        for name in providers:
            self.read_provider(name, providers[name])

    def read_tools(self, tools: dict[str, Any]) -> None:
        for key in tools:
            if key not in _TOOLS_KEYS:
                self.fail(("tools",), key, f"unknown table [tools.{key}]; allowed: {_names(_TOOLS_KEYS)}")
        path = ("tools", "web_search")
        search = self.table(tools, ("tools",), "web_search")
        for key in search:
            if key not in _WEB_SEARCH_KEYS:
                self.fail(path, key, f"unknown key {key!r} in [tools.web_search]; allowed: {_names(_WEB_SEARCH_KEYS)}")
        if "endpoint" in search:
            endpoint = self.string(search, path, "endpoint")
            if not endpoint.startswith(("http://", "https://")):
                self.fail(path, "endpoint", 'endpoint must be an http(s) URL, e.g. endpoint = "http://127.0.0.1:8888/search"')
            self.settings.search_endpoint = endpoint

    def read_mcp(self, mcp: dict[str, Any]) -> None:
        for key in mcp:
            if key not in _MCP_KEYS:
                self.fail(("mcp",), key, f"unknown key {key!r} in [mcp]; servers go in [mcp.servers.NAME]")
        servers = self.table(mcp, ("mcp",), "servers")
        for name, table in servers.items():
            self.read_mcp_server(name, table)

    def read_mcp_server(self, name: str, table: Any) -> None:
        path = ("mcp", "servers")
        here = (*path, name)
        if not isinstance(table, dict):
            self.fail(path, name, f"mcp.servers.{name} must be a table: [mcp.servers.{name}]")
        for key in table:
            if key not in _MCP_SERVER_KEYS:
                self.fail(here, key,
                          f"unknown key {key!r} in [mcp.servers.{name}]; allowed: {_names(_MCP_SERVER_KEYS)}")
        fields: dict[str, Any] = {}
        for key in ("command", "url", "prefix"):
            if key in table:
                fields[key] = self.string(table, here, key)
        if "args" in table:
            args = table["args"]
            if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                self.fail(here, "args", 'args must be a list of strings, e.g. args = ["server.py"]')
            fields["args"] = tuple(args)
        for key in ("env", "headers"):
            if key in table:
                value = table[key]
                if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
                    self.fail(here, key, f'{key} must be a table of strings, e.g. {key} = {{ NAME = "value" }}')
                fields[key] = dict(value)
        if "timeout" in table:
            fields["timeout"] = table["timeout"]
        command = fields.get("command")
        if command is not None and "/" in command and not os.path.isabs(command) and self.folder is not None:
            fields["command"] = os.path.join(self.folder, command)  # relative to this file, as allow_run
        server = MCPServerSettings(name=name, folder=self.folder, **fields)
        problem = server.problem()
        if problem is not None:
            key, what = problem
            if key in table:
                self.fail(here, key, f"[mcp.servers.{name}] {key}: {what}")
            self.fail(path, name, f"[mcp.servers.{name}]: {what}")
        self.settings.mcp_servers[name] = server

    def read_llm(self, llm: dict[str, Any]) -> None:
        path = ("llm",)
        for key in llm:
            if key not in _LLM_KEYS:
                self.fail(path, key, f"unknown key {key!r} in [llm]; allowed: {_names(_LLM_KEYS)}")
        if "default_model" in llm:
            self.settings.default_model = self.string(llm, path, "default_model")
        if "max_retries" in llm:
            value = llm["max_retries"]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                self.fail(
                    path, "max_retries", "max_retries must be a whole number >= 0, e.g. max_retries = 2"
                )
            self.settings.max_retries = value
        if "timeout" in llm:
            value = llm["timeout"]
            if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
                self.fail(path, "timeout", "timeout must be a number of seconds > 0, e.g. timeout = 60")
            self.settings.timeout = float(value)
        aliases = self.table(llm, path, "aliases")
        for name, target in aliases.items():
            if isinstance(target, str) and target:
                self.settings.aliases[name] = target
            elif isinstance(target, list) and target and all(isinstance(t, str) and t for t in target):
                self.settings.aliases[name] = list(target)
            else:
                self.fail(
                    (*path, "aliases"),
                    name,
                    f'alias {name!r} must name a model ("openai:gpt-4o") or a list of models to try in order',
                )

    def read_provider(self, name: str, table: Any) -> None:
        path = ("providers",)
        if not isinstance(table, dict):
            self.fail(path, name, f"providers.{name} must be a table: [providers.{name}]")
        for key in table:
            if key not in _PROVIDER_KEYS:
                self.fail(
                    (*path, name),
                    key,
                    f"unknown key {key!r} in [providers.{name}]; allowed: {_names(_PROVIDER_KEYS)}",
                )
        here = (*path, name)
        base_url = self.string(table, here, "base_url") if "base_url" in table else None
        key_env = self.string(table, here, "api_key_env") if "api_key_env" in table else None
        kind = self.string(table, here, "type") if "type" in table else None
        if key_env is not None and not _ENV_NAME.match(key_env):
            self.fail(
                here, "api_key_env", 'api_key_env is the NAME of a variable (e.g. "MY_KEY"), not the key'
            )
        if kind is not None and kind not in _PROVIDER_TYPES:
            self.fail(here, "type", f"type must be one of {_names(_PROVIDER_TYPES)}")
        if name not in KNOWN_PROVIDERS and kind is None:
            self.fail(
                path,
                name,
                f"unknown provider {name!r}; known: {_names(KNOWN_PROVIDERS)}; for another "
                'OpenAI-compatible server add type = "openai-compatible" and base_url',
            )
        if kind is not None and base_url is None:
            self.fail(
                path, name, f'[providers.{name}] needs base_url, e.g. base_url = "http://127.0.0.1:8080/v1"'
            )
        self.settings.providers[name] = ProviderSettings(name, base_url, key_env, kind)

    def table(self, data: dict[str, Any], path: tuple[str, ...], key: str) -> dict[str, Any]:
        value = data.get(key, {})
        if not isinstance(value, dict):
            dotted = ".".join((*path, key))
            self.fail(path, key, f"{key} must be a table: [{dotted}]")
        return value

    def string(self, data: dict[str, Any], path: tuple[str, ...], key: str) -> str:
        value = data[key]
        if not isinstance(value, str) or not value:
            self.fail(path, key, f"{key} must be a non-empty string in quotes")
        return value

    def fail(self, path: tuple[str, ...], key: str, what: str) -> None:
        line = _find_line(self.lines, path, key)
        while line is None and path:  # e.g. a key inside an inline table: point at the table's line
            path, key = path[:-1], path[-1]
            line = _find_line(self.lines, path, key)
        where = f"{self.shown}:{line}" if line else self.shown
        err = SpellError("invalid_argument", f"{where}: {what}")
        err.file, err.line = self.shown, line
        raise err


def _names(keys: Any) -> str:
    return ", ".join(sorted(keys))


_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")


def _split_dotted(text: str) -> tuple[str, ...]:
    """Split a TOML dotted key (``providers."openai-compatible"``) into its parts."""
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"|\'([^\']*)\'|([A-Za-z0-9_-]+)', text)
    return tuple(a or b or c for a, b, c in parts)


def _find_line(lines: list[str], path: tuple[str, ...], key: str) -> int | None:
    """The 1-based line where ``key`` is set inside table ``path``.

    tomllib gives no positions for valid documents, so this re-reads the
    headers and ``key =`` lines; it covers the forms people write in config
    files (tables, dotted headers, quoted keys) and falls back to no line.
    """
    current: tuple[str, ...] = ()
    for number, line in enumerate(lines, start=1):
        header = _HEADER.match(line)
        if header:
            current = _split_dotted(header.group(1))
            if current == (*path, key) or (
                current[: len(path) + 1] == (*path, key) and len(current) > len(path)
            ):
                return number
            continue
        if "=" not in line or line.lstrip().startswith("#"):
            continue
        lhs = _split_dotted(line.split("=", 1)[0])
        full = current + lhs
        if full[: len(path) + 1] == (*path, key):
            return number
    return None
