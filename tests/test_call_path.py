"""The one call path (dispatch.py): an interceptor installed through the
public API sees every kind of bridge call from every language, the same way.

Every call kind a spell can make — a synchronous method on its fast path and
with an options table, an async one, a dynamic member (``tools.NAME``), a
handle's method, JSON (which JavaScript answers inside its VM), a call that
fails, and calls refused by the policy or the bridge-call budget — must reach
the interceptor with the same name, arguments and outcome in Lua, JavaScript
and Tengo; and an interceptor that raises refuses the call with its error.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from llmspell import Call, Interceptor, Policy, Runtime, SpellError
from llmspell.values import HostHandle, ScriptFunction

LANGUAGES = ("lua", "javascript", "tengo")


class Probe(Interceptor):
    """Records (qualname, args, outcome) of every call, and pairs before/after."""

    def __init__(self) -> None:
        self.records: list[tuple[str, Any, Any]] = []
        self.open: list[Call] = []
        self.languages: set[str | None] = set()
        self.durations: list[float] = []

    def before(self, call: Call) -> None:
        self.open.append(call)

    def after(self, call: Call) -> None:
        assert self.open.pop() is call  # every after has its before
        outcome = ("ok",) if call.error is None else ("error", call.error.kind)
        self.records.append((call.qualname, _shown(call.args), outcome))
        self.languages.add(call.language)
        self.durations.append(call.duration)


def _shown(value: Any) -> Any:
    if isinstance(value, ScriptFunction):
        return "<function>"
    if isinstance(value, HostHandle):
        return "<handle>"
    if isinstance(value, dict):
        return {k: _shown(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_shown(v) for v in value]
    return value


# One spell per language, making the same calls in the same order.
EVERY_KIND = {
    "lua": """
log.info("x")
log.info("y", {n = 1})
local r = llm.complete({prompt = "hi", model = "test"})
local c = tools.calculator("1 + 2")
local t = tools.register({name = "double", description = "twice n",
                          parameters = {n = {type = "integer", required = true}},
                          handler = function(p) return p.n * 2 end})
local d = t:call({n = 21})
local j = json.encode({a = 1})
local ok1, e1 = pcall(function() return json.decode("{bad") end)
local ok2, e2 = pcall(function() return env.get("HOME") end)
return {c = c, d = d, j = j, answered = type(r.content) == "string", failed = e1.kind, refused = e2.kind}
""",
    "javascript": """
await log.info("x");
await log.info("y", {n: 1});
const r = await llm.complete({prompt: "hi", model: "test"});
const c = await tools.calculator("1 + 2");
const t = await tools.register({name: "double", description: "twice n",
                                parameters: {n: {type: "integer", required: true}},
                                handler: (p) => p.n * 2});
const d = await t.call({n: 21});
const j = json.encode({a: 1});
let failed, refused;
try { json.decode("{bad"); } catch (e) { failed = e.kind; }
try { await env.get("HOME"); } catch (e) { refused = e.kind; }
return {c, d, j, answered: typeof r.content === "string", failed, refused};
""",
    "tengo": """
log.info("x")
log.info("y", {n: 1})
r := llm.complete({prompt: "hi", model: "test"})
c := tools.calculator("1 + 2")
t := tools.register({name: "double", description: "twice n",
                     parameters: {n: {type: "integer", required: true}},
                     handler: func(p) { return p.n * 2 }})
