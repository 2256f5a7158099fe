"""The one rule for text that is not valid Unicode (wellformed.py), as properties:
whatever text, bytes or cut into pieces, what comes out is valid Unicode, text
that was valid is unchanged, and pieces joined give what the whole gives."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from llmspell.wellformed import ChunkJoiner, from_utf8, well_formed, well_formed_data

R = "\ufffd"
#: Text with lone and paired surrogates among ASCII, BMP and astral characters.
TEXT = st.text(alphabet=st.one_of(st.characters(), st.sampled_from("\ud83c\udf89\ud800\udfffa")))


def _utf16(text: str) -> str:
    """What JavaScript holds for the valid text: its UTF-16 code units, as code points."""
    units = text.encode("utf-16-le")
    return "".join(chr(int.from_bytes(units[i:i + 2], "little")) for i in range(0, len(units), 2))


@given(TEXT)
def test_the_result_is_always_valid_unicode(text):
    text_out = well_formed(text)
    text_out.encode("utf-8")
    assert well_formed(text_out) == text_out


@given(st.text())
def test_valid_text_is_unchanged_and_its_utf16_halves_join_back(text):
    assert well_formed(text) == text
    assert well_formed(_utf16(text)) == text


def test_examples():
    assert well_formed("Party time \ud83c") == f"Party time {R}"
    assert well_formed("\ud83c\udf89") == "🎉"
    assert well_formed("\udf89\ud83c") == R + R
    assert well_formed_data({"k\ud800": ["\udc00", 1, None]}) == {f"k{R}": [R, 1, None]}
    assert from_utf8(b"x\xed\xa0\xbc\xed\xbe\x89y") == "x🎉y"  # Lua's "\u{D83C}\u{DF89}"
    assert from_utf8(b"x\xed\xa0\xbcy\xff") == f"x{R}y{R}"


@given(TEXT, st.lists(st.integers(min_value=0, max_value=40), max_size=8))
def test_pieces_joined_give_the_whole_and_each_piece_is_valid(text, cuts):
    bounds = sorted({min(c, len(text)) for c in cuts})
    pieces = [text[a:b] for a, b in zip([0, *bounds], [*bounds, len(text)], strict=True)]
    joiner = ChunkJoiner()
    out = [joiner.feed(p) for p in pieces] + [joiner.end()]
    for piece in out:
        piece.encode("utf-8")
    assert "".join(out) == well_formed(text)


@given(st.binary())
def test_any_bytes_decode_to_valid_unicode_and_utf8_decodes_as_itself(data):
    from_utf8(data).encode("utf-8")
    try:
        expected = data.decode("utf-8")
    except UnicodeDecodeError:
        return
    assert from_utf8(data) == expected
