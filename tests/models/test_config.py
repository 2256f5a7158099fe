"""Settings: llmspell.toml, LLMSPELL_CONFIG, environment precedence and error messages."""

from pathlib import Path

import pytest

from llmspell.config import load_settings
from llmspell.errors import SpellError

FULL = """\
[llm]
default_model = "anthropic:claude-sonnet-4-5"
max_retries = 0
timeout = 12.5

[llm.aliases]
"gpt-4" = "openai:gpt-4o"
"claude-3-opus" = "local:smollm2"
fast = ["openai:gpt-4o-mini", "local:smollm2"]

[providers.openai-compatible]
base_url = "http://127.0.0.1:8080/v1"
api_key_env = "LOCAL_LLM_KEY"

[providers.vllm]
type = "openai-compatible"
base_url = "http://10.0.0.2:8000/v1"

[sandbox]
allow_read = ["data"]
max_memory = "64MiB"
"""


def write(folder: Path, text: str, name: str = "llmspell.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_llmspell_toml_from_the_working_directory(tmp_path: Path) -> None:
    write(tmp_path, FULL)
    s = load_settings(env={}, cwd=tmp_path)
    assert s.default_model == "anthropic:claude-sonnet-4-5"
    assert s.aliases == {
        "gpt-4": "openai:gpt-4o",
        "claude-3-opus": "local:smollm2",
        "fast": ["openai:gpt-4o-mini", "local:smollm2"],
    }
    assert s.max_retries == 0 and s.timeout == 12.5
    compat = s.provider("openai-compatible")
    assert compat.base_url == "http://127.0.0.1:8080/v1" and compat.api_key_env == "LOCAL_LLM_KEY"
    assert s.provider("vllm").type == "openai-compatible"
    assert s.sandbox == {"allow_read": ["data"], "max_memory": "64MiB"}
    assert s.source == tmp_path / "llmspell.toml"


def test_no_file_gives_empty_settings(tmp_path: Path) -> None:
    s = load_settings(env={}, cwd=tmp_path)
    assert s.default_model is None and s.aliases == {} and s.providers == {} and s.source is None


def test_explicit_path_beats_llmspell_config_which_beats_cwd(tmp_path: Path) -> None:
    write(tmp_path, '[llm]\ndefault_model = "from-cwd"\n')
    env_file = write(tmp_path, '[llm]\ndefault_model = "from-env-var"\n', "env.toml")
    arg_file = write(tmp_path, '[llm]\ndefault_model = "from-arg"\n', "arg.toml")
    env = {"LLMSPELL_CONFIG": str(env_file)}
    assert load_settings(env={}, cwd=tmp_path).default_model == "from-cwd"
    assert load_settings(env=env, cwd=tmp_path).default_model == "from-env-var"
    assert load_settings(arg_file, env=env, cwd=tmp_path).default_model == "from-arg"
    # A relative path is relative to the working directory.
    assert load_settings("arg.toml", env={}, cwd=tmp_path).default_model == "from-arg"


def test_environment_fills_only_what_the_file_leaves_open(tmp_path: Path) -> None:
    env = {"LLMSPELL_MODEL": "openai:gpt-4o"}
    assert load_settings(env=env, cwd=tmp_path).default_model == "openai:gpt-4o"
    write(tmp_path, '[llm]\ndefault_model = "local:smollm2"\n')
    assert load_settings(env=env, cwd=tmp_path).default_model == "local:smollm2"


def test_api_key_comes_from_the_configured_variable_or_the_usual_one(tmp_path: Path) -> None:
    write(tmp_path, FULL)
    env = {"LOCAL_LLM_KEY": "k-local", "OPENAI_API_KEY": "k-openai", "GEMINI_API_KEY": "k-gem"}
    s = load_settings(env=env, cwd=tmp_path)
    assert s.api_key("openai-compatible") == "k-local"
    assert s.api_key("openai") == "k-openai"
    assert s.api_key("google") == "k-gem"
    assert s.api_key("anthropic") is None


def test_missing_named_file_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(SpellError) as err:
        load_settings(env={"LLMSPELL_CONFIG": "nope.toml"}, cwd=tmp_path)
    assert err.value.kind == "not_found"
    assert "nope.toml" in err.value.message and "LLMSPELL_CONFIG" in err.value.message


def config_error(tmp_path: Path, text: str) -> SpellError:
    write(tmp_path, text)
    with pytest.raises(SpellError) as err:
        load_settings(env={}, cwd=tmp_path)
    assert err.value.kind == "invalid_argument"
    return err.value


def test_bad_toml_names_the_line(tmp_path: Path) -> None:
    err = config_error(tmp_path, '[llm]\ndefault_model = "a"\naliases = {\n')
    assert err.message.startswith("llmspell.toml:3: not valid TOML")
    assert err.line == 3


def test_unknown_key_names_the_line_and_the_allowed_keys(tmp_path: Path) -> None:
    err = config_error(tmp_path, '[llm]\ndefault_model = "a"\n\ndefault_modle = "b"\n')
    assert err.message.startswith("llmspell.toml:4: unknown key 'default_modle' in [llm]")
    assert "default_model" in err.message


def test_unknown_table_and_provider_key(tmp_path: Path) -> None:
    err = config_error(tmp_path, "# settings\n[lmm]\nx = 1\n")
    assert err.message.startswith("llmspell.toml:2: unknown table [lmm]")
    err = config_error(tmp_path, '[providers.openai]\nbase_url = "http://x/v1"\napi_key = "sk-123"\n')
    assert err.message.startswith("llmspell.toml:3: unknown key 'api_key' in [providers.openai]")


def test_unknown_provider_needs_a_type(tmp_path: Path) -> None:
    err = config_error(tmp_path, '[llm]\n\n[providers.vllm]\nbase_url = "http://x/v1"\n')
    assert err.message.startswith("llmspell.toml:3: unknown provider 'vllm'")
    assert 'type = "openai-compatible"' in err.message


def test_api_key_env_must_be_a_variable_name_not_a_key(tmp_path: Path) -> None:
    err = config_error(tmp_path, '[providers."openai-compatible"]\napi_key_env = "sk-abc def"\n')
    assert err.message.startswith("llmspell.toml:2: api_key_env is the NAME of a variable")


def test_wrong_value_types_are_reported(tmp_path: Path) -> None:
    err = config_error(tmp_path, "[llm]\ndefault_model = 3\n")
    assert err.message.startswith("llmspell.toml:2: default_model must be a non-empty string")
    err = config_error(tmp_path, "[llm.aliases]\nfast = 3\n")
    assert err.message.startswith("llmspell.toml:2: alias 'fast' must name a model")
    err = config_error(tmp_path, "[llm]\nmax_retries = -1\n")
    assert err.message.startswith("llmspell.toml:2: max_retries must be a whole number")


def test_errors_inside_inline_tables_point_at_the_table(tmp_path: Path) -> None:
    err = config_error(tmp_path, '[providers]\nopenai = { base_url = "http://x/v1", api_key = "sk" }\n')
    assert err.message.startswith("llmspell.toml:2: unknown key 'api_key' in [providers.openai]")


def test_web_search_endpoint_and_its_mistakes(tmp_path: Path) -> None:
    (tmp_path / "llmspell.toml").write_text('[tools.web_search]\nendpoint = "http://127.0.0.1:8888/search"\n')
    assert load_settings(env={}, cwd=tmp_path).search_endpoint == "http://127.0.0.1:8888/search"
    err = config_error(tmp_path, '[tools.web_search]\nendpoint = "search.example"\n')
    assert err.message.startswith("llmspell.toml:2: endpoint must be an http(s) URL")
    err = config_error(tmp_path, '[tools.web_search]\nurl = "http://x/"\n')
    assert err.message.startswith("llmspell.toml:2: unknown key 'url' in [tools.web_search]")
    err = config_error(tmp_path, '[tools.websearch]\nendpoint = "http://x/"\n')
    assert "unknown table [tools.websearch]" in err.message
