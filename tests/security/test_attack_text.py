"""Text that is not valid Unicode, on every way out of a spell, in every language.

A spell can make text with no UTF-8 form: half of a surrogate pair in
JavaScript (``"Party time 🎉🎉".slice(0, 12)``) and Tengo (``char(0xD800)``),
bytes that are not UTF-8 in Lua (``"\\255"``, ``"\\u{D83C}"``).  A provider's
stream may cut a pair between two chunks.  Such text used to end the run
with a Python ``UnicodeEncodeError`` (losing what was printed before it),
``internal``, or a Tengo crash.  The one rule now (wellformed.py): a
surrogate pair is its character, every lone surrogate and every byte
sequence that is not UTF-8 becomes U+FFFD, on every path: output, log, files,
a model's prompt and answer, tool arguments, error messages, the result;
never an error the spell did not make.
"""

from __future__ import annotations

import json

import pytest
from tests.security.conftest import assert_clean, run_spell
from tests.support.openai_server import ScriptedOpenAIServer

from llmspell import Runtime, SpellError
from llmspell.sandbox import Policy

LANGS = ("lua", "js", "tengo")
LANGUAGE = {"lua": "lua", "js": "javascript", "tengo": "tengo"}
R = "\ufffd"

#: A cut emoji (a lone high surrogate, or in Lua its UTF-8 form) and a stray low one.
CUT = {"lua": '"Party time \\u{D83C}"', "js": '"Party time 🎉🎉".slice(0, 12)',
       "tengo": '"Party time " + string(char(0xD83C))'}
STRAY = {"lua": '"x\\255y"', "js": '"x\\udc00y"', "tengo": '"x" + string(char(0xDC00)) + "y"'}


def _everything(lang: str) -> str:
    """Prints, logs, writes and reads back, sends to a tool, raises and returns the text."""
    cut, stray = CUT[lang], STRAY[lang]
    return {
        "lua": f"""
print("before")
local cut, stray = {cut}, {stray}
print(cut)
log.warn("w", {{s = stray}})  -- (a string argument of a synchronous method: see the test below)
tools.file_write("allowed/t.txt", cut .. stray)
tools.register({{name = "echo", description = "echo", parameters = {{v = {{}}}}, handler = function(a) return a.v end}})
local ok, e = pcall(error, {{kind = "runtime_error", message = stray}})
return {{read = tools.file_read("allowed/t.txt"), echo = tools.echo({{v = cut}}), caught = e.message,
        [stray] = cut, pair = "\\u{{D83C}}\\u{{DF89}}", list = {{cut, stray}}}}
""",
        "js": f"""
console.log("before")
const cut = {cut}, stray = {stray}
console.log(cut)
log.warn(stray)
await tools.file_write("allowed/t.txt", cut + stray)
tools.register({{name: "echo", description: "echo", parameters: {{v: {{}}}}, handler: (a) => a.v}})
let caught
try {{ await tools.file_read(stray) }} catch (e) {{ caught = e.message.includes("{R}") ? "{R}" : e.message }}
return {{read: await tools.file_read("allowed/t.txt"), echo: await tools.echo({{v: cut}}), caught,
        [stray]: cut, pair: "\\ud83c\\udf89", list: [cut, stray]}}
""",
        "tengo": f"""
fmt.println("before")
cut := {cut}
stray := {stray}
fmt.println(cut)
log.warn(stray)
tools.file_write("allowed/t.txt", cut + stray)
tools.register({{name: "echo", description: "echo", parameters: {{v: {{}}}}, handler: func(a) {{ return a.v }}}})
r := {{read: tools.file_read("allowed/t.txt"), echo: tools.echo({{v: cut}}), caught: stray,
      pair: string(char(0xD83C)) + string(char(0xDF89)), list: [cut, stray]}}
r[stray] = cut
export r
""",
    }[lang]


def _expected(lang: str) -> dict:
    cut, stray = f"Party time {R}", f"x{R}y"
    return {"read": cut + stray, "echo": cut, "caught": R if lang == "js" else stray, stray: cut,
            "pair": "🎉", "list": [cut, stray]}


@pytest.mark.parametrize("lang", LANGS)
def test_every_way_out_of_the_cli_gets_replacement_characters(tmp_path, lang):
    (tmp_path / "allowed").mkdir()
    result = run_spell(lang, _everything(lang), "--json", "--allow-read=allowed", "--allow-write=allowed",
                       cwd=tmp_path)
    assert result.code == 0, result.err
    printed, last = result.out.rstrip("\n").rsplit("\n", 1)
    assert printed == f"before\nParty time {R}"
    assert json.loads(last) == _expected(lang)
    assert f"x{R}y" in result.err  # the log record
    assert (tmp_path / "allowed" / "t.txt").read_bytes() == f"Party time {R}x{R}y".encode()


