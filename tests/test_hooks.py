"""``hooks`` in Lua, JavaScript and Tengo through Runtime: what beforeGenerate returns is what the
provider receives (the scripted OpenAI server records it), afterGenerate sees usage and rewrites the
answer (of llm.complete and of llm.stream, whose chunks are then the rewritten text), tool hooks
rewrite a tool's input and output or refuse the call; and hooks that misbehave (garbage results,
errors, unregistering while they run) give clear errors and never a half-changed request."""

from __future__ import annotations

import pytest

from llmspell import SpellError

SCRIPTED = "openai-compatible:scripted-model"
LANGS = {"lua": "lua", "js": "javascript", "tengo": "tengo"}


def run(isolated, lang, src, params=None, **kwargs):
    rt, out = isolated.runtime(**kwargs)
    result = rt.run(source=src, language=LANGS[lang], params=params, filename=f"spell.{lang}")
    return result, "".join(out)


def fails(isolated, lang, src, params=None, **kwargs) -> SpellError:
    with pytest.raises(SpellError) as info:
        run(isolated, lang, src, params, **kwargs)
    return info.value


# -- beforeGenerate / afterGenerate on llm.complete, against real HTTP -------------------------------

GENERATE = {
    "lua": """
local seen = {}
hooks.register({
  beforeGenerate = function(ctx, req)
    seen.before = {hook = ctx.hook, caller = ctx.caller, model = req.model, temperature = req.temperature,
                   n = #req.messages}
    req.temperature = 0.25
    req.max_tokens = 77
    req.messages[#req.messages].content = "[redacted] " .. req.messages[#req.messages].content
    table.insert(req.messages, 1, {role = "system", content = "be terse"})
    return req
  end,
  afterGenerate = function(ctx, req, resp)
    seen.after = {usage = resp.usage, sent_temperature = req.temperature, content = resp.content}
    resp.content = string.upper(resp.content)
    return resp
  end,
})
local r = llm.complete({model = params.m, prompt = "tell me", temperature = 0.9})
return {seen = seen, content = r.content, usage = r.usage}
""",
    "js": """
const seen = {};
await hooks.register({
  beforeGenerate: (ctx, req) => {
    seen.before = {hook: ctx.hook, caller: ctx.caller, model: req.model, temperature: req.temperature,
                   n: req.messages.length};
    const last = req.messages[req.messages.length - 1];
    return {temperature: 0.25, max_tokens: 77,
            messages: [{role: "system", content: "be terse"}, ...req.messages.slice(0, -1),
                       {role: last.role, content: "[redacted] " + last.content}]};
  },
  afterGenerate: (ctx, req, resp) => {
    seen.after = {usage: resp.usage, sent_temperature: req.temperature, content: resp.content};
    return {...resp, content: resp.content.toUpperCase()};
  },
});
const r = await llm.complete({model: params.m, prompt: "tell me", temperature: 0.9});
return {seen, content: r.content, usage: r.usage};
""",
    "tengo": """
text := import("text")
seen := {}
hooks.register({
  beforeGenerate: func(ctx, req) {
    seen.before = {hook: ctx.hook, caller: ctx.caller, model: req.model, temperature: req.temperature,
                   n: len(req.messages)}
    msgs := [{role: "system", content: "be terse"}]
    for i, m in req.messages {
      if i == len(req.messages) - 1 {
        msgs = append(msgs, {role: m.role, content: "[redacted] " + m.content})
      } else {
        msgs = append(msgs, m)
      }
    }
    return {temperature: 0.25, max_tokens: 77, messages: msgs}
  },
  afterGenerate: func(ctx, req, resp) {
    seen.after = {usage: resp.usage, sent_temperature: req.temperature, content: resp.content}
    return {content: text.to_upper(resp.content)}
  }
})
r := llm.complete({model: params.m, prompt: "tell me", temperature: 0.9})
export {seen: seen, content: r.content, usage: r.usage}
""",
}


