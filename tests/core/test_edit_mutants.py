"""core/edit.py, at its corners: exact text out for the texts people leave behind.

A file without its last newline, a leading blank line, an empty value, a quoted empty string,
extra spaces after a colon, a one-item list, a flow root, long and non-ASCII text. Each case
states the exact text the edit must give. Written to kill the mutants of `make mutation`
(docs/testing.md).
"""

from __future__ import annotations

import pytest
import yaml

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


@pytest.mark.parametrize("text, rest", [("a: !!null\nb: 1\n", "\nb: 1\n"), ("a: !!str\nb: 1\n", "\nb: 1\n"),
                                        ("a: !!null  # c\nb: 1\n", "  # c\nb: 1\n")])
def test_an_empty_value_with_a_tag_loses_the_tag(text, rest):
    # the value ends after its tag, not after the colon: the new value must not go in front of the tag
    assert rewrite(text, {"a": 2, "b": 1}) == "a: 2" + rest
    assert rewrite(text, {"a": {"k": 1}, "b": 1}) == "a:\n  k: 1" + rest
    assert rewrite(text, {"a": [1, 2], "b": 1}) == "a:\n  - 1\n  - 2" + rest


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


# ---- rewrite: several edits at one place ----
# The end of a nested block is also the end of its parent: the child's new lines and the parent's are
# inserted at one place and must stay in that order (they used to swap, which broke the YAML and made
# `modelreg promote` fail on a model with no `stages:` whose last key is `history`).

def test_nested_insertions_at_the_same_place_keep_their_order():
    text = "m:\n  versions:\n    v1: 1\n"
    new = {"m": {"versions": {"v1": 1, "v2": 2}, "notes": "x"}}
    assert rewrite(text, new) == "m:\n  versions:\n    v1: 1\n    v2: 2\n  notes: x\n"


def test_three_insertions_at_the_same_place_keep_their_order():
    text = "m:\n  a:\n    b:\n      c: 1\n"
    new = {"m": {"a": {"b": {"c": 1, "d": 2}, "e": 3}, "f": 4}, "g": 5}
    assert rewrite(text, new) == "m:\n  a:\n    b:\n      c: 1\n      d: 2\n    e: 3\n  f: 4\ng: 5\n"


def test_list_items_and_a_parent_key_inserted_at_the_same_place():
    assert rewrite("m:\n  h:\n    - a\n", {"m": {"h": ["a", "b"], "n": 1}}) == "m:\n  h:\n    - a\n    - b\n  n: 1\n"


def test_nested_insertions_at_the_end_of_a_file_without_its_last_newline():
    # one newline ends the old last line, then each insertion's lines: no blank line between them
    text = "m:\n  a:\n    b:\n      c: 1"
    new = {"m": {"a": {"b": {"c": 1, "d": 2}, "e": 3}, "f": 4}, "g": 5}
    assert rewrite(text, new) == "m:\n  a:\n    b:\n      c: 1\n      d: 2\n    e: 3\n  f: 4\ng: 5\n"
    assert rewrite("m:\n  h:\n    - a", {"m": {"h": ["a", "b"], "n": 1}, "z": 2}) == \
        "m:\n  h:\n    - a\n    - b\n  n: 1\nz: 2\n"


def test_removing_the_last_line_of_a_file_without_its_last_newline_and_adding_one():
    assert rewrite("a: 1\nb: 2", {"a": 1, "c": 3}) == "a: 1\nc: 3\n"
    assert rewrite("m:\n  a: 1\n  b: 2", {"m": {"a": 1, "c": 3}}) == "m:\n  a: 1\n  c: 3\n"


@pytest.mark.parametrize("new, text", [
    ({"a": 1, "b": 3}, "a: 1\nb: 3"),  # the last value changes in place
    ({"a": 2, "b": 2}, "a: 2\nb: 2"),
    ({"b": 2}, "b: 2"),
    ({"a": 1}, "a: 1\n"),  # the last line goes, with the newline of the line before it kept
])
def test_a_file_without_its_last_newline_stays_so_when_no_line_is_added_at_its_end(new, text):
    assert rewrite("a: 1\nb: 2", new) == text


def test_a_comment_on_the_last_line_without_its_newline_stays_last():
    assert rewrite("a: 1\n# c", {"a": 1, "c": 3}) == "a: 1\nc: 3\n# c"


# A block scalar's node ends at the start of the line after it, and `|+` keeps the blank lines before that
# as part of the value: an edit after it goes after them, and removing it takes them along.

def test_removing_a_last_key_whose_block_scalar_keeps_its_blank_lines():
    assert rewrite("b: 1\na: |+\n  x\n\n", {"b": 1}) == "b: 1\n"


# yamlread refuses these results (it takes the line after a block scalar for a continuation of it), so the
# caller would refuse the write: the text is still what the edit must give, and YAML reads it as intended.

def test_adding_a_key_after_a_block_scalar_that_keeps_its_blank_lines():
    text, new = "m:\n  a: |+\n    x\n\n", {"m": {"a": "x\n\n", "b": 1}}
    result = edit.rewrite(text, yamlread.load(text, "r")[0], new)
    assert result == "m:\n  a: |+\n    x\n\n  b: 1\n" and yaml.safe_load(result) == new


def test_appending_after_a_list_item_that_is_a_block_scalar_keeping_its_blank_lines():
    text, new = "h:\n  - |+\n    x\n\n", {"h": ["x\n\n", "y"]}
    result = edit.rewrite(text, yamlread.load(text, "r")[0], new)
    assert result == "h:\n  - |+\n    x\n\n  - y\n" and yaml.safe_load(result) == new


def test_removing_a_nested_last_key_while_its_block_and_the_parent_grow():
    text = "m:\n  v:\n    a: 1\n  w:\n    b: 1\nz: 0\n"
    new = {"m": {"v": {"a": 1, "c": 2}, "n": 1}, "z": 0}
    assert rewrite(text, new) == "m:\n  v:\n    a: 1\n    c: 2\n  n: 1\nz: 0\n"


def test_promoting_in_a_model_without_stages_whose_last_key_is_history():
    from modelreg.core import transitions

    text = ("schema: 1\nmodels:\n  m:\n    path: m.pkl\n    versions:\n"
            "      v1.0.0: {md5: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, size: 1, created: 2026-01-01T00:00:00Z}\n"
            "    history:\n      - {at: 2026-01-01T00:00:00Z, by: a, stage: staging, version: null, previous: null, "
            "reason: r}\n")
    old = yamlread.load(text, "r")[0]
    new = transitions.set_stage(old, "m", "production", "v1.0.0", "why", "bob", at="2026-01-02T00:00:00Z")
    result = edit.rewrite(text, old, new)
    assert yamlread.load(result, "r")[0] == new
    assert result == text + ("      - {at: 2026-01-02T00:00:00Z, by: bob, stage: production, version: v1.0.0, "
                             "previous: null, reason: why}\n    stages: {production: v1.0.0}\n")


def test_a_node_tree_given_by_the_caller_is_used():
    text = "a: 1\n"
    root = yamlread.compose(text)
    assert edit.rewrite(text, {"a": 1}, {"a": 2}, root) == "a: 2\n"


def test_removing_a_last_key_and_adding_one_at_the_same_place():
    assert rewrite("m:\n  a: 1\n  b: 2\nz: 0\n", {"m": {"a": 1, "c": 3}, "z": 0}) == "m:\n  a: 1\n  c: 3\nz: 0\n"
