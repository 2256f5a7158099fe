"""Which providers are enabled for spells: every rule of models/access.py, and nothing else."""

import pytest

from llmspell.config import ProviderSettings, Settings
from llmspell.errors import SpellError
from llmspell.models.access import check_enabled, enabled_providers
from llmspell.models.calls import spell_providers
from llmspell.models.resolve import resolve_chain


def enabled(**kw) -> set[str]:
    operator = kw.pop("operator", ())
    kw.setdefault("env", {})
    return set(enabled_providers(Settings(**kw), operator))


def test_nothing_configured_means_only_the_in_process_models() -> None:
    assert enabled() == {"test", "local"}


@pytest.mark.parametrize(("env", "expected"), [
    ({"OPENAI_API_KEY": "k"}, "openai"),
    ({"ANTHROPIC_API_KEY": "k"}, "anthropic"),
    ({"GOOGLE_API_KEY": "k"}, "google"),
    ({"GEMINI_API_KEY": "k"}, "google"),
    ({"OLLAMA_BASE_URL": "http://h:11434/v1"}, "ollama"),
])
def test_the_operators_environment_enables_a_provider(env, expected) -> None:
    assert enabled(env=env) == {"test", "local", expected}


def test_openai_base_url_enables_openai_and_compatible_but_an_empty_variable_nothing() -> None:
    assert enabled(env={"OPENAI_BASE_URL": "http://h/v1"}) == {"test", "local", "openai", "openai-compatible"}
    assert enabled(env={"OPENAI_API_KEY": "", "OLLAMA_BASE_URL": ""}) == {"test", "local"}


def test_an_ollama_key_alone_enables_nothing() -> None:
    assert enabled(env={"OLLAMA_API_KEY": "k"}) == {"test", "local"}


def test_tables_defaults_aliases_and_the_operators_model_enable_their_providers() -> None:
    assert "ollama" in enabled(providers={"ollama": ProviderSettings("ollama", base_url="http://h/v1")})
    assert "vllm" in enabled(providers={"vllm": ProviderSettings("vllm", base_url="http://h/v1",
                                                                 type="openai-compatible")})
    assert "anthropic" in enabled(default_model="claude-sonnet-4-5")
    assert "google" in enabled(aliases={"fast": ["test", "google:gemini-2.5-flash"]})
    assert "openai" in enabled(aliases={"a": "b", "b": "openai-chat:gpt-4o"})
    assert "ollama" in enabled(operator=("ollama:llama3",))
    assert "ollama" in enabled(operator=(["test", "ollama:llama3"],))


def test_a_refusal_comes_before_anything_is_built_and_says_how_to_enable() -> None:
    s = Settings(env={})
    for name, how in [("ollama:x", "OLLAMA_BASE_URL"), ("gpt-4o", "OPENAI_API_KEY"),
                      ("openai-responses:o3", "OPENAI_API_KEY"), ("gemini-2.5-pro", "GEMINI_API_KEY")]:
        with pytest.raises(SpellError) as err:
            resolve_chain(["test", name], s)
        assert err.value.kind == "permission_denied"
        assert "not enabled" in err.value.message and how in err.value.message
    check_enabled("local", "local:smollm2", s)
    check_enabled("test", "test", s)


@pytest.mark.parametrize("bad", ["google:../../v1/files", "google:models/../x", "openai:gpt 4", "vllm:a?b",
                                 "openai:a#b", "openai:%2e%2e", "openai:a\nb", "ollama:.", "x" * 300])
def test_model_names_cannot_carry_paths_or_controls(bad) -> None:
    s = Settings(env={"OPENAI_API_KEY": "k", "GOOGLE_API_KEY": "k", "OLLAMA_BASE_URL": "http://h/v1"})
    with pytest.raises(SpellError) as err:
        resolve_chain(bad, s)
    assert err.value.kind == "invalid_argument"


def test_a_spell_sees_enabled_providers_only_with_reasons_that_name_nothing() -> None:
    s = Settings(env={"OPENAI_API_KEY": "k", "OLLAMA_API_KEY": "k"}, default_model="anthropic:claude-sonnet-4-5")
    rows = {r["name"]: r for r in spell_providers(s)}
    assert set(rows) == {"test", "local", "openai", "anthropic"}
    assert rows["openai"] == {"name": "openai", "configured": True, "reason": "enabled by the operator"}
    assert rows["anthropic"]["configured"] is False  # enabled by the default model, but no key
    assert "ANTHROPIC" not in rows["anthropic"]["reason"]
