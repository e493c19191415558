"""core/edit.py, at its corners: exact text out for the texts people leave behind.

A file without its last newline, a leading blank line, an empty value, a quoted empty string,
extra spaces after a colon, a one-item list, a flow root, long and non-ASCII text. Each case
states the exact text the edit must give. Written to kill the mutants of `make mutation`
(docs/testing.md).
"""

from __future__ import annotations

import pytest

from modelreg.core import edit, yamlread


def rewrite(text: str, new: dict) -> str:
    old = yamlread.load(text, "r")[0] if text.strip() else {}
    result = edit.rewrite(text, old, new)
    assert yamlread.load(result, "r")[0] == new  # what the caller verifies before writing
    return result


# ---- inline ----

@pytest.mark.parametrize("value, text", [
    (["a", 1, None], "[a, 1, null]"),
    ({"a": [1, 2]}, "{a: [1, 2]}"),
    ("Xavier", "Xavier"),  # a plain word stays plain
    ("café", "café"),  # non-ASCII stays itself
    ("a\x01b", '"a\\u0001b"'),  # not printable: a JSON string
    ("é\nx", '"é\\nx"'),  # a line break: a JSON string, non-ASCII kept
    ("2026-11-26T10:04:00Z", "2026-11-26T10:04:00Z"),  # a timestamp stays plain
    ("true", "'true'"),  # text YAML would read as another type is quoted
    (1.5, "1.5"),
])
def test_inline(value, text):
    assert edit.inline(value) == text


def test_inline_keeps_long_text_on_one_line():
    value = "word " * 60 + "end"
    assert edit.inline(value) == value


# ---- block_lines ----

def test_block_lines_write_plain_lists_as_one_line_and_lists_of_mappings_as_items():
    assert edit.block_lines("owners", ["a", "b"], 4) == ["    owners: [a, b]"]
    assert edit.block_lines("history", [{"a": 1}, {"b": 2}], 4) == ["    history:", "      - {a: 1}", "      - {b: 2}"]
    assert edit.block_lines("m", {"metrics": {"x": 1}, "notes": "n"}, 0) == ["m:", "  metrics: {x: 1}", "  notes: n"]
    assert edit.block_lines("empty", [], 2) == ["  empty: []"]


# ---- rewrite: where there is no block mapping to edit ----

@pytest.mark.parametrize("text", ["", "{}\n", "{a: 1}\n", "# only a comment\n"])
def test_a_file_without_a_block_mapping_is_written_whole(text):
    assert rewrite(text, {"schema": 1, "models": {}, "m": {"a": {"b": 1}}}) == \
        "schema: 1\nmodels: {}\nm:\n  a: {b: 1}\n"  # a mapping of plain values: one flow line


# ---- rewrite: the last line without its newline ----

def test_adding_keys_to_a_file_without_a_last_newline():
    assert rewrite("a: 1\nb: 2", {"a": 1, "b": 2, "c": 3, "d": 4}) == "a: 1\nb: 2\nc: 3\nd: 4\n"


def test_appending_to_a_list_without_a_last_newline():
    assert rewrite("h:\n  - a", {"h": ["a", "b", "c"]}) == "h:\n  - a\n  - b\n  - c\n"


def test_appending_to_a_one_item_list():
    assert rewrite("h:\n  - a\nz: 1\n", {"h": ["a", "b"], "z": 1}) == "h:\n  - a\n  - b\nz: 1\n"


def test_removing_the_first_key_after_a_leading_blank_line():
    assert rewrite("\na: 1\nb: 2\n", {"b": 2}) == "\nb: 2\n"


# ---- rewrite: replacing values ----

def test_an_empty_value_gets_a_value_after_its_colon():
    assert rewrite("b: 1\na:\nc: 3\n", {"b": 1, "a": 2, "c": 3}) == "b: 1\na: 2\nc: 3\n"


def test_a_quoted_empty_string_is_replaced_in_place():
    assert rewrite("a: ''\nb: 1\n", {"a": 2, "b": 1}) == "a: 2\nb: 1\n"


def test_spaces_after_the_colon_are_kept():
    assert rewrite("a:    1   # why\n", {"a": 2}) == "a:    2   # why\n"


def test_a_flow_list_that_grows_stays_a_flow_list():
    assert rewrite("a: [x]\n", {"a": ["x", "y"]}) == "a: [x, y]\n"


def test_an_empty_flow_collection_that_gets_content_becomes_a_block():
    assert rewrite("m:\n  a: {}\n  b: []\n", {"m": {"a": {"k": 1}, "b": ["x"]}}) == \
        "m:\n  a:\n    k: 1\n  b:\n    - x\n"


def test_a_scalar_that_becomes_a_nested_mapping_is_written_as_a_block():
    assert rewrite("a: 1\nz: 0\n", {"a": {"b": {"c": 1}}, "z": 0}) == "a:\n  b: {c: 1}\nz: 0\n"


def test_a_block_mapping_that_becomes_a_list_of_mappings():
    assert rewrite("a:\n  b: 1\nz: 0\n", {"a": [{"x": 1}], "z": 0}) == "a:\n  - {x: 1}\nz: 0\n"


def test_an_empty_value_that_becomes_a_mapping():
    assert rewrite("a:\nz: 0\n", {"a": {"k": 1}, "z": 0}) == "a:\n  k: 1\nz: 0\n"


# Two insertions at one place (the end of a nested block, which is also the end of its parent) are
# applied in the wrong order: the parent's new key lands above the child's new lines and the YAML
# breaks. The caller's check refuses the write, so nothing bad is written, but the command fails:
# e.g. `modelreg promote` on a model with no `stages:` whose last key is `history`. core/edit.py is
# not among the files this work may change; the fix is to apply, at equal positions, the edit made
# last first (sort by (start, end, order made), reverse).

@pytest.mark.xfail(strict=True, reason="edit.rewrite: insertions at one place applied in the wrong order")
def test_nested_insertions_at_the_same_place_keep_their_order():
    text = "m:\n  versions:\n    v1: 1\n"
    new = {"m": {"versions": {"v1": 1, "v2": 2}, "notes": "x"}}
    assert rewrite(text, new) == "m:\n  versions:\n    v1: 1\n    v2: 2\n  notes: x\n"


@pytest.mark.xfail(strict=True, reason="edit.rewrite: insertions at one place applied in the wrong order")
def test_promoting_in_a_model_without_stages_whose_last_key_is_history():
    from modelreg.core import transitions

    text = ("schema: 1\nmodels:\n  m:\n    path: m.pkl\n    versions:\n"
            "      v1.0.0: {md5: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, size: 1, created: 2026-01-01T00:00:00Z}\n"
            "    history:\n      - {at: 2026-01-01T00:00:00Z, by: a, stage: staging, version: null, previous: null, "
            "reason: r}\n")
    old = yamlread.load(text, "r")[0]
    new = transitions.set_stage(old, "m", "production", "v1.0.0", "why", "bob", at="2026-01-02T00:00:00Z")
    assert yamlread.load(edit.rewrite(text, old, new), "r")[0] == new


def test_a_node_tree_given_by_the_caller_is_used():
    text = "a: 1\n"
    root = yamlread.compose(text)
    assert edit.rewrite(text, {"a": 1}, {"a": 2}, root) == "a: 2\n"


def test_removing_a_last_key_and_adding_one_at_the_same_place():
    assert rewrite("m:\n  a: 1\n  b: 2\nz: 0\n", {"m": {"a": 1, "c": 3}, "z": 0}) == "m:\n  a: 1\n  c: 3\nz: 0\n"
