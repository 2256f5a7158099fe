"""Bridge calls made from the spell's own functions the host runs (a tool's handler, here): an async call
gives back its max_concurrent slot while it waits on the spell, so calls nested deeper than the run's
max_concurrent, or more handlers at once than it, finish instead of hanging until the run's timeout; a
tool that calls itself ends at once with a limit error; and max_concurrent still bounds what is in
flight.  In Lua, JavaScript and Tengo, inline and in a worker."""

from __future__ import annotations

import pytest
from tests.support.scripted_model import Script, calls, returns, text
from tests.workflows.conftest import Echo

from llmspell import SpellError
from llmspell.sandbox.policy import Policy

LANGS = {"lua": ("lua", "lua"), "js": ("javascript", "js"), "tengo": ("tengo", "tengo")}

#: tN's handler calls t(N-1) with x + 1; t0 answers x: tools.call("t20", {x = 0}) nests 20 deep.
NESTED = {
    "lua": """
tools.register({name = "t0", parameters = {x = {type = "integer"}}, handler = function(p) return p.x end})
for i = 1, params.n do
  local below = "t" .. (i - 1)
  tools.register({name = "t" .. i, parameters = {x = {type = "integer"}},
                  handler = function(p) return tools.call(below, {x = p.x + 1}) end})
end
return tools.call("t" .. params.n, {x = 0})
""",
    "js": """
await tools.register({name: "t0", parameters: {x: {type: "integer"}}, handler: async (p) => p.x});
for (let i = 1; i <= params.n; i++) {
  const below = "t" + (i - 1);
  await tools.register({name: "t" + i, parameters: {x: {type: "integer"}},
                        handler: async (p) => await tools.call(below, {x: p.x + 1})});
}
return await tools.call("t" + params.n, {x: 0});
""",
    "tengo": """
tools.register({name: "t0", parameters: {x: {type: "integer"}}, handler: func(p) { return p.x }})
below := func(name) { return func(p) { return tools.call(name, {x: p.x + 1}) } }
for i := 1; i <= params.n; i++ {
  tools.register({name: "t" + string(i), parameters: {x: {type: "integer"}}, handler: below("t" + string(i - 1))})
}
export tools.call("t" + string(params.n), {x: 0})
""",
}

#: A tool whose handler calls the tool again, without end; the spell catches what it can.
ITSELF = {
    "lua": """
tools.register({name = "again", handler = function(p) return tools.call("again", {}) end})
local ok, err = pcall(tools.call, "again", {})
return "caught: " .. err.kind""",
    "js": """
await tools.register({name: "again", handler: async (p) => await tools.call("again", {})});
try { await tools.call("again", {}); } catch (e) { return "caught: " + e.kind; }""",
    "tengo": """
tools.register({name: "again", handler: func(p) { return tools.call("again", {}) }})
r := tools.call("again", {})
export is_error(r) ? "caught: " + r.value.kind : r""",
}

#: An agent whose model asks for params.n tool calls at once; each handler asks a model.
AGENT_FAN_OUT = {
    "lua": """
local ask = tools.register({name = "ask", parameters = {q = {type = "string"}},
  handler = function(p) return llm.complete({model = "echo", prompt = p.q}).content end})
return llm.agent({model = "scripted", tools = {ask}}):run("go")""",
    "js": """
const ask = await tools.register({name: "ask", parameters: {q: {type: "string"}},
  handler: async (p) => (await llm.complete({model: "echo", prompt: p.q})).content});
return await (await llm.agent({model: "scripted", tools: [ask]})).run("go");""",
    "tengo": """
ask := tools.register({name: "ask", parameters: {q: {type: "string"}},
  handler: func(p) { return llm.complete({model: "echo", prompt: p.q}).content }})
export llm.agent({model: "scripted", tools: [ask]}).run("go")""",
}


def _run(isolated, lang: str, source: str, isolation: str, **kwargs) -> object:
    language, ext = LANGS[lang]
    rt, _ = isolated.runtime(isolation=isolation, **kwargs)
    return rt.run(source=source, language=language, filename=f"spell.{ext}", params=kwargs.pop("params", None))