@pytest.mark.parametrize("isolation", ["process", "inline"])
@pytest.mark.parametrize("lang", LANGS)
def test_every_way_out_of_runtime_gets_replacement_characters(tmp_path, lang, isolation):
    (tmp_path / "allowed").mkdir()
    out: list[str] = []
    rt = Runtime(cwd=tmp_path, output=out.append, isolation=isolation,
                 policy=Policy(allow_read=(str(tmp_path / "allowed"),), allow_write=(str(tmp_path / "allowed"),)))
    result = rt.run(source=_everything(lang), language=LANGUAGE[lang], filename=f"spell.{lang}")
    assert result == _expected(lang)
    assert "".join(out) == f"before\nParty time {R}\n"
    for text in out:
        text.encode("utf-8")  # valid Unicode, whatever the VM held


RAISES = {
    "lua": 'print("before")\nerror("bad " .. {cut})',
    "js": 'console.log("before")\nthrow new Error("bad " + {cut})',
    "tengo": 'fmt.println("before")\nexport error({{kind: "runtime_error", message: "bad " + {cut}}})',
}


@pytest.mark.parametrize("lang", LANGS)
def test_an_error_message_that_is_not_unicode_is_the_spells_error(tmp_path, lang):
    result = run_spell(lang, RAISES[lang].format(cut=CUT[lang]), cwd=tmp_path)
    assert result.code == 1
    assert result.out == "before\n"
    assert "runtime_error: " in result.err and f"bad Party time {R}" in result.err, result.err
    with pytest.raises(SpellError) as info:
        Runtime(cwd=tmp_path, output=lambda s: None).run(source=RAISES[lang].format(cut=CUT[lang]),
                                                         language=LANGUAGE[lang])
    assert info.value.kind == "runtime_error" and f"bad Party time {R}" in info.value.message


SYNC_CALLS = """
local bad, cut, good = "x\\255y", "Party time \\u{D83C}", "caf\\u{E9} \\u{1F389}"
local key = {[bad] = cut}
log.warn(bad, {[cut] = good})
local ok, e = pcall(json.decode, "\\255")
return {json.encode(bad), json.encode(key), json.encode(good), json.decode('"' .. cut .. '"'),
        ok, e.kind, e.message}
"""


def test_lua_bytes_given_to_a_synchronous_method_are_replacement_characters_too(tmp_path):
    """lupa converts a synchronous method's arguments before any code of ours runs; it reads Lua
    strings as Latin-1 (which cannot fail) and the host decodes them by the one rule, on the fast
    path of one or two scalar arguments and on the general path (a table) alike."""
    result = run_spell("lua", SYNC_CALLS, "--json", cwd=tmp_path)
    assert result.code == 0, result.err
    assert json.loads(result.out) == [f'"x{R}y"', f'{{"x{R}y":"Party time {R}"}}', '"caf\u00e9 \U0001f389"',
                                      f"Party time {R}", False, "invalid_argument",
                                      "json.decode: Expecting value at line 1 column 1"]
    assert f'WARNING spell.lua: x{R}y Party time {R}="caf\u00e9 \U0001f389"' in result.err


def test_tengo_json_decode_of_a_lone_surrogate_prints_and_exports(tmp_path):
    result = run_spell("tengo", 'x := json.decode(`"\\ud83c"`)\nfmt.println(x)\nexport x', "--json", cwd=tmp_path)
    assert result.code == 0, result.err
    assert result.out == f"{R}\n{json.dumps(R)}\n".replace(json.dumps(R), f'"{R}"')


# -- models: a prompt that is not Unicode, a stream that cuts a character -----------------------------

PROMPT = {
    "lua": 'return llm.complete({model = "openai-compatible:scripted-model", prompt = CUT}).content',
    "js": 'return (await llm.complete({model: "openai-compatible:scripted-model", prompt: CUT})).content',
    "tengo": 'export llm.complete({model: "openai-compatible:scripted-model", prompt: CUT}).content',
}
STREAM = {
    "lua": """local seen = {}
local r = llm.stream({model = "openai-compatible:scripted-model", prompt = "go"}, function(c) seen[#seen + 1] = c end)
return {seen = seen, content = r.content}""",
    "js": """const seen = []
const r = await llm.stream({model: "openai-compatible:scripted-model", prompt: "go"}, (c) => { seen.push(c) })
return {seen, content: r.content}""",
    "tengo": """seen := []
r := llm.stream({model: "openai-compatible:scripted-model", prompt: "go"}, func(c) { seen = append(seen, c) })
export {seen: seen, content: r.content}""",
}


