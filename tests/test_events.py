"""``events`` in Lua, JavaScript and Tengo through Runtime and the CLI: a spell's own events reach its
listeners (names, globs, once, off), the built-in ``tool.*`` and ``llm.*`` events carry their fields,
a listener's error is reported (raised by ``events.emit``, logged for a built-in event), a listener
that emits what it listens to is stopped, and nothing is built or wrapped when no one listens."""

from __future__ import annotations

import asyncio

import pytest

from llmspell import SpellError

SCRIPTED = "openai-compatible:scripted-model"
LANGS = {"lua": "lua", "js": "javascript", "tengo": "tengo"}


def run(isolated, lang, src, params=None, **kwargs):
    rt, out = isolated.runtime(**kwargs)
    result = rt.run(source=src, language=LANGS[lang], params=params, filename=f"spell.{lang}")
    return result, "".join(out)


# -- a spell's own events -------------------------------------------------------------------------------

OWN = {
    "lua": """
local got = {}
local function note(tag) return function(e) got[#got + 1] = tag .. ":" .. e.name .. ":" .. tostring(e.n) end end
local all = events.on("*", note("all"))
events.on("job.*", note("job"))
events.on("job.done", note("exact"))
events.on("job.?", note("one"))
events.once("job.*", note("once"))
local counts = {}
counts[1] = events.emit("job.done", {n = 1})
counts[2] = events.emit("job.done", {n = 2})
counts[3] = events.emit("job.x", {n = 3})
counts[4] = events.emit("job.step.1", {n = 4})
counts[5] = events.emit("other", {n = 5})
local off = {events.off(all), events.off(all), events.off(12345)}
counts[6] = events.emit("other", {n = 6})
local e1
events.on("shape", function(e) e1 = {name = e.name, data = e.data, id = type(e.id), ts = type(e.timestamp),
                                      own = e.own} end)
events.emit("shape", {own = "field", name = "not the name"})
return {got = got, counts = counts, off = off, shape = e1}
""",
    "js": """
const got = [];
const note = (tag) => (e) => { got.push(`${tag}:${e.name}:${e.n}`); };
const all = await events.on("*", note("all"));
await events.on("job.*", note("job"));
await events.on("job.done", note("exact"));
await events.on("job.?", note("one"));
await events.once("job.*", note("once"));
const counts = [];
counts.push(await events.emit("job.done", {n: 1}));
counts.push(await events.emit("job.done", {n: 2}));
counts.push(await events.emit("job.x", {n: 3}));
counts.push(await events.emit("job.step.1", {n: 4}));
counts.push(await events.emit("other", {n: 5}));
const off = [await events.off(all), await events.off(all), await events.off(12345)];
counts.push(await events.emit("other", {n: 6}));
let e1;
await events.on("shape", (e) => { e1 = {name: e.name, data: e.data, id: typeof e.id === "number" ? "number" : "?",
                                        ts: typeof e.timestamp === "number" ? "number" : "?", own: e.own}; });
await events.emit("shape", {own: "field", name: "not the name"});
return {got, counts, off, shape: e1};
""",
    "tengo": """
got := []
note := func(tag) { return func(e) { got = append(got, tag + ":" + e.name + ":" + string(e.n)) } }
all := events.on("*", note("all"))
events.on("job.*", note("job"))
events.on("job.done", note("exact"))
events.on("job.?", note("one"))
events.once("job.*", note("once"))
counts := []
counts = append(counts, events.emit("job.done", {n: 1}))
counts = append(counts, events.emit("job.done", {n: 2}))
counts = append(counts, events.emit("job.x", {n: 3}))
counts = append(counts, events.emit("job.step.1", {n: 4}))
counts = append(counts, events.emit("other", {n: 5}))
off := [events.off(all), events.off(all), events.off(12345)]
counts = append(counts, events.emit("other", {n: 6}))
e1 := undefined
events.on("shape", func(e) { e1 = {name: e.name, data: e.data, id: is_int(e.id) ? "number" : "?",
                                   ts: is_float(e.timestamp) ? "number" : "?", own: e.own} })
events.emit("shape", {own: "field", name: "not the name"})
export {got: got, counts: counts, off: off, shape: e1}
""",
}


@pytest.mark.parametrize("lang", LANGS)
def test_own_events_reach_listeners_by_name_and_glob_in_order(isolated, lang):
    r, _ = run(isolated, lang, OWN[lang])
    assert r["got"] == [
        "all:job.done:1", "job:job.done:1", "exact:job.done:1", "once:job.done:1",
        "all:job.done:2", "job:job.done:2", "exact:job.done:2",
        "all:job.x:3", "job:job.x:3", "one:job.x:3",
        "all:job.step.1:4", "job:job.step.1:4",  # * matches dots too
        "all:other:5",
    ]
    assert r["counts"] == [4, 3, 3, 2, 1, 0]
    assert r["off"] == [True, False, False]
    assert r["shape"] == {"name": "shape", "data": {"own": "field", "name": "not the name"}, "id": "number",
                          "ts": "number", "own": "field"}


