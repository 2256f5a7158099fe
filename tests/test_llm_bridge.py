"""The ``llm`` global in Lua, JavaScript and Tengo, through Runtime, against the ``test``
model and the scripted OpenAI-compatible server (the real HTTP provider path)."""

from __future__ import annotations

import time

import pytest

from llmspell import SpellError
from llmspell.sandbox import Policy

SCRIPTED = "openai-compatible:scripted-model"


def run(isolated, lang, src, params=None, **kwargs):
    rt, out = isolated.runtime(**kwargs)
    language = {"lua": "lua", "js": "javascript", "tengo": "tengo"}[lang]
    result = rt.run(source=src, language=language, params=params, filename=f"spell.{lang}")
    return result, "".join(out)


def reach(server) -> Policy:
    """A policy under which the spell could ask ``server`` itself, so it may read what the server answers."""
    return Policy(allow_net=(f"127.0.0.1:{server.port}",))


def fails(isolated, lang, src, **kwargs) -> SpellError:
    with pytest.raises(SpellError) as info:
        run(isolated, lang, src, **kwargs)
    return info.value


# -- llm.complete ------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang,src", [
    ("lua", "return llm.complete({model = 'test', prompt = 'hi'})"),
    ("js", "return await llm.complete({model: 'test', prompt: 'hi'})"),
    ("tengo", 'export llm.complete({model: "test", prompt: "hi"})'),
])
def test_complete_with_test_model_has_the_documented_shape(isolated, lang, src):
    r, _ = run(isolated, lang, src)
    assert set(r) == {"content", "model", "finish_reason", "usage"}
    assert r["model"] == "test"
    assert isinstance(r["content"], str) and r["content"]
    u = r["usage"]
    assert all(isinstance(u[k], int) for k in ("input_tokens", "output_tokens", "total_tokens"))
    assert u["total_tokens"] == u["input_tokens"] + u["output_tokens"]


@pytest.mark.parametrize("lang,src", [
    ("lua", """
local r = llm.complete({model = params.m, system = 'be brief', temperature = 0.5, max_tokens = 20,
  stop = {'END'}, messages = {{role = 'user', content = 'one'}, {role = 'assistant', content = 'two'}},
  prompt = 'three'})
return r
"""),
    ("js", """
return await llm.complete({model: params.m, system: 'be brief', temperature: 0.5, max_tokens: 20,
  stop: ['END'], messages: [{role: 'user', content: 'one'}, {role: 'assistant', content: 'two'}],
  prompt: 'three'});
"""),
    ("tengo", """
export llm.complete({model: params.m, system: "be brief", temperature: 0.5, max_tokens: 20,
  stop: ["END"], messages: [{role: "user", content: "one"}, {role: "assistant", content: "two"}],
  prompt: "three"})
"""),
])
def test_complete_sends_the_request_to_the_http_provider(isolated, openai_server, lang, src):
    openai_server.reply("the answer", usage=(7, 2))
    isolated.server_config(openai_server)
    r, _ = run(isolated, lang, src, params={"m": SCRIPTED})
    assert r["content"] == "the answer"
    assert r["finish_reason"] == "stop"
    assert r["usage"] == {"input_tokens": 7, "output_tokens": 2, "total_tokens": 9}
    assert "scripted-model" in r["model"]
    body = openai_server.completions[0].body
    assert body["model"] == "scripted-model"
    assert body["temperature"] == 0.5
    assert body.get("max_tokens", body.get("max_completion_tokens")) == 20
    assert body["stop"] == ["END"]
    msgs = [(m["role"], m["content"]) for m in body["messages"]]
    assert msgs == [("system", "be brief"), ("user", "one"), ("assistant", "two"), ("user", "three")]


def test_runtime_model_is_the_default_and_spell_model_wins(isolated, openai_server):
    openai_server.always("from server")
    isolated.server_config(openai_server)
    src = "return {llm.complete({prompt = 'a'}).model, llm.complete({model = 'test', prompt = 'b'}).model}"
    r, _ = run(isolated, "lua", src, model=SCRIPTED)
    assert "scripted-model" in r[0] and r[1] == "test"


def test_config_default_model_is_used(isolated, openai_server):
    openai_server.always("from default")
    isolated.config(f'[llm]\ndefault_model = "{SCRIPTED}"\n'
                    f'[providers.openai-compatible]\nbase_url = "{openai_server.base_url}"\n')
    r, _ = run(isolated, "js", "return (await llm.complete({prompt: 'x'})).content")
    assert r == "from default"


