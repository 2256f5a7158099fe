"""A spell picks model names; the operator picks which providers and endpoints exist.

Attacks: name a provider nobody configured (``ollama:`` used to mean
``localhost:11434`` whatever listened there), hide it in a fallback list, read
back what a configured endpoint the spell may not reach answered, ask
``llm.providers()`` which keys are set, and send a prompt of any size.  The
servers record every request: a refused provider's would-be address must get
none, not merely have its answer thrown away.
"""

from __future__ import annotations

import errno
import json
import socket

import pytest
from tests.security.conftest import expect_error
from tests.support.openai_server import ScriptedOpenAIServer

ALL_LANGS = ("lua", "js", "tengo")
OLLAMA_DEFAULT_PORT = 11434
NO_KEYS = {"OPENAI_API_KEY": "", "ANTHROPIC_API_KEY": ""}


def _model(lang: str, model: str | list[str]) -> str:
    if isinstance(model, str):
        return json.dumps(model)
    items = ", ".join(json.dumps(m) for m in model)
    return f"{{{items}}}" if lang == "lua" else f"[{items}]"


def complete(lang: str, model: str | list[str], prompt: str = '"hi"', extra: str = "") -> str:
    """A spell that makes one call and returns its content (a failure fails the run with its kind)."""
    m = _model(lang, model)
    if lang == "lua":
        return f"return llm.complete{{model = {m}, prompt = {prompt}{extra}}}.content"
    if lang == "js":
        return f"return (await llm.complete({{model: {m}, prompt: {prompt}{extra}}})).content"
    return f"x := llm.complete({{model: {m}, prompt: {prompt}{extra}}})\nexport is_error(x) ? x : x.content\n"


@pytest.fixture
def default_port(recorder):
    """A recording server where Ollama's default address would point."""
    try:
        return recorder(OLLAMA_DEFAULT_PORT)
    except OSError as exc:  # a real Ollama on this machine: its port is not ours to take
        if exc.errno != errno.EADDRINUSE:
            raise
        pytest.skip(f"port {OLLAMA_DEFAULT_PORT} is in use on this machine")


@pytest.fixture
def scripted():
    with ScriptedOpenAIServer() as srv:
        yield srv


# -- a provider nobody enabled is refused before any request ----------------------------------------

@pytest.mark.parametrize("lang", ALL_LANGS)
def test_an_unconfigured_ollama_gets_no_request(spell, recorder, default_port, lang):
    """The issue's case: only 127.0.0.1:A is granted; ollama:llama3 used to POST to localhost:11434."""
    allowed = recorder()
    result = spell(lang, complete(lang, "ollama:llama3"), f"--allow-net=127.0.0.1:{allowed.port}")
    expect_error(result, "permission_denied", contains="[providers.ollama]")
    assert default_port.hits == [] and allowed.hits == []
    assert "hello from" not in result.err + result.out and str(OLLAMA_DEFAULT_PORT) in result.err  # the how-to


@pytest.mark.parametrize("lang", ALL_LANGS)
@pytest.mark.parametrize("model", [
    "ollama:llama3", ["test", "ollama:llama3"], ["ollama:llama3", "test"], "google:gemini-2.5-flash",
    "gemini-2.5-flash", "openai:gpt-4o", "gpt-4o", "openai-chat:gpt-4o", "openai-responses:gpt-4o",
    "anthropic:claude-sonnet-4-5", "openai-compatible:qwen",
], ids=["ollama", "fallback_last", "fallback_first", "google", "google_bare", "openai", "openai_bare",
        "openai_chat", "openai_responses", "anthropic", "compatible"])
def test_every_provider_nobody_enabled_is_refused(spell, default_port, lang, model):
    """No keys, no base URLs, no config: only test and local serve; a list with one refused link is refused
    whole, before the first link runs."""
    result = spell(lang, complete(lang, model), "--allow-net", env=NO_KEYS)
    expect_error(result, "permission_denied", contains="not enabled")
    assert "the operator enables it" in result.err
    assert default_port.hits == []


