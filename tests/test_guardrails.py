"""``guardrails`` in Lua, JavaScript and Tengo through Runtime: an input check blocks a prompt before
it reaches the provider and an output check blocks an answer (of llm.complete, and of llm.stream before
any chunk reaches the spell) with a ``validation_error`` carrying the reason; Lua's two results, a
boolean and ``{ok, reason}``; checks that fail or answer garbage block the call (fail closed); the
tokens of a blocked answer still count."""

from __future__ import annotations

import pytest

from llmspell import SpellError
from llmspell.sandbox import Policy

SCRIPTED = "openai-compatible:scripted-model"
LANGS = {"lua": "lua", "js": "javascript", "tengo": "tengo"}


def run(isolated, lang, src, params=None, **kwargs):
    rt, out = isolated.runtime(**kwargs)
    result = rt.run(source=src, language=LANGS[lang], params=params, filename=f"spell.{lang}")
    return result, "".join(out)


BLOCKS = {
    "lua": """
guardrails.add({name = "no_secrets", on = "input", check = function(text)
  if text:find("password") then return false, "the prompt holds a password" end
  return true
end})
guardrails.add({name = "no_shouting", on = "output", reason = "the answer shouts",
                check = function(text) return text ~= string.upper(text) end})
local ok1, e1 = pcall(llm.complete, {model = params.m, prompt = "my password is hunter2"})
local fine = llm.complete({model = params.m, prompt = "hello"})
local ok2, e2 = pcall(llm.complete, {model = params.m, prompt = "shout please"})
return {input = {e1.kind, e1.message}, fine = fine.content, output = {e2.kind, e2.message}}
""",
    "js": """
await guardrails.add({name: "no_secrets", on: "input",
  check: (text) => text.includes("password") ? {ok: false, reason: "the prompt holds a password"} : true});
await guardrails.add({name: "no_shouting", on: "output", reason: "the answer shouts",
  check: (text) => text !== text.toUpperCase()});
const out = {};
try { await llm.complete({model: params.m, prompt: "my password is hunter2"}) }
catch (e) { out.input = [e.kind, e.message] }
out.fine = (await llm.complete({model: params.m, prompt: "hello"})).content;
try { await llm.complete({model: params.m, prompt: "shout please"}) } catch (e) { out.output = [e.kind, e.message] }
return out;
""",
    "tengo": """
text := import("text")
guardrails.add({name: "no_secrets", on: "input", check: func(t) {
  if text.contains(t, "password") { return {ok: false, reason: "the prompt holds a password"} }
  return true
}})
guardrails.add({name: "no_shouting", on: "output", reason: "the answer shouts",
                check: func(t) { return t != text.to_upper(t) }})
e1 := llm.complete({model: params.m, prompt: "my password is hunter2"})
fine := llm.complete({model: params.m, prompt: "hello"})
e2 := llm.complete({model: params.m, prompt: "shout please"})
export {input: [e1.value.kind, e1.value.message], fine: fine.content, output: [e2.value.kind, e2.value.message]}
""",
}


@pytest.mark.parametrize("lang", LANGS)
def test_guardrails_block_a_prompt_before_the_provider_and_an_answer_after(isolated, openai_server, lang):
    openai_server.reply("hello to you")
    openai_server.reply("I AM SHOUTING")
    isolated.server_config(openai_server)
    r, _ = run(isolated, lang, BLOCKS[lang], params={"m": SCRIPTED})
    assert r["input"] == ["validation_error",
                          "guardrail 'no_secrets' blocked the prompt: the prompt holds a password"]
    assert r["fine"] == "hello to you"
    assert r["output"] == ["validation_error", "guardrail 'no_shouting' blocked the answer: the answer shouts"]
    sent = [m["content"] for req in openai_server.completions for m in req.body["messages"]]
    assert sent == ["hello", "shout please"]  # the blocked prompt never left