@pytest.mark.parametrize("lang", LANGS)
def test_before_generate_changes_what_the_provider_receives_and_after_generate_the_answer(
        isolated, openai_server, lang):
    openai_server.reply("the answer", usage=(7, 2))
    isolated.server_config(openai_server)
    r, _ = run(isolated, lang, GENERATE[lang], params={"m": SCRIPTED})
    body = openai_server.completions[0].body
    assert body["temperature"] == 0.25
    assert body.get("max_tokens", body.get("max_completion_tokens")) == 77
    assert [(m["role"], m["content"]) for m in body["messages"]] == [
        ("system", "be terse"), ("user", "[redacted] tell me")]
    assert r["seen"]["before"] == {"hook": "beforeGenerate", "caller": "llm.complete", "model": SCRIPTED,
                                   "temperature": 0.9, "n": 1}
    usage = {"input_tokens": 7, "output_tokens": 2, "total_tokens": 9}
    assert r["seen"]["after"] == {"usage": usage, "sent_temperature": 0.25, "content": "the answer"}
    assert r["content"] == "THE ANSWER" and r["usage"] == usage


STREAM = {
    "lua": """
hooks.register({
  beforeGenerate = function(ctx, req) return {temperature = 0.1} end,
  afterGenerate = function(ctx, req, resp) return {content = resp.content .. "!"} end,
})
local chunks = {}
local r = llm.stream({model = params.m, prompt = "go"}, function(c) chunks[#chunks + 1] = c end)
return {chunks = table.concat(chunks), content = r.content}
""",
    "js": """
await hooks.register({
  beforeGenerate: (ctx, req) => ({temperature: 0.1}),
  afterGenerate: (ctx, req, resp) => ({content: resp.content + "!"}),
});
const chunks = [];
const r = await llm.stream({model: params.m, prompt: "go"}, (c) => { chunks.push(c); });
return {chunks: chunks.join(""), content: r.content};
""",
    "tengo": """
hooks.register({
  beforeGenerate: func(ctx, req) { return {temperature: 0.1} },
  afterGenerate: func(ctx, req, resp) { return {content: resp.content + "!"} }
})
chunks := ""
r := llm.stream({model: params.m, prompt: "go"}, func(c) { chunks += c })
export {chunks: chunks, content: r.content}
""",
}


@pytest.mark.parametrize("lang", LANGS)
def test_stream_hooks_change_the_request_and_the_chunks_are_the_rewritten_answer(isolated, openai_server, lang):
    openai_server.reply("a b c", chunks=["a ", "b ", "c"])
    isolated.server_config(openai_server)
    r, _ = run(isolated, lang, STREAM[lang], params={"m": SCRIPTED})
    body = openai_server.completions[0].body
    assert body["stream"] is True and body["temperature"] == 0.1
    assert r == {"chunks": "a b c!", "content": "a b c!"}


def test_a_stream_with_only_before_generate_still_streams_piece_by_piece(isolated, openai_server):
    openai_server.reply("abc", chunks=["a", "b", "c"])
    isolated.server_config(openai_server)
    src = """
hooks.register({beforeGenerate = function(ctx, req) return {temperature = 0.5} end})
local chunks = {}
llm.stream({model = params.m, prompt = "go"}, function(c) chunks[#chunks + 1] = c end)
return chunks
"""
    r, _ = run(isolated, "lua", src, params={"m": SCRIPTED})
    assert r == ["a", "b", "c"]
    assert openai_server.completions[0].body["temperature"] == 0.5


@pytest.mark.parametrize("lang,src", [
    ("lua", """
local order = {}
local a = hooks.register({beforeGenerate = function(ctx, req) order[#order + 1] = "a"; return nil end})
hooks.register({beforeGenerate = function(ctx, req) order[#order + 1] = "b:" .. tostring(req.temperature)
  return {temperature = 1.5} end})
hooks.register({beforeGenerate = function(ctx, req) order[#order + 1] = "c:" .. tostring(req.temperature) end})
llm.complete({model = "test", prompt = "x", temperature = 0.5})
return {order = order, first = hooks.unregister(a), again = hooks.unregister(a), unknown = hooks.unregister(999)}
"""),
    ("js", """
const order = [];
const a = await hooks.register({beforeGenerate: (ctx, req) => { order.push("a"); return undefined; }});
await hooks.register({beforeGenerate: (ctx, req) => {
  order.push("b:" + req.temperature); return {temperature: 1.5}; }});
await hooks.register({beforeGenerate: (ctx, req) => { order.push("c:" + req.temperature); }});
await llm.complete({model: "test", prompt: "x", temperature: 0.5});
return {order, first: await hooks.unregister(a), again: await hooks.unregister(a),
        unknown: await hooks.unregister(999)};
"""),
    ("tengo", """
order := []
a := hooks.register({beforeGenerate: func(ctx, req) { order = append(order, "a"); return undefined }})
hooks.register({beforeGenerate: func(ctx, req) {
  order = append(order, "b:" + string(req.temperature)); return {temperature: 1.5} }})
hooks.register({beforeGenerate: func(ctx, req) { order = append(order, "c:" + string(req.temperature)) }})
llm.complete({model: "test", prompt: "x", temperature: 0.5})
export {order: order, first: hooks.unregister(a), again: hooks.unregister(a), unknown: hooks.unregister(999)}
"""),
])
def test_hooks_chain_in_order_and_nothing_returned_leaves_the_value(isolated, lang, src):
    r, _ = run(isolated, lang, src)
    assert r == {"order": ["a", "b:0.5", "c:1.5"], "first": True, "again": False, "unknown": False}