@pytest.mark.parametrize("pattern,name,hit", [
    ("[", "[", True),          # an unclosed bracket is a plain character
    ("[ab]", "a", True),
    ("[!a]", "a", False),
    ("a.*", "a.", True),
    ("a.*", "a", False),
    ("?", "", False),
    ("**", "x.y.z", True),
    ("JOB.done", "job.done", False),  # names are case-sensitive
    ("job.done ", "job.done", False),
    ("é.*", "é.ü", True),
])
def test_glob_edge_cases(isolated, pattern, name, hit):
    src = """
local hits = 0
events.on(params.pattern, function() hits = hits + 1 end)
if params.name ~= "" then events.emit(params.name) end
return hits
"""
    r, _ = run(isolated, "lua", src, params={"pattern": pattern, "name": name}, isolation="inline")
    assert r == (1 if hit else 0)


@pytest.mark.parametrize("lang,src,message", [
    ("lua", "events.on('', function() end)", "events.on: pattern must not be empty"),
    ("lua", "events.emit('')", "events.emit: name must not be empty"),
    ("lua", "events.emit('tool.executed', {toolName = 'fake'})", "events.emit: 'tool.executed' is in the namespace"),
    ("js", "await events.emit('llm.response', {})", "events.emit: 'llm.response' is in the namespace"),
    ("tengo", "r := events.emit('agent.completed')\nif is_error(r) { export r.value.message }",
     "events.emit: 'agent.completed' is in the namespace"),
    ("lua", "events.on('x', 'not a function')", "events.on: fn must be a function"),
    ("lua", "events.emit('x', 'not a table')", "events.emit: data must be"),
    ("lua", "events.off('one')", "events.off: id must be an integer"),
])
def test_bad_arguments_are_invalid_arguments(isolated, lang, src, message):
    src = src.replace("'", '"') if lang == "tengo" else src
    try:
        r, _ = run(isolated, lang, src)
    except SpellError as exc:
        assert exc.kind == "invalid_argument" and exc.message.startswith(message), exc
    else:
        assert r.startswith(message), r


# -- listener errors --------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang,src", [
    ("lua", """
local after = 0
events.on("x", function() error({kind = "validation_error", message = "bad payload"}) end)
events.on("x", function() error("second") end)
events.on("x", function() after = after + 1 end)
local ok, e = pcall(events.emit, "x")
return {e.kind, e.message, after}
"""),
    ("js", """
let after = 0;
await events.on("x", () => { const e = new Error("bad payload"); e.kind = "validation_error"; throw e; });
await events.on("x", () => { throw new Error("second"); });
await events.on("x", () => { after++; });
try { await events.emit("x") } catch (e) { return [e.kind, e.message, after] }
"""),
    ("tengo", """
after := 0
events.on("x", func(e) { return error({kind: "validation_error", message: "bad payload"}) })
events.on("x", func(e) { return error("second") })
events.on("x", func(e) { after += 1 })
r := events.emit("x")
export [r.value.kind, r.value.message, after]
"""),
])
def test_emit_raises_the_first_listener_error_after_every_listener_ran(isolated, lang, src):
    r, _ = run(isolated, lang, src)
    assert r == ["validation_error", "events.emit: a listener of 'x' failed: bad payload "
                 "(and 1 more listener error(s))", 1]


def test_an_uncaught_listener_error_names_the_listeners_line(isolated):
    isolated.write("spell.js", "await events.on('x', () => {\n  throw new Error('boom');\n});\n"
                               "await events.emit('x');\n")
    p = isolated.cli("run", "spell.js")
    assert p.returncode == 1 and "events.emit: a listener of 'x' failed" in p.stderr and "boom" in p.stderr
    assert "spell.js:2" in p.stderr
    isolated.no_traceback(p.stdout, p.stderr)


