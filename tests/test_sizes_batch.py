"""Realistic sizes on both paths of every engine, in a worker and inline.

test_sizes_parity.py sends strings up to 4 MB and 10 000-wide tables through
every bridge, one call at a time, from the CLI.  Here the sizes a real spell
meets at the top end (a 10 MB string, ASCII and not; arrays and maps of
100 000 elements) go in as parameters and through every bridge that takes
data, on the fast path of each engine (a lone call with plain arguments: a
string to ``json.encode``) and on its general path (a table argument, a
registered tool's callback, and in JavaScript a batch of calls settled
together by ``Promise.all``), under process isolation and inline, and come
back as the run's result.  Values are compared by length and SHA-256, never
printed whole.  One run per language and isolation carries every case.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sys
from typing import Any

import pytest
from tests.test_sizes_parity import _tokens

from llmspell import Policy, Runtime

LANGUAGES = ("lua", "javascript", "tengo")
MiB = 1 << 20

#: 10 MB of ASCII and 10 MB of UTF-8 made of 1-, 2-, 3- and 4-byte characters.
BIG = "0123456789abcdef" * (10 * MiB // 16)
UNI = ("aé✓😀" * (10 * MiB // 10))[: 10 * MiB // 4]
ARRAY = [f"item {i} é" for i in range(100_000)]
MAP = {f"k{i:06d}": i for i in range(100_000)}
#: A prompt of thousands of characters (the ``test`` model counts its words).
PROMPT = " ".join(f"word{i}" for i in range(3000))
#: 1 byte, 1 KiB and 1 MiB, logged (the record is charged to --max-output).
SMALL = {"one": "x", "kib": "k" * 1024, "mib": "m" * MiB}
#: The longest expression the calculator takes (1000 characters): 500 ones.
SUM = "+".join(["1"] * 500)

SPELLS = {
    "lua": """
tools.register({name = "echo", description = "echo", parameters = {v = {}}, handler = function(a) return a.v end})
local out = {}
for _, name in ipairs({"big", "uni", "array", "map"}) do
  local v = params[name]
  local r = {}
  if type(v) == "string" then r.fast = json.decode(json.encode(v)) end  -- a lone scalar call
  r.general = json.decode(json.encode({v = v})).v                       -- a table argument
  r.tool = tools.echo({v = v})
  if type(v) == "string" then
    tools.file_write("out/" .. name .. ".txt", v)
    r.file = tools.file_read("out/" .. name .. ".txt")
  end
  out[name] = r
end
for name, s in pairs(params.small) do log.warn(name .. "=" .. s) end
out.param = params.big
out.tokens = llm.complete({model = "test", prompt = params.prompt}).usage.input_tokens
out.sum = tools.calculator(params.sum)
return out
""",
    "javascript": """
tools.register({name: "echo", description: "echo", parameters: {v: {}}, handler: (a) => a.v});
const out = {};
const names = ["big", "uni", "array", "map"];
for (const name of names) {
  const v = params[name];
  const r = {};
  if (typeof v === "string") r.fast = json.decode(await json.encode(v));  // a lone call
  r.general = json.decode(json.encode({v})).v;
  out[name] = r;
}
// The batch: every call in flight at once, settled together.
const strings = names.filter((n) => typeof params[n] === "string");
const [echoes, writes] = await Promise.all([
  Promise.all(names.map((n) => tools.echo({v: params[n]}))),
  Promise.all(strings.map((n) => tools.file_write("out/" + n + ".txt", params[n]))),
]);
const [reads, completion, sum] = await Promise.all([
  Promise.all(strings.map((n) => tools.file_read("out/" + n + ".txt"))),
  llm.complete({model: "test", prompt: params.prompt}),
  tools.calculator(params.sum),
  Promise.all(Object.entries(params.small).map(([k, s]) => log.warn(k + "=" + s))),
]);
names.forEach((n, i) => { out[n].tool = echoes[i] });
strings.forEach((n, i) => { out[n].file = reads[i] });
out.param = params.big;
out.tokens = completion.usage.input_tokens;
out.sum = sum;
return out;
""",
    "tengo": """