@pytest.mark.parametrize("lang", ALL_LANGS)
def test_an_alias_enables_a_provider_but_not_a_default_address(spell, tree, default_port, lang):
    (tree.root / "llmspell.toml").write_text('[llm.aliases]\nfast = "ollama:llama3"\n')
    result = spell(lang, complete(lang, "fast"), "--allow-net")
    expect_error(result, "provider_error", contains="needs a base URL")
    assert default_port.hits == []


# -- configured providers work; their answers are the spell's only if it could ask them itself ------

@pytest.mark.parametrize("lang", ALL_LANGS)
@pytest.mark.parametrize("how", ["toml", "env"])
def test_a_configured_ollama_is_used(spell, tree, scripted, default_port, lang, how):
    scripted.always("hello from the configured server")
    env = {"OLLAMA_BASE_URL": scripted.base_url} if how == "env" else {}
    if how == "toml":
        (tree.root / "llmspell.toml").write_text(f'[providers.ollama]\nbase_url = "{scripted.base_url}"\n')
    result = spell(lang, complete(lang, "ollama:llama3"), env=env)
    assert result.code == 0, result.err
    assert "hello from the configured server" in result.out
    assert [r.body["model"] for r in scripted.completions] == ["llama3"]
    assert default_port.hits == []


@pytest.mark.parametrize("lang", ALL_LANGS)
def test_a_configured_compatible_server_and_a_custom_one_are_used(spell, tree, scripted, lang):
    scripted.always("answer")
    (tree.root / "llmspell.toml").write_text(
        f'[providers.openai-compatible]\nbase_url = "{scripted.base_url}"\n'
        f'[providers.vllm]\ntype = "openai-compatible"\nbase_url = "{scripted.base_url}"\n')
    for model in ("openai-compatible:m1", "vllm:m2"):
        result = spell(lang, complete(lang, model), env=NO_KEYS)
        assert result.code == 0 and "answer" in result.out, result.err
    assert [r.body["model"] for r in scripted.completions] == ["m1", "m2"]


@pytest.mark.parametrize("lang", ALL_LANGS)
def test_what_a_configured_endpoint_answered_is_hidden_unless_the_spell_may_reach_it(spell, tree, scripted, lang):
    banner = "Server: internal-admin-console 4.2 on db-7"
    scripted.always(banner, status=500)
    (tree.root / "llmspell.toml").write_text(
        f'[llm]\nmax_retries = 0\n[providers.openai-compatible]\nbase_url = "{scripted.base_url}"\n')
    hidden = spell(lang, complete(lang, "openai-compatible:m"))
    expect_error(hidden, "provider_error", contains="HTTP 500")
    assert "internal-admin-console" not in hidden.err + hidden.out
    assert str(scripted.port) not in hidden.err
    shown = spell(lang, complete(lang, "openai-compatible:m"), f"--allow-net=127.0.0.1:{scripted.port}")
    expect_error(shown, "provider_error", contains="internal-admin-console")


@pytest.mark.parametrize("lang", ALL_LANGS)
def test_where_an_unreachable_endpoint_is_stays_hidden(spell, tree, lang):
    with socket.socket() as bound:  # bound, never listening: connections are refused
        bound.bind(("127.0.0.1", 0))
        port = bound.getsockname()[1]
        (tree.root / "llmspell.toml").write_text(
            f'[llm]\nmax_retries = 0\n[providers.ollama]\nbase_url = "http://127.0.0.1:{port}/v1"\n')
        result = spell(lang, complete(lang, "ollama:llama3"))
    expect_error(result, "provider_error", contains="cannot reach")
    assert str(port) not in result.err and "127.0.0.1" not in result.err


# -- llm.providers() and llm.models() show only what the spell may use --------------------------------

PROVIDERS = {
    "lua": "return llm.providers()",
    "js": "return await llm.providers()",
    "tengo": "export llm.providers()",
}