def _config(tmp_path, server: ScriptedOpenAIServer) -> None:
    (tmp_path / "llmspell.toml").write_text(
        f'[llm]\nmax_retries = 0\n[providers.openai-compatible]\nbase_url = "{server.base_url}"\n')


@pytest.mark.parametrize("lang", LANGS)
def test_a_prompt_that_is_not_unicode_reaches_the_provider_with_a_replacement_character(tmp_path, lang):
    with ScriptedOpenAIServer() as server:
        server.always("fine")
        _config(tmp_path, server)
        result = run_spell(lang, PROMPT[lang].replace("CUT", CUT[lang]), cwd=tmp_path)
        assert result.code == 0, result.err
        assert result.out == "fine\n"
        assert server.completions[0].messages[-1]["content"] == f"Party time {R}"


@pytest.mark.parametrize("isolation", ["process", "inline"])
@pytest.mark.parametrize("lang", LANGS)
def test_a_stream_that_cuts_an_emoji_hands_the_spell_whole_characters(tmp_path, lang, isolation):
    with ScriptedOpenAIServer() as server:
        # JSON carries each half as a \\u escape: the client decodes two lone surrogates.
        server.always("ok 🎉! \ud83c", chunks=["ok \ud83c", "\udf89!", " \ud83c"])
        _config(tmp_path, server)
        rt = Runtime(cwd=tmp_path, output=lambda s: None, isolation=isolation)
        result = rt.run(source=STREAM[lang], language=LANGUAGE[lang], filename=f"spell.{lang}")
    assert result == {"seen": ["ok ", "🎉!", " ", R], "content": f"ok 🎉! {R}"}
    assert_clean(json.dumps(result))


# -- host data in: the same text in every language ------------------------------------------------

PARAMS = {"lua": "return params.x .. params.y", "js": "return params.x + params.y",
          "tengo": "export params.x + params.y"}


@pytest.mark.parametrize("lang", LANGS)
def test_parameters_with_lone_surrogates_are_the_same_text_in_every_language(tmp_path, lang):
    """Two halves of a pair given as two parameters: JavaScript and Tengo
    joined them into a character, Lua made each U+FFFD."""
    result = run_spell(lang, PARAMS[lang], "-p", 'x="a\\ud83c"', "-p", 'y="\\udf89b"', cwd=tmp_path)
    assert result.code == 0, result.err
    assert result.out == f"a{R}{R}b\n"
    rt = Runtime(cwd=tmp_path, output=lambda s: None, isolation="inline")
    got = rt.run(source=PARAMS[lang], language=LANGUAGE[lang], params={"x": "a\ud83c", "y": "\udf89b"})
    assert got == f"a{R}{R}b"


def test_tengo_os_file_writes_put_a_replacement_character_for_a_lone_surrogate(tmp_path):
    """Go strings are bytes: a raw byte is written as it is, but a lone
    surrogate (which Go's string(rune) never makes) is U+FFFD's bytes."""
    (tmp_path / "allowed").mkdir()
    source = """os := import("os")
f := os.create("allowed/o.txt")
a := f.write_string("x" + string(char(0xD800)) + "y")
b := f.write("z" + string(char(0xDC00)))
f.close()
export [a, b]"""
    result = run_spell("tengo", source, "--json", "--allow-read=allowed", "--allow-write=allowed", cwd=tmp_path)
    assert result.code == 0, result.err
    assert json.loads(result.out) == [5, 4]
    assert (tmp_path / "allowed" / "o.txt").read_bytes() == f"x{R}yz{R}".encode()


def test_a_tengo_char_that_is_a_surrogate_crosses_as_a_replacement_character(tmp_path):
    source = """tools.register({name: "echo", description: "e", parameters: {v: {}}, handler: func(a) { return a.v }})
export [char(0xD800), char(65), tools.echo({v: char(0xDC00)})]"""
    result = run_spell("tengo", source, "--json", cwd=tmp_path)
    assert result.code == 0, result.err
    assert json.loads(result.out) == [R, "A", R]
