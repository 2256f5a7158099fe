"""``max_llm_calls`` and ``max_tokens`` in Lua, JavaScript and Tengo, through ``Runtime``, now kept by the
run's usage account (models/usage.py: pydantic-ai's ``RunUsage`` under ``UsageLimits``).

The texts are the ones spells have always seen; the limits end the run (no pcall, try/catch or Tengo error
value swallows them); requests in flight at once each take their place under the limit before they are sent;
and an agent run given the same account counts against the same limits.
"""

from __future__ import annotations

import asyncio

import pytest

from llmspell import SpellError
from llmspell.errors import SpellError as HostSpellError
from llmspell.models.usage import UsageAccount
from llmspell.sandbox import Policy

LANGS = {"lua": "lua", "js": "javascript", "tengo": "tengo"}

#: Five calls, each failure swallowed by the spell if it could be; prints how far it got.
SWALLOW = {
    "lua": """
for i = 1, 5 do
  local ok = pcall(llm.{what}, {{prompt = 'hi'}}, function(t) end)
  print('call', i, ok)
end
return 'survived'
""",
    "js": """
for (let i = 1; i <= 5; i++) {{
  let ok = true;
  try {{ await llm.{what}({{prompt: 'hi'}}, (t) => {{}}); }} catch (e) {{ ok = false; }}
  console.log('call', i, ok);
}}
return 'survived';
""",
    "tengo": """
for i := 1; i <= 5; i++ {{
  r := llm.{what}({{prompt: "hi"}}, func(t) {{}})
  fmt.println("call", i, !is_error(r))
}}
export "survived"
""",
}


def spell(lang: str, what: str) -> str:
    src = SWALLOW[lang].format(what=what)
    return src if what == "stream" else src.replace(", function(t) end", "").replace(", (t) => {}", "") \
        .replace(", func(t) {}", "")


def fails(isolated, lang, src, policy, isolation="inline") -> tuple[SpellError, str]:
    rt, out = isolated.runtime(model="test", policy=policy, isolation=isolation)
    with pytest.raises(SpellError) as info:
        rt.run(source=src, language=LANGS[lang], filename=f"spell.{lang}")
    return info.value, "".join(out)


@pytest.mark.parametrize("what", ["complete", "stream"])
@pytest.mark.parametrize("lang", LANGS)
def test_max_llm_calls_ends_the_run_with_the_same_error(isolated, lang, what):
    err, out = fails(isolated, lang, spell(lang, what), Policy(max_llm_calls=2))
    assert err.kind == "limit_exceeded"
    assert err.message == f"llm.{what}: more than 2 LLM calls in one run"
    assert err.hint == "raise it with --max-llm-calls N"
    assert out.replace("\t", " ").split("\n") == ["call 1 true", "call 2 true", ""]  # the third ended the run


@pytest.mark.parametrize("lang", LANGS)
def test_max_llm_calls_in_a_worker_process(isolated, lang):
    err, _ = fails(isolated, lang, spell(lang, "complete"), Policy(max_llm_calls=1), isolation="process")
    assert (err.kind, err.message) == ("limit_exceeded", "llm.complete: more than 1 LLM calls in one run")


def test_requests_in_flight_at_once_each_take_a_place_under_the_limit(isolated):
    src = """
const answers = await Promise.allSettled([1, 2, 3, 4, 5].map(() => llm.complete({prompt: 'hi'})));
return answers.map((a) => a.status);
"""
    err, _ = fails(isolated, "js", src, Policy(max_llm_calls=2))
    assert (err.kind, err.message) == ("limit_exceeded", "llm.complete: more than 2 LLM calls in one run")


def test_complete_and_stream_count_against_one_limit(isolated):
    src = "llm.complete({prompt = 'hi'})\nllm.stream({prompt = 'hi'}, function(t) end)\nreturn 'survived'"
    err, _ = fails(isolated, "lua", src, Policy(max_llm_calls=1))
    assert err.message == "llm.stream: more than 1 LLM calls in one run"


def one_call_tokens(isolated) -> int:
    rt, _ = isolated.runtime(model="test", isolation="inline")
    return rt.run(source="return llm.complete({prompt = 'hi'}).usage.total_tokens", language="lua")


@pytest.mark.parametrize("what", ["complete", "stream"])
@pytest.mark.parametrize("lang", LANGS)
def test_max_tokens_ends_the_run_with_the_same_error(isolated, lang, what):
    per_call = one_call_tokens(isolated)
    assert per_call > 10
    limit = per_call + per_call // 2  # the first answer fits, the second does not
    err, out = fails(isolated, lang, spell(lang, what), Policy(max_tokens=limit))
    assert (err.kind, err.message) == ("limit_exceeded", f"the spell used more than {limit} tokens")
    lines = out.strip().split("\n")
    assert len(lines) == 1 and lines[0].replace("\t", " ") == "call 1 true"  # the second answer is never seen


def test_max_tokens_in_a_worker_process(isolated):
    per_call = one_call_tokens(isolated)
    err, _ = fails(isolated, "tengo", spell("tengo", "complete"), Policy(max_tokens=per_call), isolation="process")
    assert (err.kind, err.message) == ("limit_exceeded", f"the spell used more than {per_call} tokens")


def test_a_spell_under_its_limits_runs_to_the_end(isolated):
    per_call = one_call_tokens(isolated)
    policy = Policy(max_llm_calls=5, max_tokens=5 * per_call)
    rt, out = isolated.runtime(model="test", isolation="inline", policy=policy)
    assert rt.run(source=spell("lua", "complete"), language="lua") == "survived"
    assert "".join(out).count("true") == 5


# -- the account is pydantic-ai's: an agent run shares it ----------------------------------------------

def test_an_agent_run_counts_in_the_same_account_under_the_same_limits():
    from pydantic_ai import Agent
    from pydantic_ai.exceptions import UsageLimitExceeded
    from pydantic_ai.models.test import TestModel

    account = UsageAccount(max_llm_calls=3)
    account.start_request("llm.complete")
    agent = Agent(TestModel())

    async def agent_run() -> None:
        await agent.run("hi", usage=account.usage, usage_limits=account.limits)

    asyncio.run(agent_run())
    asyncio.run(agent_run())
    assert account.requests == 3 and account.total_tokens > 0
    with pytest.raises(UsageLimitExceeded):
        asyncio.run(agent_run())
    with pytest.raises(HostSpellError) as info:
        account.start_request("llm.complete")
    assert info.value.message == "llm.complete: more than 3 LLM calls in one run"


def test_tokens_an_agent_used_count_against_max_tokens():
    from pydantic_ai import Agent
    from pydantic_ai.models.test import TestModel
    from pydantic_ai.usage import RequestUsage

    account = UsageAccount(max_tokens=1000)
    asyncio.run(Agent(TestModel()).run("hi", usage=account.usage, usage_limits=account.limits))
    used = account.total_tokens
    assert 0 < used < 1000
    with pytest.raises(HostSpellError) as info:
        account.add(RequestUsage(input_tokens=1000 - used, output_tokens=1))
    assert info.value.message == "the spell used more than 1000 tokens"