# -- llm.stream ----------------------------------------------------------------------------------------

STREAM = {
    "lua": """
local seen = {}
local r = llm.stream({model = params.m, prompt = 'go'}, function(piece)
  seen[#seen + 1] = piece
  print('chunk ' .. piece)
end)
print('done')
return {seen = seen, content = r.content, finish = r.finish_reason}
""",
    "js": """
const seen = [];
const r = await llm.stream({model: params.m, prompt: 'go'}, (piece) => {
  seen.push(piece);
  console.log('chunk ' + piece);
});
console.log('done');
return {seen, content: r.content, finish: r.finish_reason};
""",
    "tengo": """
seen := []
r := llm.stream({model: params.m, prompt: "go"}, func(piece) {
  seen = append(seen, piece)
  fmt.println("chunk " + piece)
})
fmt.println("done")
export {seen: seen, content: r.content, finish: r.finish_reason}
""",
}


@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
def test_stream_calls_on_chunk_for_each_piece_in_order(isolated, openai_server, lang):
    openai_server.reply("abc", chunks=["a", "b", "c"], chunk_delay=0.02)
    isolated.server_config(openai_server)
    r, out = run(isolated, lang, STREAM[lang], params={"m": SCRIPTED})
    assert r == {"seen": ["a", "b", "c"], "content": "abc", "finish": "stop"}
    assert out == "chunk a\nchunk b\nchunk c\ndone\n"
    assert openai_server.completions[0].body["stream"] is True


@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
def test_stream_with_test_model(isolated, lang):
    r, out = run(isolated, lang, STREAM[lang], params={"m": "test"})
    assert "".join(r["seen"]) == r["content"]
    assert len(r["seen"]) > 1
    assert out.endswith("done\n")


def test_js_stream_without_callback_is_an_async_iterator(isolated, openai_server):
    openai_server.reply("one two three", chunk_delay=0.01)
    isolated.server_config(openai_server)
    src = """
const pieces = [];
for await (const piece of llm.stream({model: params.m, prompt: 'go'})) pieces.push(piece);
return pieces;
"""
    r, _ = run(isolated, "js", src, params={"m": SCRIPTED})
    assert r == ["one ", "two ", "three"]


def test_js_stream_iterator_is_also_awaitable_for_the_whole_response(isolated):
    r, _ = run(isolated, "js", "const r = await llm.stream({model: 'test', prompt: 'x'}); return r.content")
    assert isinstance(r, str) and r


@pytest.mark.parametrize("lang,src", [
    ("lua", """
local ok, e = pcall(llm.stream, {model = 'test', prompt = 'x'}, function(p) error('stop here') end)
return {ok = ok, msg = tostring(e)}
"""),
    ("js", """
try {
  await llm.stream({model: 'test', prompt: 'x'}, (p) => { throw new Error('stop here'); });
  return {ok: true};
} catch (e) { return {ok: false, msg: String(e.message)}; }
"""),
    ("tengo", """
r := llm.stream({model: "test", prompt: "x"}, func(p) { return error("stop here") })
export {ok: !is_error(r), msg: is_error(r) ? r.value.message : ""}
"""),
])
def test_an_error_in_on_chunk_fails_the_stream_call(isolated, lang, src):
    r, _ = run(isolated, lang, src)
    assert r["ok"] is False
    assert "stop here" in r["msg"]


def test_js_stream_iterator_reports_provider_failure(isolated, openai_server):
    openai_server.fail(500, "exploded mid-way")
    isolated.server_config(openai_server)
    src = """
try { for await (const p of llm.stream({model: params.m, prompt: 'x'})) {} return 'no error'; }
catch (e) { return e.kind + ': ' + e.message; }
"""
    r, _ = run(isolated, "js", src, params={"m": SCRIPTED}, policy=reach(openai_server))
    assert r.startswith("provider_error: ") and "exploded mid-way" in r


@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
def test_a_provider_answer_is_hidden_from_a_spell_that_may_not_reach_it(isolated, openai_server, lang):
    """The provider is the operator's; what its endpoint answers is not the spell's to read
    unless the spell could have asked it itself."""
    openai_server.fail(500, "internal detail of the server at this address")
    isolated.server_config(openai_server)
    r, _ = run(isolated, lang, CATCH[lang], params={"m": SCRIPTED})
    assert r["kind"] == "provider_error" and "HTTP 500" in r["message"]
    assert "internal detail" not in r["message"] and str(openai_server.port) not in r["message"]
    assert "not shown" in r["message"]