@pytest.mark.parametrize("lang,src", [
    ("lua", """
local calls = 0
local id
id = hooks.register({beforeGenerate = function(ctx, req)
  calls = calls + 1
  hooks.unregister(id)
  return {temperature = 0.2}
end})
local later = 0
hooks.register({beforeGenerate = function(ctx, req) later = later + 1 end})
llm.complete({model = "test", prompt = "x"})
llm.complete({model = "test", prompt = "y"})
return {calls, later}
"""),
    ("js", """
let calls = 0, later = 0;
const id = await hooks.register({beforeGenerate: async (ctx, req) => {
  calls++;
  await hooks.unregister(id);
  return {temperature: 0.2};
}});
await hooks.register({beforeGenerate: () => { later++; }});
await llm.complete({model: "test", prompt: "x"});
await llm.complete({model: "test", prompt: "y"});
return [calls, later];
"""),
    ("tengo", """
calls := 0
later := 0
id := 0
id = hooks.register({beforeGenerate: func(ctx, req) { calls += 1; hooks.unregister(id); return {temperature: 0.2} }})
hooks.register({beforeGenerate: func(ctx, req) { later += 1 }})
llm.complete({model: "test", prompt: "x"})
llm.complete({model: "test", prompt: "y"})
export [calls, later]
"""),
])
def test_a_hook_that_unregisters_itself_finishes_and_is_not_called_again(isolated, lang, src):
    r, _ = run(isolated, lang, src)
    assert r == [1, 2]


def test_a_hook_unregistering_a_later_one_in_the_same_chain_stops_it(isolated):
    src = """
local ran = {}
local second
hooks.register({beforeGenerate = function() ran[#ran + 1] = "first"; hooks.unregister(second) end})
second = hooks.register({beforeGenerate = function() ran[#ran + 1] = "second" end})
llm.complete({model = "test", prompt = "x"})
return ran
"""
    r, _ = run(isolated, "lua", src)
    assert r == ["first"]


# -- hostile hooks ------------------------------------------------------------------------------------

GARBAGE = [
    ("beforeGenerate", "42", "beforeGenerate: must return the request (a table) or nothing, not an integer"),
    ("beforeGenerate", "'text'", "beforeGenerate: must return the request (a table) or nothing, not a string"),
    ("beforeGenerate", "{temperature = 'hot'}",
     "beforeGenerate: temperature must be a number from 0 to 2, not a string"),
    ("beforeGenerate", "{temperature = 7}", "beforeGenerate: temperature must be a number from 0 to 2, not 7"),
    ("beforeGenerate", "{max_tokens = 2.5}", "beforeGenerate: max_tokens must be a whole number above 0, not 2.5"),
    ("beforeGenerate", "{max_tokens = 0}", "beforeGenerate: max_tokens must be a whole number above 0, not 0"),
    ("beforeGenerate", "{model = 'openai:gpt-4o'}", "beforeGenerate: model cannot be changed here"),
    ("beforeGenerate", "{tempreature = 1}", "beforeGenerate: 'tempreature' is not a field of the request"),
    ("beforeGenerate", "{messages = {}}", "beforeGenerate: messages must be a non-empty list"),
    ("beforeGenerate", "{messages = {{role = 'wizard', content = 'x'}}}",
     "beforeGenerate: messages[1] is not one of the request's messages"),
    ("beforeGenerate", "{messages = {{role = 'user', content = 5}}}",
     "beforeGenerate: messages[1].content must be a string, not an integer"),
    ("beforeGenerate", "{messages = {{role = 'user', content = 'a'}, {role = 'assistant', content = 'b'}}}",
     "beforeGenerate: the last message must be from the user"),
    ("afterGenerate", "true", "afterGenerate: must return the response (a table) or nothing, not a boolean"),
    ("afterGenerate", "{content = 12}", "afterGenerate: content must be a string, not an integer"),
    ("afterGenerate", "{usage = {input_tokens = 0, output_tokens = 0, total_tokens = 0}}",
     "afterGenerate: usage cannot be changed"),
    ("afterGenerate", "{model = 'other'}", "afterGenerate: model cannot be changed"),
]