d := t.call({n: 21})
j := json.encode({a: 1})
e1 := json.decode("{bad")
e2 := env.get("HOME")
export {c: c, d: d, j: j, answered: is_string(r.content), failed: e1.value.kind, refused: e2.value.kind}
""",
}

EXPECTED = [
    ("log.info", ["x"], ("ok",)),
    ("log.info", ["y", {"n": 1}], ("ok",)),
    ("llm.complete", [{"prompt": "hi", "model": "test"}], ("ok",)),
    ("tools.call", ["calculator", "1 + 2"], ("ok",)),
    ("tools.register", [{"name": "double", "description": "twice n",
                         "parameters": {"n": {"type": "integer", "required": True}}, "handler": "<function>"}],
     ("ok",)),
    ("tool.call", [{"n": 21}], ("ok",)),
    ("json.encode", [{"a": 1}], ("ok",)),
    ("json.decode", ["{bad"], ("error", "invalid_argument")),
    ("env.get", ["HOME"], ("error", "permission_denied")),
]


def _runtime(isolated: Any, interceptors: list[Interceptor] | None = None, **policy: Any) -> tuple[Runtime, list]:
    return isolated.runtime(model="test", isolation="inline", interceptors=interceptors,
                            policy=Policy(**policy))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_probe_sees_every_kind_of_call(isolated, language):
    probe = Probe()
    rt, _ = _runtime(isolated, [probe], disabled_builtins=["env.get"])
    result = rt.run(source=EVERY_KIND[language], language=language)
    # The spell got its normal results and errors.
    assert result == {"c": 3, "d": 42, "j": '{"a":1}', "answered": True,
                      "failed": "invalid_argument", "refused": "permission_denied"}
    assert probe.records == EXPECTED
    assert probe.open == []
    assert probe.languages == {language}
    assert all(d >= 0 for d in probe.durations)


def test_the_probe_sees_the_same_in_every_language(isolated):
    seen = {}
    for language in LANGUAGES:
        probe = Probe()
        rt, _ = _runtime(isolated, [probe], disabled_builtins=["env.get"])
        rt.run(source=EVERY_KIND[language], language=language)
        seen[language] = probe.records
    assert seen["lua"] == seen["javascript"] == seen["tengo"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_spell_gets_the_same_error_with_and_without_a_probe(isolated, language):
    source = {
        "lua": 'local ok, e = pcall(function() return tools.calculator("2 +") end) return {e.kind, e.message}',
        "javascript": 'try { await tools.calculator("2 +"); } catch (e) { return [e.kind, e.message]; }',
        "tengo": 'e := tools.calculator("2 +")\nexport [e.value.kind, e.value.message]',
    }[language]
    plain = _runtime(isolated)[0].run(source=source, language=language)
    probe = Probe()
    probed = _runtime(isolated, [probe])[0].run(source=source, language=language)
    assert probed == plain and plain[0] == "invalid_argument"
    assert probe.records == [("tools.call", ["calculator", "2 +"], ("error", "invalid_argument"))]


BUDGET = {
    "lua": 'log.info("a")\nlog.info("b")\nlog.info("c")\nreturn "finished"',
    "javascript": 'await log.info("a"); await log.info("b"); await log.info("c"); return "finished";',
    "tengo": 'log.info("a")\nlog.info("b")\nlog.info("c")\nexport "finished"',
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_call_refused_by_the_budget_is_seen(isolated, language):
    probe = Probe()
    rt, _ = _runtime(isolated, [probe], max_bridge_calls=2)
    with pytest.raises(SpellError) as info:
        rt.run(source=BUDGET[language], language=language)
    assert info.value.kind == "limit_exceeded" and "more than 2 bridge calls" in info.value.message
    assert probe.records == [("log.info", ["a"], ("ok",)), ("log.info", ["b"], ("ok",)),
                             ("log.info", ["c"], ("error", "limit_exceeded"))]


class Refuse(Interceptor):
    """Refuses calls of one method, as a policy hook would."""

    def __init__(self, qualname: str) -> None:
        self.qualname = qualname

    def before(self, call: Call) -> None:
        if call.qualname == self.qualname:
            raise SpellError("permission_denied", f"{call.qualname}: refused by the embedder")


REFUSED = {
    "lua": """
tools.register({name = "shout", description = "loud", handler = function(p) print("handler ran") return "HI" end})
local ok, e = pcall(function() return tools.shout({loud = true}) end)
return {e.kind, e.message}
""",
    "javascript": """
await tools.register({name: "shout", description: "loud", handler: (p) => { print("handler ran"); return "HI"; }});
try { await tools.shout({loud: true}); } catch (e) { return [e.kind, e.message]; }
""",
    "tengo": """