# -- models and providers ------------------------------------------------------------------------------

@pytest.mark.parametrize("lang,src", [
    ("lua", "return {all = llm.models(), test = llm.models('test'), providers = llm.providers()}"),
    ("js", "return {all: await llm.models(), test: await llm.models('test'),\n"
           "        providers: await llm.providers()}"),
    ("tengo", 'export {all: llm.models(), test: llm.models("test"), providers: llm.providers()}'),
])
def test_models_and_providers(isolated, lang, src):
    r, _ = run(isolated, lang, src)
    assert r["test"] and all(m["provider"] == "test" for m in r["test"])
    assert {m["provider"] for m in r["all"]} >= {"test", "local"}
    for m in r["all"]:
        assert isinstance(m["id"], str)
    providers = {p["name"]: p for p in r["providers"]}
    assert providers["test"]["configured"] is True
    assert "openai" not in providers  # not enabled: a spell sees only what it may use
    assert not any(m["provider"] == "openai" for m in r["all"])


def test_providers_sees_a_configured_server(isolated, openai_server):
    isolated.server_config(openai_server)
    r, _ = run(isolated, "lua", "for _, p in ipairs(llm.providers()) do if p.name == 'openai-compatible' "
                                "then return p.configured end end")
    assert r is True


# -- fallback and aliases ------------------------------------------------------------------------------

@pytest.mark.parametrize("lang,src", [
    ("lua", "return llm.complete({model = {params.a, params.b}, prompt = 'x'})"),
    ("js", "return await llm.complete({model: [params.a, params.b], prompt: 'x'})"),
    ("tengo", "export llm.complete({model: [params.a, params.b], prompt: \"x\"})"),
])
def test_fallback_list_moves_on_when_a_provider_fails(isolated, openai_server_factory, lang, src):
    first, second = openai_server_factory(("m1",)), openai_server_factory(("m2",))
    first.fail(500, "first is down")
    second.reply("second answered")
    isolated.config(
        "[llm]\nmax_retries = 0\n"
        f'[providers.one]\ntype = "openai-compatible"\nbase_url = "{first.base_url}"\n'
        f'[providers.two]\ntype = "openai-compatible"\nbase_url = "{second.base_url}"\n'
    )
    r, _ = run(isolated, lang, src, params={"a": "one:m1", "b": "two:m2"})
    assert r["content"] == "second answered"
    assert len(first.completions) == 1 and len(second.completions) == 1


def test_fallback_list_all_failing_names_every_failure(isolated, openai_server):
    openai_server.fail(500, "down one").fail(503, "down two")
    isolated.server_config(openai_server)
    e = fails(isolated, "lua", f"llm.complete({{model = {{'{SCRIPTED}', '{SCRIPTED}'}}, prompt = 'x'}})",
              policy=reach(openai_server))
    assert e.kind == "provider_error"
    assert "down one" in e.message and "down two" in e.message


def test_alias_to_a_fallback_list(isolated, openai_server):
    openai_server.fail(500, "nope")
    isolated.server_config(openai_server, extra=f'[llm.aliases]\n"smart" = ["{SCRIPTED}", "test"]\n')
    r, _ = run(isolated, "js", "return (await llm.complete({model: 'smart', prompt: 'x'})).model")
    assert r == "test"


def test_runtime_model_option_accepts_an_alias(isolated, openai_server):
    openai_server.always("via alias")
    isolated.server_config(openai_server, extra=f'[llm.aliases]\n"gpt-4" = "{SCRIPTED}"\n')
    r, _ = run(isolated, "lua", "return llm.complete({prompt = 'x'}).content", model="gpt-4")
    assert r == "via alias"


# -- provider failures ------------------------------------------------------------------------------------

CATCH = {
    "lua": """
local ok, e = pcall(llm.complete, {model = params.m, prompt = 'x'})
return {ok = ok, kind = e.kind, message = e.message, text = tostring(e)}
""",
    "js": """
try { await llm.complete({model: params.m, prompt: 'x'}); return {ok: true}; }
catch (e) {
  return {ok: false, kind: e.kind, message: e.message, text: String(e), isError: e instanceof Error};
}
""",
    "tengo": """
r := llm.complete({model: params.m, prompt: "x"})
export is_error(r) ? {ok: false, kind: r.value.kind, message: r.value.message,
                      text: r.value.kind + ": " + r.value.message} : {ok: true}
""",
}