@pytest.mark.parametrize("hook,value,message", GARBAGE)
def test_a_hook_returning_garbage_is_an_invalid_argument_naming_it(isolated, hook, value, message):
    src = f"""
hooks.register({{{hook} = function() return {value} end}})
local ok, e = pcall(llm.complete, {{model = "test", prompt = "x"}})
return {{ok = ok, kind = e.kind, message = e.message}}
"""
    r, _ = run(isolated, "lua", src)
    assert r["ok"] is False and r["kind"] == "invalid_argument", r
    assert r["message"].startswith(message), r


@pytest.mark.parametrize("lang,src", [
    ("js", "await hooks.register({beforeGenerate: () => [1, 2]});\n"
           "try { await llm.complete({model: 'test', prompt: 'x'}) } catch (e) { return [e.kind, e.message] }"),
    ("tengo", "hooks.register({beforeGenerate: func(ctx, req) { return [1, 2] }})\n"
              "r := llm.complete({model: \"test\", prompt: \"x\"})\nexport [r.value.kind, r.value.message]"),
])
def test_garbage_from_a_hook_reads_the_same_in_javascript_and_tengo(isolated, lang, src):
    r, _ = run(isolated, lang, src)
    assert r == ["invalid_argument", "beforeGenerate: must return the request (a table) or nothing, not a list"]


@pytest.mark.parametrize("lang,src", [
    ("lua", """
hooks.register({beforeGenerate = function() error("the budget is spent") end})
local ok, e = pcall(llm.complete, {model = "test", prompt = "x"})
hooks.register({afterGenerate = function() error({kind = "permission_denied", message = "not now"}) end})
local ok2, e2 = pcall(llm.complete, {model = "test", prompt = "x"})
return {e.kind, e.message, e2.kind, e2.message}
"""),
    ("js", """
const out = [];
await hooks.register({beforeGenerate: () => { throw new Error("the budget is spent"); }});
try { await llm.complete({model: "test", prompt: "x"}) } catch (e) { out.push(e.kind, e.message) }
await hooks.register({afterGenerate: () => { const e = new Error("not now"); e.kind = "permission_denied"; throw e; }});
try { await llm.complete({model: "test", prompt: "x"}) } catch (e) { out.push(e.kind, e.message) }
return out;
"""),
    ("tengo", """
hooks.register({beforeGenerate: func(ctx, req) { return error("the budget is spent") }})
a := llm.complete({model: "test", prompt: "x"})
hooks.register({afterGenerate: func(ctx, req, resp) { return error({kind: "permission_denied", message: "not now"}) }})
b := llm.complete({model: "test", prompt: "x"})
export [a.value.kind, a.value.message, b.value.kind, b.value.message]
"""),
])
def test_a_hook_that_raises_aborts_the_call_with_its_kind_and_message(isolated, lang, src):
    r, _ = run(isolated, lang, src)
    assert r[0] == "runtime_error" and r[1].startswith("beforeGenerate: ") and "the budget is spent" in r[1]
    # the first hook still raises, so the second call stops there too
    assert r[2] == "runtime_error" and "the budget is spent" in r[3]


def test_an_after_generate_error_aborts_the_call_with_the_hooks_kind(isolated):
    src = """
hooks.register({afterGenerate = function() error({kind = "permission_denied", message = "not now"}) end})
local ok, e = pcall(llm.complete, {model = "test", prompt = "x"})
return {e.kind, e.message}
"""
    r, _ = run(isolated, "lua", src)
    assert r == ["permission_denied", "afterGenerate: not now"]


def test_an_uncaught_hook_error_ends_the_run_at_the_hooks_line(isolated):
    isolated.write("spell.lua", "hooks.register({beforeGenerate = function(ctx, req)\n"
                                "  error('no model calls today')\nend})\n"
                                "llm.complete({model = 'test', prompt = 'x'})\n")
    p = isolated.cli("run", "spell.lua")
    assert p.returncode == 1
    assert "runtime_error" in p.stderr and "beforeGenerate: " in p.stderr and "no model calls today" in p.stderr
    assert "spell.lua:2" in p.stderr
    isolated.no_traceback(p.stdout, p.stderr)