STREAM = {
    "lua": """
guardrails.add({name = "no_leak", on = "output", check = function(t) return not t:find("SECRET"), "it leaks" end})
local chunks = {}
local ok, e = pcall(llm.stream, {model = params.m, prompt = "go"}, function(c) chunks[#chunks + 1] = c end)
local r = llm.stream({model = params.m, prompt = "again"}, function(c) chunks[#chunks + 1] = c end)
return {chunks = chunks, kind = e.kind, message = e.message, content = r.content}
""",
    "js": """
await guardrails.add({name: "no_leak", on: "output", check: (t) => ({ok: !t.includes("SECRET"), reason: "it leaks"})});
const chunks = [];
let kind, message;
try { await llm.stream({model: params.m, prompt: "go"}, (c) => { chunks.push(c); }) }
catch (e) { kind = e.kind; message = e.message; }
const r = await llm.stream({model: params.m, prompt: "again"}, (c) => { chunks.push(c); });
return {chunks, kind, message, content: r.content};
""",
    "tengo": """
text := import("text")
guardrails.add({name: "no_leak", on: "output",
                check: func(t) { return {ok: !text.contains(t, "SECRET"), reason: "it leaks"} }})
chunks := []
e := llm.stream({model: params.m, prompt: "go"}, func(c) { chunks = append(chunks, c) })
r := llm.stream({model: params.m, prompt: "again"}, func(c) { chunks = append(chunks, c) })
export {chunks: chunks, kind: e.value.kind, message: e.value.message, content: r.content}
""",
}


@pytest.mark.parametrize("lang", LANGS)
def test_a_blocked_stream_delivers_no_chunk_and_a_passing_one_all_of_them(isolated, openai_server, lang):
    openai_server.reply("the SECRET is out", chunks=["the ", "SECRET ", "is out"])
    openai_server.reply("all good here", chunks=["all ", "good ", "here"])
    isolated.server_config(openai_server)
    r, _ = run(isolated, lang, STREAM[lang], params={"m": SCRIPTED})
    assert r == {"chunks": ["all ", "good ", "here"], "kind": "validation_error",
                 "message": "guardrail 'no_leak' blocked the answer: it leaks", "content": "all good here"}


@pytest.mark.parametrize("lang,check,message", [
    ("lua", "function(t) return false end", "guardrail 'g' blocked the prompt: the default reason"),
    ("lua", "function(t) return false, 'own reason' end", "guardrail 'g' blocked the prompt: own reason"),
    ("lua", "function(t) return nil end", "guardrail 'g': check must answer true or false, or {ok, reason}: "
     "it answered nothing"),
    ("lua", "function(t) return 'yes' end", "guardrail 'g': check must answer true or false, or {ok, reason}: "
     "ok must be a boolean, not a string"),
    ("lua", "function(t) return true, 5 end", "guardrail 'g': check must answer true or false, or {ok, reason}: "
     "reason must be a string, not an integer"),
    ("lua", "function(t) error('the check broke') end", "guardrail 'g': "),
    ("js", "(t) => undefined", "guardrail 'g': check must answer true or false, or {ok, reason}: "
     "it answered nothing"),
    ("js", "(t) => 1", "guardrail 'g': check must answer true or false, or {ok, reason}: got an integer"),
    ("js", "(t) => ({ok: 'no'})", "guardrail 'g': check must answer true or false, or {ok, reason}: "
     "ok must be a boolean, not a string"),
    ("js", "async (t) => false", "guardrail 'g' blocked the prompt: the default reason"),
    ("tengo", "func(t) { return [false] }", "guardrail 'g': check must answer true or false, or {ok, reason}: "
     "got a list"),
    ("tengo", "func(t) { }", "guardrail 'g': check must answer true or false, or {ok, reason}: "
     "it answered nothing"),
])
def test_checks_that_fail_or_answer_garbage_block_the_call(isolated, lang, check, message):
    add = {"lua": "guardrails.add({name = 'g', on = 'input', reason = 'the default reason', check = %s})",
           "js": "await guardrails.add({name: 'g', on: 'input', reason: 'the default reason', check: %s});",
           "tengo": 'guardrails.add({name: "g", on: "input", reason: "the default reason", check: %s})'}[lang]
    call = {"lua": "local ok, e = pcall(llm.complete, {model = 'test', prompt = 'x'})\nreturn {e.kind, e.message}",
            "js": "try { await llm.complete({model: 'test', prompt: 'x'}) } catch (e) { return [e.kind, e.message] }",
            "tengo": 'e := llm.complete({model: "test", prompt: "x"})\nexport [e.value.kind, e.value.message]'}[lang]
    r, _ = run(isolated, lang, add % check + "\n" + call)
    assert r[1].startswith(message), r
    if "blocked" in message:
        assert r[0] == "validation_error"
    elif "check broke" in check:
        assert r[0] == "runtime_error" and "the check broke" in r[1]
    else:
        assert r[0] == "invalid_argument"


