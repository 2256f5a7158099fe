"""complete / stream over HTTP through the scripted OpenAI-compatible server, and the error mapping."""

import asyncio
import socket

import pytest
from tests.support.openai_server import ScriptedOpenAIServer

from llmspell.config import ProviderSettings, Settings
from llmspell.errors import SpellError
from llmspell.models.calls import CompletionRequest, complete, list_models, list_providers, stream

HI = [{"role": "user", "content": "hi"}]


def settings_for(*servers: ScriptedOpenAIServer, **kw) -> Settings:
    """The first server is `openai-compatible`, the others `s2`, `s3`, ... (custom providers)."""
    providers = {"openai-compatible": ProviderSettings("openai-compatible", base_url=servers[0].base_url)}
    for i, srv in enumerate(servers[1:], start=2):
        providers[f"s{i}"] = ProviderSettings(f"s{i}", base_url=srv.base_url, type="openai-compatible")
    kw.setdefault("max_retries", 0)
    return Settings(providers=providers, env={}, **kw)


def run_complete(req: CompletionRequest, s: Settings) -> dict:
    return asyncio.run(complete(req, s))


def run_stream(req: CompletionRequest, s: Settings) -> tuple[dict, list[str]]:
    deltas: list[str] = []

    async def on_delta(text: str) -> None:
        deltas.append(text)

    result = asyncio.run(stream(req, s, on_delta))
    return result, deltas


def test_complete_sends_the_request_and_shapes_the_response(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.reply("Paris is the capital.", usage=(11, 5))
    req = CompletionRequest(
        model="openai-compatible:qwen",
        system="Be brief.",
        messages=[
            {"role": "user", "content": "Capital of Italy?"},
            {"role": "assistant", "content": "Rome."},
            {"role": "user", "content": "And France?"},
        ],
        temperature=0.25,
        max_tokens=40,
        stop=["\n\n"],
    )
    result = run_complete(req, settings_for(openai_server))
    assert result == {
        "content": "Paris is the capital.",
        "model": "openai-compatible:qwen",
        "finish_reason": "stop",
        "usage": {"input_tokens": 11, "output_tokens": 5, "total_tokens": 16},
    }
    [sent] = openai_server.completions
    assert sent.body["model"] == "qwen"
    assert sent.messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of Italy?"},
        {"role": "assistant", "content": "Rome."},
        {"role": "user", "content": "And France?"},
    ]
    assert sent.body["temperature"] == 0.25
    assert 40 in (sent.body.get("max_tokens"), sent.body.get("max_completion_tokens"))
    assert sent.body["stop"] == ["\n\n"]
    assert not sent.body.get("stream")