@pytest.mark.parametrize("lang,src", [
    ("lua", "events.on('tool.*', function(e) error('listener broke') end)\nreturn tools.calculator('6 * 7')"),
    ("js", "await events.on('tool.*', () => { throw new Error('listener broke'); });\n"
           "return await tools.calculator('6 * 7');"),
    ("tengo", "events.on(\"tool.*\", func(e) { return error(\"listener broke\") })\n"
              "export tools.calculator(\"6 * 7\")"),
])
def test_a_failing_listener_of_a_built_in_event_is_logged_and_the_call_goes_on(isolated, lang, src):
    isolated.write(f"spell.{lang}", src)
    p = isolated.cli("run", f"spell.{lang}")
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "42"
    lines = [line for line in p.stderr.splitlines() if "listener broke" in line]
    assert len(lines) == 2, p.stderr  # tool.called and tool.executed
    assert "events: a listener of 'tool.called' failed: runtime_error:" in lines[0]
    assert "tool.executed" in lines[1]
    if lang != "tengo":  # a Tengo error value carries no place
        assert f"spell.{lang}:1" in lines[1]
    isolated.no_traceback(p.stdout, p.stderr)


# -- recursion is bounded ---------------------------------------------------------------------------------

@pytest.mark.parametrize("lang,src", [
    ("lua", """
local n = 0
events.on("again", function(e) n = n + 1; events.emit("again", {n = n}) end)
local ok, e = pcall(events.emit, "again")
print("never here")
"""),
    ("js", """
let n = 0;
await events.on("again", async (e) => { n++; await events.emit("again", {n}); });
try { await events.emit("again") } catch (e) { console.log("never here") }
"""),
    ("tengo", """
n := 0
events.on("again", func(e) { n += 1; r := events.emit("again", {n: n}); if is_error(r) { return r } })
r := events.emit("again")
fmt.println("never here")
"""),
])
def test_a_listener_that_emits_what_it_listens_to_is_stopped_and_ends_the_run(isolated, lang, src):
    from llmspell.events.bus import MAX_CASCADE

    isolated.write(f"spell.{lang}", src)
    p = isolated.cli("run", f"spell.{lang}")
    assert p.returncode == 1 and "never here" not in p.stdout
    assert f"limit_exceeded: events: more than {MAX_CASCADE} events emitted while one was being delivered " \
           "('again' was refused)" in p.stderr
    isolated.no_traceback(p.stdout, p.stderr)


@pytest.mark.parametrize("lang,src", [
    ("lua", """
local order = {}
events.on("a", function() order[#order + 1] = "a"; events.emit("b"); order[#order + 1] = "a-end" end)
events.on("b", function() order[#order + 1] = "b" end)
events.emit("a")
order[#order + 1] = "back"
return order
"""),
    ("js", """
const order = [];
await events.on("a", async () => { order.push("a"); await events.emit("b"); order.push("a-end"); });
await events.on("b", () => { order.push("b"); });
await events.emit("a");
order.push("back");
return order;
"""),
    ("tengo", """
order := []
events.on("a", func(e) { order = append(order, "a"); events.emit("b"); order = append(order, "a-end") })
events.on("b", func(e) { order = append(order, "b") })
events.emit("a")
order = append(order, "back")
export order
"""),
])
def test_an_event_emitted_by_a_listener_is_delivered_after_the_current_one(isolated, lang, src):
    r, _ = run(isolated, lang, src)
    assert r == ["a", "a-end", "b", "back"]


def test_thousands_of_events_with_large_payloads(isolated):
    src = """
local total, bytes = 0, 0
events.on("row.*", function(e) total = total + 1; bytes = bytes + #e.text end)
local text = string.rep("x", 10000)
for i = 1, 3000 do events.emit("row." .. (i % 7), {i = i, text = text}) end
return {total, bytes}
"""
    r, _ = run(isolated, "lua", src)
    assert r == [3000, 30_000_000]


# -- built-in events ---------------------------------------------------------------------------------------

BUILT_IN = {
    "lua": """
local seen = {}
events.on("tool.*", function(e)
  seen[#seen + 1] = {name = e.name, tool = e.toolName, success = e.success, duration = e.duration,
                     input = e.input, error = e.error, caller = e.caller}
end)
tools.calculator("2 + 2")
pcall(tools.calculator, "2 +")
return seen
""",
    "js": """
const seen = [];
await events.on("tool.*", (e) => { seen.push({name: e.name, tool: e.toolName, success: e.success, duration: e.duration,
                                               input: e.input, error: e.error, caller: e.caller}); });
await tools.calculator("2 + 2");
try { await tools.calculator("2 +") } catch (e) {}
return seen;
""",
    "tengo": """
seen := []
events.on("tool.*", func(e) {
  seen = append(seen, {name: e.name, tool: e.toolName, success: e.success, duration: e.duration,
                       input: e.input, "error": e.error, caller: e.caller})
})
tools.calculator("2 + 2")
tools.calculator("2 +")
export seen
""",
}