@pytest.mark.parametrize("lang,src,message", [
    ("lua", "hooks.register({beforeGenrate = function() end})", "beforeGenrate"),
    ("lua", "hooks.register({})", "give at least one of"),
    ("lua", "hooks.register({beforeGenerate = 'not a function'})", "beforeGenerate must be a function"),
    ("js", "await hooks.register({afterToolcall: () => 1})", "afterToolcall"),
    ("tengo", "r := hooks.register({beforeToolCall: 5})\nif is_error(r) { export r.value.message }",
     "beforeToolCall must be a function"),
])
def test_registering_a_misspelt_or_empty_hook_set_is_refused(isolated, lang, src, message):
    try:
        r, _ = run(isolated, lang, src)
    except SpellError as exc:
        assert exc.kind == "invalid_argument" and message in exc.message
    else:
        assert message in r


# -- tool hooks ---------------------------------------------------------------------------------------

TOOLS = {
    "lua": """
hooks.register({
  beforeToolCall = function(ctx, tool, input)
    if tool == "file_write" and input.path:sub(1, 5) == "/etc/" then
      error({kind = "permission_denied", message = "no writes to /etc/"})
    end
    if tool == "calculator" then return {expression = input.expression .. " * 10"} end
    if tool == "shout" then error("shouting is off") end
  end,
  afterToolCall = function(ctx, tool, input, output)
    if tool == "calculator" then return {input = input.expression, output = output, caller = ctx.caller} end
  end,
})
tools.register({name = "shout", parameters = {text = {type = "string"}}, handler = function(p) return p.text end})
local calc = tools.calculator("1 + 2")
local ok1, e1 = pcall(tools.file_write, "/etc/passwd", "x")
local ok2, e2 = pcall(tools.shout, {text = "hi"})
local dt = tools.datetime()
return {calc = calc, refused = {e1.kind, e1.message}, failed = {e2.kind, e2.message}, dt = type(dt)}
""",
    "js": """
await hooks.register({
  beforeToolCall: (ctx, tool, input) => {
    if (tool === "file_write" && input.path.startsWith("/etc/")) {
      const e = new Error("no writes to /etc/"); e.kind = "permission_denied"; throw e;
    }
    if (tool === "calculator") return {expression: input.expression + " * 10"};
    if (tool === "shout") throw new Error("shouting is off");
  },
  afterToolCall: (ctx, tool, input, output) => {
    if (tool === "calculator") return {input: input.expression, output, caller: ctx.caller};
  },
});
await tools.register({name: "shout", parameters: {text: {type: "string"}}, handler: (p) => p.text});
const out = {calc: await tools.calculator("1 + 2")};
try { await tools.file_write("/etc/passwd", "x") } catch (e) { out.refused = [e.kind, e.message] }
try { await tools.shout({text: "hi"}) } catch (e) { out.failed = [e.kind, e.message] }
out.dt = typeof (await tools.datetime());
out.dt = out.dt === "object" ? "table" : out.dt;
return out;
""",
    "tengo": """
text := import("text")
hooks.register({
  beforeToolCall: func(ctx, tool, input) {
    if tool == "file_write" && text.has_prefix(input.path, "/etc/") {
      return error({kind: "permission_denied", message: "no writes to /etc/"})
    }
    if tool == "calculator" { return {expression: input.expression + " * 10"} }
    if tool == "shout" { return error("shouting is off") }
  },
  afterToolCall: func(ctx, tool, input, output) {
    if tool == "calculator" { return {input: input.expression, output: output, caller: ctx.caller} }
  }
})
tools.register({name: "shout", parameters: {text: {type: "string"}}, handler: func(p) { return p.text }})
calc := tools.calculator("1 + 2")
e1 := tools.file_write("/etc/passwd", "x")
e2 := tools.shout({text: "hi"})
dt := tools.datetime()
export {calc: calc, refused: [e1.value.kind, e1.value.message], failed: [e2.value.kind, e2.value.message],
        dt: is_map(dt) || is_immutable_map(dt) ? "table" : type_name(dt)}
""",
}