tools.register({name: "echo", description: "echo", parameters: {v: {}}, handler: func(a) { return a.v }})
out := {}
for name in ["big", "uni", "array", "map"] {
  v := params[name]
  r := {}
  if is_string(v) { r.fast = json.decode(json.encode(v)) }
  r.general = json.decode(json.encode({v: v})).v
  r.tool = tools.echo({v: v})
  if is_string(v) {
    tools.file_write("out/" + name + ".txt", v)
    r.file = tools.file_read("out/" + name + ".txt")
  }
  out[name] = r
}
for name, s in params.small { log.warn(name + "=" + s) }
out.param = params.big
out.tokens = llm.complete({model: "test", prompt: params.prompt}).usage.input_tokens
out.sum = tools.calculator(params.sum)
export out
""",
}


def _digest(value: Any) -> tuple[int, str]:
    """A value's size and SHA-256 (of its exact JSON text): what a test compares."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return len(text), hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("isolation", ["process", "inline"])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_ten_megabytes_and_a_hundred_thousand_elements_through_every_bridge(tmp_path, capfd, lang, isolation):
    (tmp_path / "out").mkdir()
    params = {"big": BIG, "uni": UNI, "array": ARRAY, "map": MAP, "prompt": PROMPT, "small": SMALL, "sum": SUM}
    rt = Runtime(cwd=tmp_path, output=lambda s: None, isolation=isolation,
                 policy=Policy(allow_read=(str(tmp_path / "out"),), allow_write=(str(tmp_path / "out"),),
                               max_output=4 * MiB, max_memory=2048 * MiB, timeout=120))
    # The spell's log records on stderr, as the CLI shows them (a worker writes them there itself).
    spell_log = logging.getLogger("llmspell.spell")
    handler = logging.StreamHandler(sys.stderr)
    spell_log.addHandler(handler)
    try:
        result = rt.run(source=SPELLS[lang], language=lang, params=params, filename=f"sizes.{lang}")
    finally:
        spell_log.removeHandler(handler)
    records = capfd.readouterr().err.splitlines()
    for name in ("big", "uni", "array", "map"):
        want = _digest(params[name])
        paths = ("fast", "general", "tool", "file") if isinstance(params[name], str) else ("general", "tool")
        assert sorted(result[name]) == sorted(paths), name
        for path in paths:
            assert _digest(result[name][path]) == want, f"{lang} {isolation}: {name} through {path}"
    assert _digest(result["param"]) == _digest(BIG)
    assert result["tokens"] == _tokens(PROMPT)
    assert result["sum"] == 500
    logged = {m.split("=", 1)[0].rsplit(" ", 1)[-1]: m.split("=", 1)[1] for m in records if "=" in m}
    assert {k: _digest(v) for k, v in logged.items()} == {k: _digest(v) for k, v in SMALL.items()}
    for name in ("big", "uni"):
        assert _digest((tmp_path / "out" / f"{name}.txt").read_text(encoding="utf-8")) == _digest(params[name])


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_log_record_larger_than_what_is_left_of_max_output_ends_the_run_unwritten(tmp_path, caplog, lang):
    from llmspell import SpellError

    source = {"lua": "log.warn(params.s)\nreturn 1", "javascript": "await log.warn(params.s)\nreturn 1",
              "tengo": "log.warn(params.s)\nexport 1"}[lang]
    rt = Runtime(cwd=tmp_path, output=lambda s: None, policy=Policy(max_output=MiB))
    with caplog.at_level(logging.WARNING, logger="llmspell.spell"), pytest.raises(SpellError) as info:
        rt.run(source=source, language=lang, params={"s": "m" * MiB})
    assert info.value.kind == "limit_exceeded"
    assert not [m for m in caplog.messages if "mmmm" in m]