@pytest.mark.parametrize("lang", LANGS)
def test_tool_events_carry_tool_name_duration_and_success(isolated, lang):
    r, _ = run(isolated, lang, BUILT_IN[lang])
    r = [{k: v for k, v in e.items() if v is not None} for e in r]
    called = [e for e in r if e["name"] == "tool.called"]
    executed = [e for e in r if e["name"] == "tool.executed"]
    assert [e["input"] for e in called] == [{"expression": "2 + 2"}, {"expression": "2 +"}]
    assert all(e["tool"] == "calculator" and e["caller"] == "tools" for e in r)
    assert [e["success"] for e in executed] == [True, False]
    assert all(isinstance(e["duration"], int | float) and e["duration"] >= 0 for e in executed)
    assert "error" not in executed[0] and executed[1]["error"]["kind"] == "invalid_argument"


@pytest.mark.parametrize("lang,src", [
    ("lua", """
local seen = {}
events.on("llm.*", function(e) seen[#seen + 1] = e end)
llm.complete({model = params.m, prompt = "hello", temperature = 0.4})
return seen
"""),
    ("js", """
const seen = [];
await events.on("llm.*", (e) => { seen.push(e); });
await llm.complete({model: params.m, prompt: "hello", temperature: 0.4});
return seen;
"""),
    ("tengo", """
seen := []
events.on("llm.*", func(e) { seen = append(seen, e) })
llm.complete({model: params.m, prompt: "hello", temperature: 0.4})
export seen
"""),
])
def test_llm_events_carry_the_request_and_the_answer(isolated, openai_server, lang, src):
    openai_server.reply("hi there", usage=(4, 2))
    isolated.server_config(openai_server)
    r, _ = run(isolated, lang, src, params={"m": SCRIPTED})
    request, response = r
    assert request["name"] == "llm.request" and request["caller"] == "llm.complete"
    assert request["model"] == SCRIPTED and request["temperature"] == 0.4
    assert request["messages"] == [{"role": "user", "content": "hello"}]
    assert response["name"] == "llm.response" and response["content"] == "hi there"
    assert response["usage"] == {"input_tokens": 4, "output_tokens": 2, "total_tokens": 6}
    assert response["duration"] >= 0 and response["finish_reason"] == "stop"
    assert openai_server.completions[0].body["temperature"] == 0.4


# -- nothing built when no one listens -------------------------------------------------------------------------

def test_no_model_wrapper_and_no_tool_observation_when_nothing_watches():
    from llmspell.config import Settings
    from llmspell.events import EventBus
    from llmspell.guardrails import Guardrails
    from llmspell.hooks import HookRegistry
    from llmspell.models.observers import Observers
    from llmspell.models.service import ModelService
    from llmspell.tools.observed import ToolObservers

    bus, hooks, guards = EventBus(), HookRegistry(), Guardrails()
    service = ModelService(Settings(), observers=Observers(hooks, guards, bus))
    tools = ToolObservers(hooks, bus)

    async def listener(event):
        return None

    assert service._observed("llm.complete") is None and not tools.watching()
    bus.on("app.*", listener)  # a listener of something else
    assert service._observed("llm.complete") is None and not tools.watching()
    sub = bus.on("llm.response", listener)
    assert service._observed("llm.complete") is not None and not tools.watching()
    bus.off(sub)
    bus.on("tool.executed", listener)
    assert service._observed("llm.complete") is None and tools.watching()
    chain, model = asyncio.run(service.model_for("agent", "test"))
    assert type(model).__name__ == "TestModel"
    hooks.register({"afterGenerate": listener})
    chain, model = asyncio.run(service.model_for("agent", "test"))
    assert type(model).__name__ == "ObservedModel" and model.wrapped.model_name == "test"


@pytest.mark.parametrize("lang,src", [
    ("lua", """
local got = {}
local second
events.on("x", function() got[#got + 1] = "first"; events.off(second) end)
second = events.on("x", function() got[#got + 1] = "second" end)
events.on("x", function() got[#got + 1] = "third" end)
events.emit("x")
events.emit("x")
return got
"""),
    ("js", """
const got = [];
let second;
await events.on("x", async () => { got.push("first"); await events.off(second); });
second = await events.on("x", () => { got.push("second"); });
await events.on("x", () => { got.push("third"); });
await events.emit("x");
await events.emit("x");
return got;
"""),
    ("tengo", """
got := []
second := 0
events.on("x", func(e) { got = append(got, "first"); events.off(second) })
second = events.on("x", func(e) { got = append(got, "second") })
events.on("x", func(e) { got = append(got, "third") })
events.emit("x")
events.emit("x")
export got
"""),
])
def test_a_listener_turning_another_off_stops_it_in_the_same_delivery(isolated, lang, src):
    r, _ = run(isolated, lang, src)
    assert r == ["first", "third", "first", "third"]
