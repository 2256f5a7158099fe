"""Model names -> pydantic-ai models: every name form, aliases, defaults, fallback lists, errors."""

import importlib.util

import pytest
from pydantic_ai.models.fallback import FallbackModel
from pydantic_ai.models.ollama import OllamaModel
from pydantic_ai.models.openai import OpenAIChatModel, OpenAIResponsesModel
from pydantic_ai.models.test import TestModel

from llmspell.config import ProviderSettings, Settings
from llmspell.errors import SpellError
from llmspell.models.resolve import expand_names, resolve_chain, resolve_model

KEYS = {"OPENAI_API_KEY": "sk-test", "ANTHROPIC_API_KEY": "a-test", "GOOGLE_API_KEY": "g-test"}


def settings(**kw) -> Settings:
    kw.setdefault("env", dict(KEYS))
    return Settings(**kw)


def one(name, s: Settings):
    [link] = resolve_chain(name, s)
    return link


def test_openai_means_chat_completions() -> None:
    link = one("openai:gpt-4o", settings())
    assert isinstance(link.model, OpenAIChatModel)
    assert link.model.model_name == "gpt-4o"
    assert (link.name, link.provider, link.base_url) == (
        "openai:gpt-4o",
        "openai",
        "https://api.openai.com/v1",
    )


def test_openai_responses_opts_into_the_responses_api() -> None:
    link = one("openai-responses:gpt-4o", settings())
    assert isinstance(link.model, OpenAIResponsesModel)
    assert link.name == "openai-responses:gpt-4o"


@pytest.mark.parametrize("bare", ["gpt-4o", "gpt-4.1-mini", "o1", "o3-mini", "o4-mini", "chatgpt-4o-latest"])
def test_bare_openai_names_resolve_by_prefix(bare: str) -> None:
    link = one(bare, settings())
    assert isinstance(link.model, OpenAIChatModel)
    assert link.name == f"openai:{bare}"


@pytest.mark.parametrize(
    ("name", "provider", "module", "extra"),
    [
        ("claude-sonnet-4-5", "anthropic", "anthropic", "anthropic"),
        ("anthropic:claude-sonnet-4-5", "anthropic", "anthropic", "anthropic"),
        ("gemini-2.5-flash", "google", "google.genai", "google"),
        ("google:gemini-2.5-flash", "google", "google.genai", "google"),
    ],
)
def test_anthropic_and_google_names(name: str, provider: str, module: str, extra: str) -> None:
    try:
        installed = importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        installed = False
    if installed:
        link = one(name, settings())
        assert link.provider == provider and link.name == f"{provider}:{name.split(':')[-1]}"
    else:
        with pytest.raises(SpellError) as err:
            one(name, settings())
        assert err.value.kind == "provider_error"
        assert f'pip install "llmspell[{extra}]"' in err.value.message


def test_ollama_has_no_default_address_only_the_configured_one() -> None:
    with pytest.raises(SpellError) as err:  # nobody set Ollama up: no localhost:11434 guess
        one("ollama:llama3.2", settings())
    assert err.value.kind == "permission_denied"
    assert "[providers.ollama]" in err.value.message and "OLLAMA_BASE_URL" in err.value.message
    with pytest.raises(SpellError) as err:  # enabled (by a table or an alias) but with no address
        one("ollama:llama3.2", settings(providers={"ollama": ProviderSettings("ollama", api_key_env="K")}))
    assert err.value.kind == "provider_error" and "needs a base URL" in err.value.message
    s = settings(providers={"ollama": ProviderSettings("ollama", base_url="http://gpu-box:11434/v1")})
    link = one("ollama:llama3.2", s)
    assert isinstance(link.model, OllamaModel)
    assert link.base_url == "http://gpu-box:11434/v1"
    assert one("ollama:llama3.2", s).base_url == "http://gpu-box:11434/v1"
    s = settings(env={"OLLAMA_BASE_URL": "http://other:11434/v1"})
    assert one("ollama:llama3.2", s).base_url == "http://other:11434/v1"


def test_openai_compatible_base_url_from_config_then_environment() -> None:
    configured = ProviderSettings("openai-compatible", base_url="http://127.0.0.1:8080/v1")
    s = settings(providers={"openai-compatible": configured}, env={"OPENAI_BASE_URL": "http://env:1/v1"})
    link = one("openai-compatible:qwen2.5", s)
    assert isinstance(link.model, OpenAIChatModel)
    assert link.model.model_name == "qwen2.5"
    assert link.base_url == "http://127.0.0.1:8080/v1"
    assert str(link.model.client.base_url).rstrip("/") == "http://127.0.0.1:8080/v1"
    assert one(
        "openai-compatible:qwen2.5", settings(env={"OPENAI_BASE_URL": "http://env:1/v1"})
    ).base_url == ("http://env:1/v1")