def test_finish_reason_length_is_reported(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.reply("cut o", finish_reason="length")
    result = run_complete(
        CompletionRequest(model="openai-compatible:m", messages=HI), settings_for(openai_server)
    )
    assert result["finish_reason"] == "length"


def test_stream_delivers_deltas_in_order(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.reply("", chunks=["Once ", "upon ", "a ", "time"], usage=(3, 4))
    result, deltas = run_stream(
        CompletionRequest(model="openai-compatible:m", messages=HI), settings_for(openai_server)
    )
    assert deltas == ["Once ", "upon ", "a ", "time"]
    assert result["content"] == "Once upon a time"
    assert result["model"] == "openai-compatible:m"
    assert result["usage"] == {"input_tokens": 3, "output_tokens": 4, "total_tokens": 7}
    assert openai_server.completions[0].body["stream"] is True


def test_openai_prefix_reaches_openai_base_url(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.reply("via env")
    s = Settings(env={"OPENAI_BASE_URL": openai_server.base_url}, max_retries=0)
    result = run_complete(CompletionRequest(model="gpt-4o", messages=HI), s)
    assert (result["content"], result["model"]) == ("via env", "openai:gpt-4o")
    assert openai_server.completions[0].path == "/v1/chat/completions"


def test_alias_is_applied_before_the_request(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.reply("aliased")
    s = settings_for(openai_server, aliases={"gpt-4": "openai-compatible:served-model"})
    result = run_complete(CompletionRequest(model="gpt-4", messages=HI), s)
    assert result["model"] == "openai-compatible:served-model"
    assert openai_server.completions[0].body["model"] == "served-model"


def test_fallback_takes_the_next_model_when_the_first_fails(openai_server_factory) -> None:
    first, second = openai_server_factory(), openai_server_factory()
    first.fail(500, "internal trouble")
    second.reply("answer from the second")
    s = settings_for(first, second)
    result = run_complete(CompletionRequest(model=["openai-compatible:a", "s2:b"], messages=HI), s)
    assert result["content"] == "answer from the second"
    assert result["model"] == "s2:b"
    assert len(first.completions) == 1 and len(second.completions) == 1


def test_fallback_while_streaming(openai_server_factory) -> None:
    first, second = openai_server_factory(), openai_server_factory()
    first.fail(503, "overloaded")
    second.reply("streamed second")
    s = settings_for(first, second)
    result, deltas = run_stream(CompletionRequest(model=["openai-compatible:a", "s2:b"], messages=HI), s)
    assert "".join(deltas) == "streamed second" == result["content"]
    assert result["model"] == "s2:b"


def test_fallback_keeps_the_first_model_when_it_answers(openai_server_factory) -> None:
    first, second = openai_server_factory(), openai_server_factory()
    first.reply("first is fine")
    result = run_complete(
        CompletionRequest(model=["openai-compatible:a", "s2:b"], messages=HI), settings_for(first, second)
    )
    assert result["model"] == "openai-compatible:a"
    assert second.completions == []


def failure(srv: ScriptedOpenAIServer, **req) -> SpellError:
    req.setdefault("model", "openai-compatible:m")
    req.setdefault("messages", HI)
    with pytest.raises(SpellError) as err:
        run_complete(CompletionRequest(**req), settings_for(srv))
    assert "Traceback" not in err.value.message and "\n" not in err.value.message
    return err.value


def test_429_is_rate_limited_with_the_providers_message(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.fail(429, "Rate limit reached for requests")
    err = failure(openai_server)
    assert err.kind == "rate_limited"
    assert err.message == "openai-compatible:m: Rate limit reached for requests"


def test_401_and_500_are_provider_errors_with_the_providers_message(
    openai_server: ScriptedOpenAIServer,
) -> None:
    openai_server.fail(401, "Incorrect API key provided")
    err = failure(openai_server)
    assert (
        err.kind == "provider_error" and "Incorrect API key provided" in err.message and "401" in err.message
    )
    openai_server.fail(500, "The server had an error")
    err = failure(openai_server)
    assert err.kind == "provider_error"
    assert err.message == "openai-compatible:m: HTTP 500: The server had an error"


def test_slow_server_is_a_timeout(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.reply("too late", delay=5)
    err = failure(openai_server, timeout=0.3)
    assert err.kind == "timeout"
    assert openai_server.base_url in err.message


def test_unreachable_server_says_how_to_fix_it() -> None:
    # A bound socket that never listens: connections to it are refused, and no one else can take the port.
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        s = Settings(
            providers={"openai-compatible": ProviderSettings("openai-compatible", base_url=url)},
            env={},
            max_retries=0,
        )
        with pytest.raises(SpellError) as err:
            run_complete(CompletionRequest(model="openai-compatible:m", messages=HI), s)
    assert err.value.kind == "provider_error"
    assert err.value.message == (
        f"openai-compatible:m: cannot reach {url}: is the server running? set base_url / OPENAI_BASE_URL"
    )


def test_every_model_failing_reports_each(openai_server_factory) -> None:
    first, second = openai_server_factory(), openai_server_factory()
    first.fail(429, "slow down")
    second.fail(429, "also slow down")
    with pytest.raises(SpellError) as err:
        run_complete(
            CompletionRequest(model=["openai-compatible:a", "s2:b"], messages=HI), settings_for(first, second)
        )
    assert err.value.kind == "rate_limited"
    assert (
        "openai-compatible:a: slow down" in err.value.message and "s2:b: also slow down" in err.value.message
    )


def test_test_model_needs_no_server() -> None:
    result = run_complete(CompletionRequest(model="test", messages=HI), Settings(env={}))
    assert result["model"] == "test" and isinstance(result["content"], str) and result["content"]
    assert (
        result["usage"]["total_tokens"] == result["usage"]["input_tokens"] + result["usage"]["output_tokens"]
    )


@pytest.mark.parametrize(
    ("messages", "fragment"),
    [
        ([], 'role "user"'),
        ([{"role": "robot", "content": "x"}, {"role": "user", "content": "y"}], "messages[1].role"),
        ([{"role": "user", "content": 5}], "messages[1].content must be a string"),
        ([{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "last message"),
    ],
)
def test_bad_messages_are_invalid_arguments(messages: list, fragment: str) -> None:
    with pytest.raises(SpellError) as err:
        run_complete(CompletionRequest(model="test", messages=messages), Settings(env={}))
    assert err.value.kind == "invalid_argument" and fragment in err.value.message


def test_list_models_has_local_test_priced_and_alias_entries() -> None:
    s = Settings(env={}, aliases={"fast": "local:smollm2"})
    rows = list_models(s)
    by_id = {r["id"]: r for r in rows}
    assert by_id["local:smollm2"]["context_window"] == 2048
    assert by_id["fast"]["provider"] == "alias" and by_id["fast"]["target"] == "local:smollm2"
    gpt = by_id["openai:gpt-4o"]
    assert gpt["input_price"] > 0 and gpt["output_price"] > gpt["input_price"]
    assert all(set(r) >= {"id", "provider", "context_window", "input_price", "output_price"} for r in rows)
    only_openai = list_models(s, "openai")
    assert only_openai and {r["provider"] for r in only_openai} == {"openai"}
    with pytest.raises(SpellError) as err:
        list_models(s, "acme")
    assert err.value.kind == "not_found"


def test_list_providers_says_what_is_usable_and_why() -> None:
    s = Settings(
        env={"OPENAI_API_KEY": "sk"},
        providers={
            "vllm": ProviderSettings("vllm", base_url="http://h:8000/v1", type="openai-compatible"),
        },
    )
    rows = {r["name"]: r for r in list_providers(s)}
    assert rows["openai"] == {"name": "openai", "configured": True, "reason": "OPENAI_API_KEY is set"}
    assert (
        rows["openai-compatible"]["configured"] is False and "base_url" in rows["openai-compatible"]["reason"]
    )
    assert rows["vllm"]["configured"] is True
    assert rows["test"]["configured"] is True
    bare = {r["name"]: r for r in list_providers(Settings(env={}))}
    assert bare["openai"]["configured"] is False and "OPENAI_API_KEY" in bare["openai"]["reason"]


def test_parallel_calls_overlap(openai_server: ScriptedOpenAIServer) -> None:
    # Each answer is held until all ten requests have arrived: serialized calls would never get there.
    openai_server.always("together", gather=10)
    s = settings_for(openai_server)

    async def ten() -> list[dict]:
        req = CompletionRequest(model="openai-compatible:m", messages=HI)
        return await asyncio.gather(*(complete(req, s) for _ in range(10)))

    results = asyncio.run(ten())
    assert [r["content"] for r in results] == ["together"] * 10
    assert openai_server.max_in_flight == 10


def test_key_refused_names_the_variable_to_check(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.fail(401, "Incorrect API key provided")
    s = Settings(env={"OPENAI_BASE_URL": openai_server.base_url, "OPENAI_API_KEY": "sk-bad"}, max_retries=0)
    with pytest.raises(SpellError) as err:
        run_complete(CompletionRequest(model="openai:gpt-4o", messages=HI), s)
    assert err.value.message.endswith("Incorrect API key provided; check OPENAI_API_KEY")
    assert openai_server.completions[0].headers.get("authorization") == "Bearer sk-bad"


def test_stream_errors_are_mapped_too(openai_server: ScriptedOpenAIServer) -> None:
    openai_server.fail(429, "too many streams")
    deltas: list[str] = []

    async def on_delta(text: str) -> None:
        deltas.append(text)

    req = CompletionRequest(model="openai-compatible:m", messages=HI)
    with pytest.raises(SpellError) as err:
        asyncio.run(stream(req, settings_for(openai_server), on_delta))
    assert (err.value.kind, err.value.message) == ("rate_limited", "openai-compatible:m: too many streams")
    assert deltas == []


def test_scripted_server_lists_its_models(openai_server: ScriptedOpenAIServer) -> None:
    import httpx

    listing = httpx.get(openai_server.base_url + "/models").json()
    assert [m["id"] for m in listing["data"]] == ["scripted-model"]
