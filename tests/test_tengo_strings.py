"""Tengo strings are bytes, as in Go: ``len`` counts bytes, a slice cuts bytes,
indexing and ``for`` read characters, and ``+`` joins bytes.

So ``"é"[0:1]`` is a one-byte string, its two halves join back into ``"é"``,
and a cut character read as a character is U+FFFD (Go's ``[]rune``).  A cut
character that leaves the spell (printed, exported, given to a bridge) is
U+FFFD there.  Driven through ``llmspell.Runtime`` and the CLI.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmspell import SpellError

TEXT = "naïve café — 日本語 🎉 👩‍👩‍👧 Ωμέγα"


def run(isolated, src, params=None):
    rt, out = isolated.runtime(model="test", isolation="inline")
    return rt.run(source=src, language="tengo", params=params, filename="spell.tengo"), "".join(out)


def test_a_slice_cuts_bytes_as_go_does(isolated):
    r, _ = run(isolated, """
s := "é"
export [len(s), len(s[0:1]), len(s[1:]), s[0:1] + s[1:] == s, len(s[0:1] + s[1:]), s[0:1] == s]
""")
    assert r == [2, 1, 1, True, 2, False]


def test_a_cut_character_read_as_a_character_is_the_replacement_character(isolated):
    r, _ = run(isolated, """
cut := "é"[0:1]
chars := []
for c in "a" + cut + "b" { chars = append(chars, string(c)) }
export {index: string(cut[0]), chars: chars, whole: string("日本"[1])}
""")
    assert r == {"index": "\ufffd", "chars": ["a", "\ufffd", "b"], "whole": "本"}


def test_every_cut_of_a_text_joins_back(isolated):
    r, _ = run(isolated, """
s := params.s
bad := []
for i := 0; i <= len(s); i++ {
  if s[0:i] + s[i:] != s { bad = append(bad, i) }
}
one := ""
for i := 0; i < len(s); i++ { one += s[i:i + 1] }
export {bad: bad, one_byte_at_a_time: one == s, len: len(s)}
""", params={"s": TEXT})
    assert r == {"bad": [], "one_byte_at_a_time": True, "len": len(TEXT.encode())}


def test_text_join_of_one_byte_pieces_gives_the_text_back(isolated):
    r, _ = run(isolated, """
text := import("text")
s := params.s
parts := []
for i := 0; i < len(s); i++ { parts = append(parts, s[i:i + 1]) }
apart := text.join(["é"[0:1], "é"[1:]], "-")
export [text.join(parts, "") == s, len(apart), string(apart[1])]
""", params={"s": TEXT})
    assert r == [True, 3, "-"]


def test_sprintf_of_the_halves_of_a_character_gives_it_back(isolated):
    r, _ = run(isolated, """
s := "日本"
export [fmt.sprintf("%s%s", s[0:2], s[2:]) == s, len(fmt.sprintf("%s|%s", s[0:2], s[2:]))]
""")
    assert r == [True, 7]


def test_byte_escapes_and_bytes_make_the_same_string(isolated):
    r, _ = run(isolated, r"""
b := bytes("é")
export ["\xc3" + "\xa9" == "é", len("\xc3"), string(b[0:1]) + string(b[1:]) == "é", len(string(b[0:1]))]
""")
    assert r == [True, 1, True, 1]


def test_octal_escapes_are_bytes_too(isolated):
    r, _ = run(isolated, r"""
export ["\303\251" == "é", len("\303"), "\303" + "\251" == "\xc3\xa9", len("\101"), "\101"]
""")
    assert r == [True, 1, True, 1, "A"]


def test_an_octal_escape_over_255_is_a_syntax_error(isolated):
    rt, _ = isolated.runtime(model="test", isolation="inline")
    with pytest.raises(SpellError) as info:
        rt.run(source='x := "\\400"', language="tengo", filename="spell.tengo")
    assert (info.value.kind, info.value.line, info.value.column) == ("syntax_error", 1, 7)
    assert info.value.message == "escape sequence is invalid Unicode code point"


def test_a_cut_character_leaving_the_spell_is_the_replacement_character(isolated):
    isolated.write("cut.tengo", """
cut := "日本"[0:4]
fmt.println(cut, len(cut))
log.warn(cut)
fmt.println(json.encode({s: cut}))
export cut
""")
    p = isolated.cli("run", "cut.tengo", "--json", "--model", "test")
    isolated.no_traceback(p.stdout, p.stderr)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "日\ufffd 4"
    assert json.loads(lines[1]) == {"s": "日\ufffd"}
    assert json.loads(lines[2]) == "日\ufffd"
    assert "日\ufffd" in p.stderr


@pytest.mark.parametrize("text", ["", "a", "é", "€", "🎉", TEXT, "ü" * 5000])
def test_len_is_bytes_and_iteration_is_characters(isolated, text):
    r, _ = run(isolated, """
n := 0
for c in params.s { n++ }
export [len(params.s), n]
""", params={"s": text})
    assert r == [len(text.encode()), len(text)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(st.characters(blacklist_categories=("Cs",)), max_size=24), st.data())
def test_any_text_cut_anywhere_joins_back(isolated, text, data):
    size = len(text.encode())
    cut = data.draw(st.integers(0, size))
    r, _ = run(isolated, """
s := params.s
a := s[0:params.i]
b := s[params.i:]
export [a + b == s, len(a) + len(b), len(a + b)]
""", params={"s": text, "i": cut})
    assert r == [True, size, size]