def test_openai_compatible_without_base_url_says_what_to_set() -> None:
    with pytest.raises(SpellError) as err:
        one("openai-compatible:qwen2.5", settings(env={}))
    assert err.value.kind == "permission_denied"
    assert "base_url" in err.value.message and "OPENAI_BASE_URL" in err.value.message
    with pytest.raises(SpellError) as err:
        one("openai-compatible:qwen2.5", settings(env={}, aliases={"q": "openai-compatible:qwen2.5"}))
    assert err.value.kind == "provider_error"
    assert "base_url" in err.value.message and "OPENAI_BASE_URL" in err.value.message


def test_openai_with_base_url_needs_no_key() -> None:
    link = one("openai:my-local", settings(env={"OPENAI_BASE_URL": "http://127.0.0.1:9999/v1"}))
    assert link.base_url == "http://127.0.0.1:9999/v1"


def test_custom_named_openai_compatible_provider() -> None:
    vllm = ProviderSettings("vllm", base_url="http://10.0.0.2:8000/v1", type="openai-compatible")
    link = one("vllm:llama-3-8b", settings(providers={"vllm": vllm}))
    assert (link.name, link.provider, link.base_url) == ("vllm:llama-3-8b", "vllm", "http://10.0.0.2:8000/v1")


def test_missing_api_key_names_the_variable() -> None:
    with pytest.raises(SpellError) as err:
        one("openai:gpt-4o", settings(env={}, default_model="openai:gpt-4o"))
    assert err.value.kind == "provider_error"
    assert err.value.message == (
        "openai:gpt-4o needs an API key: set OPENAI_API_KEY (or api_key_env in llmspell.toml)"
    )


def test_configured_api_key_env_is_required_and_used() -> None:
    compat = ProviderSettings("openai-compatible", base_url="http://h/v1", api_key_env="LOCAL_LLM_KEY")
    with pytest.raises(SpellError) as err:
        one("openai-compatible:m", settings(providers={"openai-compatible": compat}, env={}))
    assert "set LOCAL_LLM_KEY" in err.value.message
    link = one(
        "openai-compatible:m", settings(providers={"openai-compatible": compat}, env={"LOCAL_LLM_KEY": "k"})
    )
    assert link.model.client.api_key == "k"


def test_test_and_local_models() -> None:
    assert isinstance(resolve_model("test", settings()), TestModel)
    local = one("local:smollm2", settings())
    assert (local.name, local.provider, local.model.system) == ("local:smollm2", "local", "local")


def test_unknown_names_are_not_found() -> None:
    for name, fragment in [
        ("mystery-model", "unknown model 'mystery-model'"),
        ("acme:big", "unknown provider 'acme'"),
        ("local:llama-70b", "unknown local model"),
    ]:
        with pytest.raises(SpellError) as err:
            resolve_model(name, settings())
        assert err.value.kind == "not_found"
        assert fragment in err.value.message


def test_none_uses_the_configured_default_then_the_local_model() -> None:
    assert one(None, settings()).name == "local:smollm2"
    assert one(None, settings(default_model="openai:gpt-4o")).name == "openai:gpt-4o"


def test_aliases_apply_everywhere_and_may_expand_to_lists() -> None:
    s = settings(
        aliases={"gpt-4": "openai:gpt-4o", "claude-3-opus": "local:smollm2", "fast": ["gpt-4", "test"]},
        default_model="claude-3-opus",
    )
    assert one("gpt-4", s).name == "openai:gpt-4o"
    assert one(None, s).name == "local:smollm2"
    assert expand_names(["claude-3-opus", "fast"], s) == ["local:smollm2", "openai:gpt-4o", "test"]


def test_alias_loops_are_reported() -> None:
    s = settings(aliases={"a": "b", "b": "a"})
    with pytest.raises(SpellError) as err:
        resolve_model("a", s)
    assert err.value.kind == "invalid_argument" and "a -> b -> a" in err.value.message


def test_a_list_is_a_fallback_chain() -> None:
    model = resolve_model(["openai:gpt-4o", "test"], settings())
    assert isinstance(model, FallbackModel)
    assert [type(m) for m in model.models] == [OpenAIChatModel, TestModel]


def test_bad_model_values() -> None:
    for bad in ([], "", "openai:", 3):
        with pytest.raises(SpellError) as err:
            resolve_model(bad, settings())
        assert err.value.kind == "invalid_argument"