@pytest.mark.parametrize("lang", LANGS)
def test_tool_hooks_rewrite_input_and_output_and_refuse_a_call(isolated, lang):
    r, _ = run(isolated, lang, TOOLS[lang])
    assert r["calc"] == {"input": "1 + 2 * 10", "output": 21, "caller": "tools"}
    assert r["refused"] == ["permission_denied", "file_write: beforeToolCall: no writes to /etc/"]
    assert r["failed"][0] == "tool_error"
    assert r["failed"][1].startswith("shout: beforeToolCall: ") and "shouting is off" in r["failed"][1]
    assert r["dt"] == "table"  # a tool no hook changes gives its own result
    assert not (isolated.cwd / "etc").exists()


def test_rewritten_tool_input_is_validated_against_the_schema(isolated):
    src = """
hooks.register({beforeToolCall = function(ctx, tool, input) return {expression = 42} end})
local ok, e = pcall(tools.calculator, "1 + 1")
hooks.register({beforeToolCall = function(ctx, tool, input) return "1 + 1" end})
local ok2, e2 = pcall(tools.calculator, "1 + 1")
return {e.kind, e.message, e2.kind, e2.message}
"""
    r, _ = run(isolated, "lua", src)
    assert r[0] == "invalid_argument" and "expression" in r[1]
    assert r[2:] == ["invalid_argument", "beforeToolCall: must return the input (a table) or nothing, not a string"]


def test_a_before_tool_call_refusal_keeps_the_tool_from_running(isolated):
    src = """
hooks.register({beforeToolCall = function(ctx, tool, input)
  if input.path:match("secret") then error({kind = "permission_denied", message = "not that file"}) end
end})
local ok, e = pcall(tools.file_write, "secret.txt", "data")
tools.file_write("public.txt", "data")
return {ok, e.kind}
"""
    r, _ = run(isolated, "lua", src, policy=_write_here(isolated))
    assert r == [False, "permission_denied"]
    assert not (isolated.cwd / "secret.txt").exists() and (isolated.cwd / "public.txt").read_text() == "data"


def _write_here(isolated):
    from llmspell.sandbox import Policy

    return Policy(allow_write=(str(isolated.cwd),), allow_read=(str(isolated.cwd),))


def test_hooks_see_large_values_unchanged(isolated):
    """A 200 KB prompt and a 1000-row tool result pass through hooks that return them as they are."""
    src = """
local big = string.rep("word ", 40000)
local rows = {}
for i = 1, 1000 do rows[i] = {id = i, name = "row " .. i} end
tools.register({name = "rows", handler = function() return rows end})
local sizes = {}
hooks.register({
  beforeGenerate = function(ctx, req) sizes.prompt = #req.messages[1].content; return req end,
  afterToolCall = function(ctx, tool, input, output) sizes.rows = #output; return output end,
})
llm.complete({model = "test", prompt = big})
local got = tools.rows()
return {prompt = sizes.prompt, rows = sizes.rows, last = got[1000].name}
"""
    r, _ = run(isolated, "lua", src)
    assert r == {"prompt": 200000, "rows": 1000, "last": "row 1000"}


def test_hooks_of_many_concurrent_calls_each_change_their_own_request(isolated, openai_server):
    """Twenty llm.complete calls at once from JavaScript, each hooked: each request the provider got
    carries the temperature its own hook chose, and each answer its own rewrite; with hooks that
    themselves await a tool call, eight at once."""
    openai_server.always("ok")
    isolated.server_config(openai_server)
    src = """
await hooks.register({
  beforeGenerate: async (ctx, req) => {
    const i = Number(req.messages[0].content);
    if (params.nested) await tools.calculator("1 + 1");  // a hook may await other calls
    return {temperature: i / 10};
  },
  afterGenerate: (ctx, req, resp) => ({content: resp.content + ":" + req.temperature}),
});
const answers = await Promise.all([...Array(params.n).keys()].map((i) =>
  llm.complete({model: params.m, prompt: String(i)})));
return answers.map((a) => a.content);
"""
    for n, nested in ((20, False), (8, True)):
        openai_server.requests.clear()
        r, _ = run(isolated, "js", src, params={"m": SCRIPTED, "n": n, "nested": nested})
        assert r == [f"ok:{i / 10:g}" for i in range(n)]
        sent = sorted((int(c.body["messages"][-1]["content"]), c.body["temperature"])
                      for c in openai_server.completions)
        assert sent == [(i, i / 10) for i in range(n)]