@pytest.mark.parametrize("lang", ALL_LANGS)
def test_providers_tell_no_environment_state(spell, lang):
    """The spell may read no variable: the list names none, and a provider it may not use is absent."""
    with_keys = spell(lang, PROVIDERS[lang])  # the harness sets OPENAI_API_KEY and ANTHROPIC_API_KEY
    assert with_keys.code == 0, with_keys.err
    rows = {r["name"]: r for r in json.loads(with_keys.out)}
    assert set(rows) == {"test", "local", "openai", "anthropic"}
    assert rows["openai"] == {"name": "openai", "configured": True, "reason": "enabled by the operator"}
    for text in (with_keys.out,):
        for leak in ("API_KEY", "is set", "GEMINI", "OLLAMA", "BASE_URL", "llmspell.toml", "pip install"):
            assert leak not in text
    without = spell(lang, PROVIDERS[lang], env={**NO_KEYS, "GOOGLE_API_KEY": ""})
    assert {r["name"] for r in json.loads(without.out)} == {"test", "local"}


@pytest.mark.parametrize("lang", ALL_LANGS)
def test_models_lists_only_enabled_providers(spell, lang):
    src = {"lua": "return llm.models()", "js": "return await llm.models()", "tengo": "export llm.models()"}[lang]
    result = spell(lang, src, env=NO_KEYS)
    assert result.code == 0, result.err
    assert {m["provider"] for m in json.loads(result.out)} == {"test", "local"}


# -- the prompt-size limit -------------------------------------------------------------------------------

def _rep(lang: str, text: str, count: int) -> str:
    if lang == "lua":
        return f'string.rep("{text}", {count})'
    if lang == "js":
        return f'"{text}".repeat({count})'
    return f'text.repeat("{text}", {count})'


def _tengo_text(source: str) -> str:
    return 'text := import("text")\n' + source


@pytest.mark.parametrize("lang", ALL_LANGS)
def test_a_prompt_over_max_prompt_is_never_sent(spell, tree, scripted, lang):
    scripted.always("ok")
    (tree.root / "llmspell.toml").write_text(f'[providers.openai-compatible]\nbase_url = "{scripted.base_url}"\n')
    big = complete(lang, "openai-compatible:m", _rep(lang, "x", 64 * 1024 + 1))
    result = spell(lang, _tengo_text(big) if lang == "tengo" else big, "--max-prompt", "64KiB")
    expect_error(result, "limit_exceeded", contains="more than the limit of 65536 bytes")
    assert "--max-prompt" in result.err
    fits = complete(lang, "openai-compatible:m", _rep(lang, "x", 64 * 1024))
    result = spell(lang, _tengo_text(fits) if lang == "tengo" else fits, "--max-prompt", "64KiB")
    assert result.code == 0, result.err
    assert len(scripted.completions) == 1  # only the one that fits reached the server


@pytest.mark.parametrize("lang", ALL_LANGS)
@pytest.mark.parametrize("where", ["system", "messages", "bytes"])
def test_max_prompt_counts_system_messages_and_bytes(spell, lang, where):
    """Everything a call sends counts, in UTF-8 bytes: 40 000 two-byte characters are 80 000 bytes."""
    small = '"hi"'
    if where == "system":
        src = complete(lang, "test", small, extra=(", system = " if lang == "lua" else ", system: ")
                       + _rep(lang, "x", 70_000))
    elif where == "messages":
        msg = ('{{role = "user", content = ' if lang == "lua" else '[{role: "user", content: ') + \
            _rep(lang, "x", 70_000) + ("}}" if lang == "lua" else "}]")
        src = complete(lang, "test", small, extra=(", messages = " if lang == "lua" else ", messages: ") + msg)
    else:
        src = complete(lang, "test", _rep(lang, "é", 40_000))
    src = _tengo_text(src) if lang == "tengo" else src
    result = spell(lang, src, "--max-prompt", "64KiB")
    expect_error(result, "limit_exceeded", contains="max-prompt")


@pytest.mark.parametrize("lang", ALL_LANGS)
def test_the_default_limit_refuses_a_huge_prompt(spell, lang):
    src = complete(lang, "test", _rep(lang, "x", 8 * 1024 * 1024))
    result = spell(lang, _tengo_text(src) if lang == "tengo" else src)
    expect_error(result, "limit_exceeded", contains="4194304 bytes")
