"""Writes are minimal: the change's own lines, and every other byte as it was."""

from __future__ import annotations

import difflib

from hypothesis import given, settings
from hypothesis import strategies as st

from modelreg.core import edit, transitions, yamlread
from modelreg.core.problems import ModelregError

from conftest import SAMPLE

BASE = yamlread.load(SAMPLE, "s")[0]
NAME = "churn-classifier"


def changed_lines(old: str, new: str) -> tuple[list[str], list[str]]:
    removed, added = [], []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0):
        if line.startswith("-") and not line.startswith("---"):
            removed.append(line[1:])
        elif line.startswith("+") and not line.startswith("+++"):
            added.append(line[1:])
    return removed, added


def render(new: dict) -> str:
    text = edit.rewrite(SAMPLE, BASE, new)
    assert yamlread.load(text, "r")[0] == new
    return text


def test_promotion_is_the_stage_line_plus_one_history_entry():
    new = transitions.set_stage(BASE, NAME, "staging", "v1.2.0", "retest", "bob", at="2026-11-27T09:00:00Z")
    removed, added = changed_lines(SAMPLE, render(new))
    assert removed == ["      staging: v1.3.0       # the candidate"]
    assert added == ["      staging: v1.2.0       # the candidate",
                     "      - {at: 2026-11-27T09:00:00Z, by: bob, stage: staging, version: v1.2.0, "
                     "previous: v1.3.0, reason: retest}"]


def test_new_stage_key_is_added_in_block_style():
    new = transitions.set_stage(BASE, "fraud-detector", "staging", "v0.1.0", "first", "carol", at="2026-11-27T09:00:00Z")
    removed, added = changed_lines(SAMPLE, render(new))
    assert removed == ["    stages: {}", "    history: []"]
    assert added == ["    stages:", "      staging: v0.1.0", "    history:",
                     "      - {at: 2026-11-27T09:00:00Z, by: carol, stage: staging, version: v0.1.0, previous: null, "
                     "reason: first}"]


def test_archive_adds_one_line():
    new = transitions.archive(BASE, NAME, "v1.0.0", "old: superseded")
    removed, added = changed_lines(SAMPLE, render(new))
    assert removed == [] and added == ["        archived: 'old: superseded'"]


def test_unassign_removes_one_line_and_keeps_the_comment_lines():
    new = transitions.set_stage(BASE, NAME, "staging", None, "nothing staged", "bob", at="2026-11-27T09:00:00Z")
    text = render(new)
    removed, added = changed_lines(SAMPLE, text)
    assert removed == ["      staging: v1.3.0       # the candidate"]
    assert len(added) == 1 and "version: null" in added[0]
    assert "    metric: {name: roc_auc, goal: max}   # primary metric" in text


def test_register_inserts_a_block_and_nothing_else():
    record = {"md5": "99999999999999999999999999999999", "size": 12, "created": "2026-11-27T10:00:00Z",
              "metrics": {"roc_auc": 0.9}, "params": {"train": {"depth": 3}}, "notes": "yes"}
    new = transitions.add_version(BASE, NAME, "v1.4.0", record)
    removed, added = changed_lines(SAMPLE, render(new))
    assert removed == []
    assert added == ["      v1.4.0:", "        md5: '99999999999999999999999999999999'", "        size: 12",
                     "        format: pickle",
                     "        created: 2026-11-27T10:00:00Z", "        metrics: {roc_auc: 0.9}",
                     "        params:", "          train: {depth: 3}", "        notes: 'yes'"]


def test_new_model_in_a_fresh_registry():
    text = "# fresh\nschema: 1\nmodels: {}\n"
    old = yamlread.load(text, "r")[0]
    record = {"md5": "0123456789abcdef0123456789abcdef", "size": 1, "created": "2026-11-27T10:00:00Z"}
    new = transitions.add_version(old, "m", "v1.0.0", record, {"path": "models/m.pkl", "format": "pickle"})
    result = edit.rewrite(text, old, new)
    assert yamlread.load(result, "r")[0] == new
    assert result.startswith("# fresh\nschema: 1\nmodels:\n  m:\n    path: models/m.pkl\n")


def test_inline_quotes_what_yaml_would_misread():
    for value in ["yes", "null", "123", "1.5", "a: b", "# x", "", "v1.0.0", "2026-11-27T10:00:00Z", "-", "[x]"]:
        assert yamlread.load(f"k: {edit.inline(value)}\n", "r")[0] == {"k": value}, value


STEPS = st.lists(st.tuples(st.sampled_from(["promote", "unassign", "archive", "register"]),
                           st.sampled_from([NAME, "fraud-detector"]),
                           st.sampled_from(["v1.0.0", "v1.2.0", "v1.3.0", "v0.1.0", "v2.0.0", "v0.2.0"]),
                           st.sampled_from(["staging", "production"]),
                           st.sampled_from(["plain reason", "quoted: reason", "it's #1", "ünïcode ✓", "a\nb"])),
                 min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(STEPS)
def test_any_sequence_of_edits_round_trips_and_keeps_comments(steps):
    text, state = SAMPLE, BASE
    for index, (op, name, version, stage, reason) in enumerate(steps):
        try:
            if op == "promote":
                new = transitions.set_stage(state, name, stage, version, reason, "x", at=f"2026-12-01T00:00:{index:02d}Z")
            elif op == "unassign":
                new = transitions.set_stage(state, name, stage, None, reason, "x", at=f"2026-12-01T00:00:{index:02d}Z")
            elif op == "archive":
                new = transitions.archive(state, name, version, reason)
            else:
                new = transitions.add_version(state, name, version, {"md5": f"{index:031x}f", "size": index,
                                                             "created": "2026-12-01T00:00:00Z", "notes": reason})
        except ModelregError:
            continue
        text = edit.rewrite(text, state, new)
        assert yamlread.load(text, "r")[0] == new
        state = new
    for line in SAMPLE.splitlines():
        if line.lstrip().startswith("#"):
            assert line in text.splitlines()