tools.register({name: "shout", description: "loud", handler: func(p) { fmt.println("handler ran"); return "HI" }})
e := tools.shout({loud: true})
export [e.value.kind, e.value.message]
""",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_interceptor_refuses_a_call_with_its_error(isolated, language):
    probe = Probe()
    rt, out = _runtime(isolated, [probe, Refuse("tools.call")])
    source = REFUSED[language]
    if language == "tengo":
        source = 'fmt := import("fmt")\n' + source
    result = rt.run(source=source, language=language)
    assert result == ["permission_denied", "tools.call: refused by the embedder"]
    assert "handler ran" not in "".join(out)  # the tool never ran
    # An earlier interceptor sees the refused call, with the refusal as its outcome.
    assert probe.records[-1] == ("tools.call", ["shout", {"loud": True}], ("error", "permission_denied"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_interceptor_refuses_a_sync_call_too(isolated, language):
    rt, _ = _runtime(isolated, [Refuse("log.info")])
    source = {
        "lua": 'local ok, e = pcall(function() return log.info("x") end) return e.message',
        "javascript": 'try { await log.info("x"); } catch (e) { return e.message; }',
        "tengo": 'export log.info("x").value.message',
    }[language]
    assert rt.run(source=source, language=language) == "log.info: refused by the embedder"


class Rewrite(Interceptor):
    """Rewrites arguments before and the result after (as hooks will)."""

    def before(self, call: Call) -> None:
        if call.qualname == "tools.call":
            call.args = [call.args[0], "6 * 7"]

    def after(self, call: Call) -> None:
        if call.qualname == "tools.call" and call.error is None:
            call.result = call.result + 1


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_interceptor_may_change_arguments_and_result(isolated, language):
    rt, _ = _runtime(isolated, [Rewrite()])
    source = {"lua": 'return tools.calculator("1 + 1")', "javascript": 'return await tools.calculator("1 + 1");',
              "tengo": 'export tools.calculator("1 + 1")'}[language]
    assert rt.run(source=source, language=language) == 43


class Broken(Interceptor):
    def after(self, call: Call) -> None:
        raise RuntimeError("a bug in the embedder's interceptor")


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_broken_interceptor_is_an_internal_error_not_a_traceback(isolated, language):
    rt, _ = _runtime(isolated, [Broken()])
    source = {"lua": 'local ok, e = pcall(function() return log.info("x") end) return {e.kind, e.message}',
              "javascript": 'try { await log.info("x"); } catch (e) { return [e.kind, e.message]; }',
              "tengo": 'e := log.info("x")\nexport [e.value.kind, e.value.message]'}[language]
    kind, message = rt.run(source=source, language=language)
    assert kind == "internal" and message.startswith("log.info: ")
    assert "RuntimeError" not in message and "Traceback" not in message


def test_add_interceptor_and_what_is_not_one(isolated):
    probe = Probe()
    rt, _ = _runtime(isolated)
    rt.add_interceptor(probe)
    rt.run(source='log.info("x")', language="lua")
    assert probe.records == [("log.info", ["x"], ("ok",))]
    with pytest.raises(SpellError) as info:
        rt.add_interceptor(lambda call: None)  # type: ignore[arg-type]
    assert info.value.kind == "invalid_argument" and "Interceptor" in info.value.message
    with pytest.raises(SpellError):
        Runtime(interceptors=[object()])  # type: ignore[list-item]


@pytest.mark.parametrize("language", LANGUAGES)
def test_interceptors_run_in_the_worker_under_process_isolation(isolated, language):
    rt, _ = isolated.runtime(model="test", interceptors=[Refuse("log.info")])
    source = {"lua": 'local ok, e = pcall(function() return log.info("x") end) return e.message',
              "javascript": 'try { await log.info("x"); } catch (e) { return e.message; }',
              "tengo": 'export log.info("x").value.message'}[language]
    assert rt.run(source=source, language=language) == "log.info: refused by the embedder"


def test_a_javascript_spell_cannot_hide_its_json_calls(isolated):
    """JSON runs inside the VM in JavaScript; what reports it to the host does
    not go through built-ins the spell may replace first."""
    probe = Probe()
    rt, _ = _runtime(isolated, [probe])
    source = """
Array.prototype.push = function () { return 0; };
globalThis.performance = { now() { throw new Error("no clock"); } };
json.encode([1]);
try { json.decode("{"); } catch (e) {}
return json.decode("2");
"""
    assert rt.run(source=source, language="javascript") == 2
    assert probe.records == [("json.encode", [[1]], ("ok",)), ("json.decode", ["{"], ("error", "invalid_argument")),
                             ("json.decode", ["2"], ("ok",))]


class Slow(Interceptor):
    """Waits (as a hook that awaits a script callback would) around async calls."""

    def __init__(self) -> None:
        self.waited: list[str] = []

    def before(self, call: Call) -> Any:
        if call.is_async:
            return self._wait(call.qualname + " before")
        return None

    def after(self, call: Call) -> Any:
        if call.is_async:
            return self._wait(call.qualname + " after")
        return None

    async def _wait(self, what: str) -> None:
        await asyncio.sleep(0)
        self.waited.append(what)


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_interceptor_may_wait_around_an_async_call(isolated, language):
    slow = Slow()
    rt, _ = _runtime(isolated, [slow])
    source = {"lua": 'log.info("x") return tools.calculator("2 * 3")',
              "javascript": 'await log.info("x"); return await tools.calculator("2 * 3");',
              "tengo": 'log.info("x")\nexport tools.calculator("2 * 3")'}[language]
    assert rt.run(source=source, language=language) == 6
    assert slow.waited == ["tools.call before", "tools.call after"]


class WaitsOnSync(Interceptor):
    def before(self, call: Call) -> Any:
        return asyncio.sleep(0)


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_interceptor_cannot_wait_on_a_sync_call(isolated, language, recwarn):
    rt, _ = _runtime(isolated, [WaitsOnSync()])
    source = {"lua": 'local ok, e = pcall(function() return log.info("x") end) return e.kind',
              "javascript": 'try { await log.info("x"); } catch (e) { return e.kind; }',
              "tengo": 'export log.info("x").value.kind'}[language]
    assert rt.run(source=source, language=language) == "internal"
    assert not [w for w in recwarn if "never awaited" in str(w.message)]  # the coroutine was closed
