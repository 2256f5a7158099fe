"""Spell output goes per run: one ``Runtime`` runs many spells at once (``asyncio.gather`` of ``arun``),
each with its own ``output``, in Lua, JavaScript and Tengo, inline and in worker processes.

Each spell prints a few hundred kilobytes, tagged with its own name, with bridge calls in between (so that
inline runs take turns on the event loop); every output must hold exactly its own spell's lines, all of
them, in order, and the runtime's own ``output`` nothing.
"""

from __future__ import annotations

import asyncio

import pytest

LANGS = {"lua": "lua", "js": "javascript", "tengo": "tengo"}

PRINTS = {
    "lua": """
for i = 1, params.n do
  print(params.tag .. ":" .. i .. ":" .. params.pad)
  if i % 100 == 0 then tools.datetime() end
end
return params.tag
""",
    "js": """
for (let i = 1; i <= params.n; i++) {
  console.log(params.tag + ":" + i + ":" + params.pad);
  if (i % 100 === 0) await tools.datetime();
}
return params.tag;
""",
    "tengo": """
for i := 1; i <= params.n; i++ {
  fmt.println(params.tag + ":" + string(i) + ":" + params.pad)
  if i % 100 == 0 { tools.datetime() }
}
export params.tag
""",
}

LINES = 2000
PAD = "x" * 120  # about 250 KB per spell


def expected(tag: str) -> str:
    return "".join(f"{tag}:{i}:{PAD}\n" for i in range(1, LINES + 1))


@pytest.mark.parametrize("isolation", ["inline", "process"])
def test_concurrent_runs_each_print_to_their_own_output(isolated, isolation):
    rt, shared = isolated.runtime(isolation=isolation)
    default_output = rt.output
    outputs: dict[str, list[str]] = {}

    async def main() -> list:
        runs = []
        for lang, language in LANGS.items():
            for n in (1, 2):
                tag = f"{lang}{n}"
                outputs[tag] = []
                runs.append(rt.arun(source=PRINTS[lang], language=language, filename=f"{tag}.{lang}",
                                    params={"tag": tag, "n": LINES, "pad": PAD}, output=outputs[tag].append))
        return await asyncio.gather(*runs)

    results = asyncio.run(main())
    assert results == list(outputs)
    for tag, chunks in outputs.items():
        assert "".join(chunks) == expected(tag), tag
    assert shared == [] and rt.output is default_output


@pytest.mark.parametrize("lang", LANGS)
def test_a_run_without_its_own_output_uses_the_runtimes(isolated, lang):
    rt, shared = isolated.runtime(isolation="inline")
    own: list[str] = []
    params = {"tag": "t", "n": 3, "pad": "p"}
    rt.run(source=PRINTS[lang], language=LANGS[lang], params=params, output=own.append)
    rt.run(source=PRINTS[lang], language=LANGS[lang], params=params)
    assert "".join(own) == "".join(shared) == "t:1:p\nt:2:p\nt:3:p\n"


def test_each_run_has_its_own_output_limit(isolated):
    """The output budget is the run's too: one spell over its limit does not cut another's output."""
    from llmspell import SpellError
    from llmspell.sandbox import Policy

    rt, _ = isolated.runtime(isolation="process", policy=Policy(max_output=len(expected("big")) - 1))
    big: list[str] = []
    small: list[str] = []

    async def main() -> list:
        return await asyncio.gather(
            rt.arun(source=PRINTS["lua"], language="lua", params={"tag": "big", "n": LINES, "pad": PAD},
                    output=big.append),
            rt.arun(source=PRINTS["js"], language="javascript", params={"tag": "small", "n": 100, "pad": PAD},
                    output=small.append),
            return_exceptions=True)

    over, fine = asyncio.run(main())
    assert isinstance(over, SpellError) and over.kind == "limit_exceeded"
    assert fine == "small" and "".join(small) == "".join(f"small:{i}:{PAD}\n" for i in range(1, 101))
    assert expected("big").startswith("".join(big)) and len("".join(big)) < len(expected("big"))