@pytest.mark.parametrize("src,message", [
    ("guardrails.add({name = 'g', on = 'sideways', check = function() return true end})",
     "guardrails.add: on must be one of input, output"),
    ("guardrails.add({name = 'g', on = 'input'})", "guardrails.add: check is required"),
    ("guardrails.add({name = 'g', on = 'input', check = 'yes'})",
     "guardrails.add: check must be a function, not a string"),
    ("guardrails.add({name = '', on = 'input', check = function() return true end})",
     "guardrails.add: name must not be empty"),
    ("guardrails.add({name = 'g', on = 'input', check = function() return true end})\n"
     "guardrails.add({name = 'g', on = 'output', check = function() return true end})",
     "guardrails.add: there is already a guardrail named 'g'"),
    ("guardrails:add({name = 'g', on = 'input', check = function() return true end, resaon = 'x'})",
     "guardrails.add: resaon is not a known option"),
])
def test_a_bad_guardrail_is_refused_when_added(isolated, src, message):
    with pytest.raises(SpellError) as info:
        run(isolated, "lua", src)
    assert info.value.kind == "invalid_argument" and info.value.message.startswith(message), info.value


def test_lua_colon_call_and_the_spells_table_left_unchanged(isolated):
    src = """
local spec = {name = "g", on = "input", check = function(t) return #t < 5, "too long" end}
guardrails:add(spec)
local ok, e = pcall(llm.complete, {model = "test", prompt = "far too long"})
return {same = spec.check(""), kind = e.kind, message = e.message}
"""
    r, _ = run(isolated, "lua", src)
    assert r == {"same": True, "kind": "validation_error", "message": "guardrail 'g' blocked the prompt: too long"}


def test_the_tokens_of_a_blocked_answer_count_against_max_tokens(isolated, openai_server):
    openai_server.always("nope", usage=(30, 30))
    isolated.server_config(openai_server)
    src = """
guardrails.add({name = "never", on = "output", check = function() return false, "never" end})
local kinds = {}
for i = 1, 5 do
  local ok, e = pcall(llm.complete, {model = params.m, prompt = "x"})
  kinds[#kinds + 1] = e.kind
end
return kinds
"""
    for isolation in ("inline", "process"):
        with pytest.raises(SpellError) as info:
            run(isolated, "lua", src, params={"m": SCRIPTED}, isolation=isolation,
                policy=Policy(max_tokens=100))
        assert info.value.kind == "limit_exceeded" and "100 tokens" in info.value.message


def test_a_large_prompt_and_answer_are_checked_whole(isolated, openai_server):
    answer = "word " * 50_000
    openai_server.reply(answer.strip())
    isolated.server_config(openai_server)
    src = """
local sizes = {}
guardrails.add({name = "in", on = "input", check = function(t) sizes[#sizes + 1] = #t; return true end})
guardrails.add({name = "out", on = "output", check = function(t) sizes[#sizes + 1] = #t; return true end})
llm.complete({model = params.m, prompt = string.rep("q", 300000)})
return sizes
"""
    r, _ = run(isolated, "lua", src, params={"m": SCRIPTED})
    assert r == [300_000, len(answer.strip())]


def test_an_input_guardrail_checks_what_the_hooks_made_of_the_prompt(isolated, openai_server):
    openai_server.always("ok")
    isolated.server_config(openai_server)
    src = """
hooks.register({beforeGenerate = function(ctx, req)
  req.messages[#req.messages].content = req.messages[#req.messages].content:gsub("%d", "#")
  return req
end})
guardrails.add({name = "no_digits", on = "input", check = function(t) return not t:find("%d"), "digits" end})
return llm.complete({model = params.m, prompt = "card 4111 1111"}).content
"""
    r, _ = run(isolated, "lua", src, params={"m": SCRIPTED})
    assert r == "ok"
    assert openai_server.completions[0].body["messages"][-1]["content"] == "card #### ####"
