"""Properties of the state's data logic, for any JSON-like data: merges and transforms never change their
inputs, a deep merge keeps every key of both sides and takes each leaf from the side named, ``set`` then
``get`` of a dotted key gives the value back, and flattening keeps every leaf under its dotted key."""

from __future__ import annotations

import copy
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from llmspell.state.keys import MISSING, get_in, set_in
from llmspell.state.merge import merge
from llmspell.state.transforms import DEFAULT_SECRET_PATTERNS, filter_keys, flatten, sanitize

names = st.text(alphabet="abcxyz_", min_size=1, max_size=4)
leaves = st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False) \
    | st.text(max_size=8)
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=4),
                      max_leaves=20)
tables = st.dictionaries(names, values, max_size=5)


@settings(max_examples=300, deadline=None)
@given(tables, tables, st.sampled_from(["deep", "shallow", "replace"]), st.sampled_from(["ours", "theirs"]))
def test_merging_never_changes_its_inputs_and_keeps_every_key(ours, theirs, strategy, resolution):
    before = copy.deepcopy((ours, theirs))
    out = merge(ours, theirs, strategy, resolution)
    assert (ours, theirs) == before
    if strategy == "replace":
        assert out == (ours if resolution == "ours" else theirs)
        return
    assert set(out) == set(ours) | set(theirs)
    for key in out:
        if key in ours and key in theirs and not (strategy == "deep" and isinstance(ours[key], dict)
                                                  and isinstance(theirs[key], dict)):
            assert out[key] == (ours[key] if resolution == "ours" else theirs[key])
    # the result shares no container with an input: changing it leaves them as they were
    json.dumps(out)
    for value in out.values():
        if isinstance(value, (dict, list)):
            value.clear()
    assert (ours, theirs) == before


@settings(max_examples=300, deadline=None)
@given(tables, st.lists(names, min_size=1, max_size=4), values)
def test_a_dotted_set_reads_back_and_leaves_the_old_data_alone(data, parts, value):
    key = ".".join(parts)
    before = copy.deepcopy(data)
    try:
        out = set_in(data, key, value, key, "store.set")
    except Exception as exc:  # a value on the way is not a table: refused, never overwritten
        assert getattr(exc, "kind", None) == "invalid_argument"
        return
    assert data == before
    assert get_in(out, key) == value
    deleted = set_in(out, key, MISSING, key, "store.delete")
    assert get_in(deleted, key) is MISSING


@settings(max_examples=200, deadline=None)
@given(tables)
def test_transforms_never_change_their_input_and_flatten_keeps_every_leaf(data):
    before = copy.deepcopy(data)
    flat = flatten(data)
    sanitize(data, DEFAULT_SECRET_PATTERNS)
    filter_keys(data, list(data)[:2], "store.transform")
    assert data == before
    for key, value in flat.items():
        assert get_in(data, key) == value