@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
@pytest.mark.parametrize("status,kind", [
    (500, "provider_error"), (400, "provider_error"), (429, "rate_limited"), (401, "provider_error"),
])
def test_http_errors_map_to_kinds_with_the_providers_message(isolated, openai_server, lang, status, kind):
    openai_server.fail(status, f"scripted failure {status}")
    isolated.server_config(openai_server)
    r, _ = run(isolated, lang, CATCH[lang], params={"m": SCRIPTED}, policy=reach(openai_server))
    assert r["ok"] is False
    assert r["kind"] == kind
    assert f"scripted failure {status}" in r["message"]
    assert r["text"] == f"{kind}: {r['message']}"
    if lang == "js":
        assert r["isError"] is True


@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
def test_slow_provider_is_a_timeout(isolated, openai_server, lang):
    openai_server.reply("too late", delay=3)
    isolated.server_config(openai_server, timeout=0.3)
    start = time.monotonic()
    r, _ = run(isolated, lang, CATCH[lang], params={"m": SCRIPTED})
    assert time.monotonic() - start < 2.5
    assert r["kind"] == "timeout"


@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
def test_unreachable_server(isolated, lang):
    isolated.config('[llm]\nmax_retries = 0\n[providers.openai-compatible]\nbase_url = "http://127.0.0.1:9/v1"\n')
    r, _ = run(isolated, lang, CATCH[lang], params={"m": "openai-compatible:x"},
               policy=Policy(allow_net=("127.0.0.1:9",)))
    assert r["kind"] == "provider_error"
    assert "cannot reach http://127.0.0.1:9/v1" in r["message"]
    r, _ = run(isolated, lang, CATCH[lang], params={"m": "openai-compatible:x"})  # the spell may not go there
    assert r["kind"] == "provider_error"
    assert "cannot reach the provider's endpoint" in r["message"] and "127.0.0.1" not in r["message"]


@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
def test_missing_api_key(isolated, lang):
    r, _ = run(isolated, lang, CATCH[lang], params={"m": "openai:gpt-4o"})  # no key: not enabled at all
    assert r["kind"] == "permission_denied"
    assert "not enabled" in r["message"] and "OPENAI_API_KEY" in r["message"]
    isolated.config('[providers.openai]\n')  # enabled by the operator, but the key is missing
    r, _ = run(isolated, lang, CATCH[lang], params={"m": "openai:gpt-4o"})
    assert r["kind"] == "provider_error"
    assert "set OPENAI_API_KEY" in r["message"]


@pytest.mark.parametrize("lang", ["lua", "js", "tengo"])
def test_unknown_model(isolated, lang):
    r, _ = run(isolated, lang, CATCH[lang], params={"m": "nonesuch"})
    assert r["kind"] == "not_found"
    assert "unknown model 'nonesuch'" in r["message"]


def test_uncaught_provider_error_fails_the_run_at_the_spells_line(isolated, openai_server):
    openai_server.fail(500, "server is sad")
    isolated.server_config(openai_server)
    src = f"local x = 1\nlocal r = llm.complete({{model = '{SCRIPTED}', prompt = 'x'}})\n"
    e = fails(isolated, "lua", src, policy=reach(openai_server))
    assert e.kind == "provider_error"
    assert "server is sad" in e.message
    assert (e.file, e.line) == ("spell.lua", 2)


# -- bridge misuse: method and argument named -------------------------------------------------------------

MISUSE = [
    ("{model = 'test', messages = {{role = 'user', content = 'a'}, {role = 'robot', content = 'b'}}}",
     "{model: 'test', messages: [{role: 'user', content: 'a'}, {role: 'robot', content: 'b'}]}",
     "llm.complete: messages[{i}].role must be one of system, user, assistant"),
    ("{model = 'test'}", "{model: 'test'}", "llm.complete: give prompt (a string) or messages (a list)"),
    ("{model = 'test', prompt = 'x', temperature = 5}", "{model: 'test', prompt: 'x', temperature: 5}",
     "llm.complete: temperature"),
    ("{model = 'test', prompt = 42}", "{model: 'test', prompt: 42}", "llm.complete: prompt"),
    ("{model = 'test', prompt = 'x', colour = 'red'}", "{model: 'test', prompt: 'x', colour: 'red'}",
     "llm.complete: colour"),
    ("'just a string'", "'just a string'", "llm.complete: opts"),
]