@pytest.fixture(params=["lua", "js", "tengo"])
def lang(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(params=["inline", "process"])
def isolation(request: pytest.FixtureRequest) -> str:
    return request.param


def _nested(isolated, lang: str, isolation: str, n: int, policy: Policy) -> object:
    language, ext = LANGS[lang]
    rt, _ = isolated.runtime(isolation=isolation, policy=policy)
    return rt.run(source=NESTED[lang], language=language, filename=f"spell.{ext}", params={"n": n})


def test_handlers_calling_tools_nest_deeper_than_max_concurrent(isolated, lang, isolation):
    """Twenty deep under the default max_concurrent of 16 (before: every slot held by a call waiting on
    its handler, the 17th call waited for the run's timeout)."""
    assert _nested(isolated, lang, isolation, 20, Policy(timeout=60)) == 20


def test_one_slot_is_enough_for_calls_nested_in_handlers(isolated, lang):
    assert _nested(isolated, lang, "inline", 20, Policy(timeout=60, max_concurrent=1)) == 20


def test_calls_nested_to_the_limit_finish(isolated, lang):
    """64 calls, each made from the handler of the one before: the deepest nesting allowed (past it, below)."""
    assert _nested(isolated, lang, "inline", 63, Policy(timeout=60)) == 63


def test_a_tool_that_calls_itself_ends_with_a_limit_error_not_a_hang(isolated, lang, isolation):
    """The spell cannot catch it, at any depth: the run ends with limit_exceeded naming the limit
    (JavaScript starts a handler's calls from its own loop, where the depth is not known: the number of
    its functions waiting at once bounds it there)."""
    with pytest.raises(SpellError) as err:
        _run(isolated, lang, ITSELF[lang], isolation, policy=Policy(timeout=60))
    assert err.value.kind == "limit_exceeded", err.value
    message = err.value.message
    assert message.startswith("tools.call: ")
    if lang == "js":
        assert "more than 1024 of the spell's functions (tool handlers, hooks, listeners, step functions) " \
               "wait on bridge calls at once" in message
    else:
        assert "bridge calls made from the spell's own functions (tool handlers, hooks, listeners, step " \
               "functions) nest more than 64 deep" in message
    assert "does a tool's handler call that tool again" in (err.value.hint or "")
    isolated.no_traceback(str(err.value))


def test_a_nesting_past_the_limit_ends_the_run(isolated, lang):
    """Lua and Tengo know how deep a call is (the context of the handler it runs in): 70 > 64 is refused.
    JavaScript's bound is the number of its functions waiting at once (1024), so 70 finishes there."""
    if lang == "js":
        assert _nested(isolated, lang, "inline", 70, Policy(timeout=60)) == 70
        return
    with pytest.raises(SpellError) as err:
        _nested(isolated, lang, "inline", 70, Policy(timeout=60))
    assert err.value.kind == "limit_exceeded"
    assert "tools.call: bridge calls made from the spell's own functions" in err.value.message
    assert "nest more than 64 deep" in err.value.message


def _fan_out(n: int) -> Script:
    def answer(messages):
        return text(" ".join(sorted(returns(messages))))

    return Script(calls(*[("ask", {"q": f"q{i:02d}"}) for i in range(n)]), answer)


def test_more_handlers_at_once_than_max_concurrent_each_calling_a_model(isolated, lang, isolation):
    """An agent's model asks for 20 tool calls at once, each handler asks a model: they all finish, and
    no more than max_concurrent (16) of the handlers' requests are in flight at once."""
    echo = Echo(delay=0.05)
    result = _run(isolated, lang, AGENT_FAN_OUT[lang], isolation, policy=Policy(timeout=60),
                  models={"scripted": _fan_out(20).model(), "echo": echo.model()})
    assert result == " ".join(f"echo: q{i:02d}" for i in range(20))
    assert echo.most_in_flight == 16


def test_max_concurrent_still_bounds_the_handlers_requests(isolated, lang):
    echo = Echo(delay=0.05)
    result = _run(isolated, lang, AGENT_FAN_OUT[lang], "inline", policy=Policy(timeout=60, max_concurrent=3),
                  models={"scripted": _fan_out(10).model(), "echo": echo.model()})
    assert result == " ".join(f"echo: q{i:02d}" for i in range(10))
    assert echo.most_in_flight == 3


def test_javascript_calls_at_once_whose_handlers_call_a_model(isolated, isolation):
    src = """
await tools.register({name: "ask", parameters: {q: {type: "string"}},
  handler: async (p) => (await llm.complete({model: "echo", prompt: p.q})).content});
return await Promise.all(Array.from({length: 40}, (_, i) => tools.call("ask", {q: "q" + i})));"""
    echo = Echo(delay=0.02)
    result = _run(isolated, "js", src, isolation, policy=Policy(timeout=60), models={"echo": echo.model()})
    assert result == [f"echo: q{i}" for i in range(40)]
    assert echo.most_in_flight == 16


#: llm.stream's on_chunk calls a tool whose handler answers: with max_concurrent = 1 the stream's call
#: held the only slot while on_chunk waited for the tool, which waited for a slot.
STREAM = {
    "lua": """
tools.register({name = "shout", parameters = {s = {type = "string"}}, handler = function(p) return p.s:upper() end})
local got = {}
llm.stream({prompt = "x"}, function(piece) got[#got + 1] = tools.call("shout", {s = piece}) end)
return table.concat(got)""",
    "js": """
await tools.register({name: "shout", parameters: {s: {type: "string"}}, handler: async (p) => p.s.toUpperCase()});
const got = [];
await llm.stream({prompt: "x"}, async (piece) => { got.push(await tools.call("shout", {s: piece})); });
return got.join("");""",
    "tengo": """
text := import("text")
tools.register({name: "shout", parameters: {s: {type: "string"}}, handler: func(p) { return text.to_upper(p.s) }})
got := ""
llm.stream({prompt: "x"}, func(piece) { got += tools.call("shout", {s: piece}) })
export got""",
}


def test_a_stream_callback_calls_a_tool_with_one_slot(isolated, lang, isolation):
    result = _run(isolated, lang, STREAM[lang], isolation, model="test",
                  policy=Policy(timeout=60, max_concurrent=1, allowed_imports=("text",)))
    assert result == "SUCCESS (NO TOOL CALLS)"