@pytest.mark.parametrize("lua_arg,js_arg,expected", MISUSE)
def test_bridge_misuse_names_method_and_argument_lua(isolated, lua_arg, js_arg, expected):
    src = f"local ok, e = pcall(llm.complete, {lua_arg})\n" \
          "return {ok = ok, kind = e.kind, message = e.message}"
    r, _ = run(isolated, "lua", src)
    assert r["ok"] is False and r["kind"] == "invalid_argument"
    assert r["message"].startswith(expected.format(i=2)), r["message"]


@pytest.mark.parametrize("lua_arg,js_arg,expected", MISUSE)
def test_bridge_misuse_names_method_and_argument_js(isolated, lua_arg, js_arg, expected):
    src = f"try {{ await llm.complete({js_arg}); }}\n" \
          "catch (e) { return {kind: e.kind, message: e.message}; }"
    r, _ = run(isolated, "js", src)
    assert r["kind"] == "invalid_argument"
    assert r["message"].startswith(expected.format(i=1)), r["message"]


@pytest.mark.parametrize("lua_arg,js_arg,expected", MISUSE)
def test_bridge_misuse_names_method_and_argument_tengo(isolated, lua_arg, js_arg, expected):
    """Tengo counts from 0 as JavaScript does; its strings are double-quoted."""
    src = f"r := llm.complete({js_arg.replace(chr(39), chr(34))})\n" \
          "export {ok: !is_error(r), kind: r.value.kind, message: r.value.message}"
    r, _ = run(isolated, "tengo", src)
    assert r["ok"] is False and r["kind"] == "invalid_argument"
    assert r["message"].startswith(expected.format(i=1)), r["message"]


def test_the_issue_example_message_exactly(isolated):
    e = fails(isolated, "lua", "llm.complete({messages = {{role = 'user', content = 'a'}, "
                               "{role = 'user', content = 'b'}, {role = 'x', content = 'c'}}})")
    assert str(e) == "invalid_argument: llm.complete: messages[3].role must be one of system, user, assistant"


@pytest.mark.parametrize("lang,src", [
    ("lua", "llm.stream({model = 'test', prompt = 'x'}, 'not a function')"),
    ("js", "await llm.stream({model: 'test', prompt: 'x'}, 42)"),
    ("tengo", 'export llm.stream({model: "test", prompt: "x"}, "not a function")'),
])
def test_stream_callback_must_be_a_function(isolated, lang, src):
    e = fails(isolated, lang, src)
    assert e.kind == "invalid_argument"
    assert e.message.startswith("llm.stream: on_chunk")


# -- concurrency -----------------------------------------------------------------------------------------

def test_js_promise_all_of_ten_slow_calls_overlaps(isolated, openai_server_factory, monkeypatch):
    from tests.support import openai_server as server_module

    # Ten connections at once: a listen backlog of 5 (the stdlib default) drops some SYNs (1 s retries).
    monkeypatch.setattr(server_module.ThreadingHTTPServer, "request_queue_size", 64)
    server = openai_server_factory()
    server.always("ok", delay=0.2)
    isolated.server_config(server)
    src = """
await llm.complete({model: params.m, prompt: 'warm up'});  // first call of a run loads the provider
const t0 = Date.now();
const calls = [];
for (let i = 0; i < 10; i++) calls.push(llm.complete({model: params.m, prompt: 'n' + i}));
const rs = await Promise.all(calls);
return {ms: Date.now() - t0, contents: rs.map((r) => r.content)};
"""
    r, _ = run(isolated, "js", src, params={"m": SCRIPTED})
    assert r["contents"] == ["ok"] * 10
    assert r["ms"] < 1000, f"ten 200 ms calls took {r['ms']} ms"
    assert server.max_in_flight == 10
    prompts = sorted(req.messages[-1]["content"] for req in server.completions[1:])
    assert prompts == sorted(f"n{i}" for i in range(10))


def test_on_chunk_runs_while_the_spell_waits(isolated, openai_server):
    """The callback runs in the spell's VM while llm.stream is still waiting on the server:
    it can see and change the spell's state before the call returns."""
    openai_server.reply("x y z", chunk_delay=0.02)
    isolated.server_config(openai_server)
    src = """
local count = 0
local during = {}
local r = llm.stream({model = params.m, prompt = 'go'}, function(piece)
  count = count + 1
  during[#during + 1] = count
end)
return {during = during, after = count}
"""
    r, _ = run(isolated, "lua", src, params={"m": SCRIPTED})
    assert r == {"during": [1, 2, 3], "after": 3}
