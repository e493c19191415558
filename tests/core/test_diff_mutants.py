"""core/diff.py, to the field: every Violation and Event compared whole, not by kind alone.

The PR check, tags, releases, notifications and the audit log all read these records, so each
field (model, path, message, hint, at_key; an event's version, stage, previous, reason, history
entry and index) matters. Written to kill the mutants of `make mutation` (docs/testing.md).
"""

from __future__ import annotations

import copy

import pytest

from modelreg.core import transitions, yamlread
from modelreg.core.diff import (STAGE_ASSIGNED, STAGE_UNASSIGNED, VERSION_ARCHIVED, VERSION_REGISTERED,
                                VERSION_UNARCHIVED, Event, Violation, diff)

from conftest import SAMPLE

BASE = yamlread.load(SAMPLE, "s")[0]
NAME = "churn-classifier"
M = ("models", NAME)
AT = "2026-11-27T00:00:00Z"


def base() -> dict:
    return copy.deepcopy(BASE)


def model(state: dict) -> dict:
    return state["models"][NAME]


def entry(stage, version, previous, reason="r") -> dict:
    return {"at": AT, "by": "x", "stage": stage, "version": version, "previous": previous, "reason": reason}


def full(event: Event) -> tuple:
    """Every field of an event, the ones equality leaves out included."""
    return (event.kind, event.model, event.version, event.stage, event.previous, event.reason, event.history,
            event.history_index)


# ---- removals ----

def test_a_removed_model_is_one_violation_at_its_key():
    new = base()
    del new["models"]["fraud-detector"]
    assert diff(BASE, new) == ([], [Violation(
        "model_removed", "fraud-detector", ("models", "fraud-detector"),
        "model fraud-detector was removed; its versions are part of the audit trail",
        "archive its versions and empty its stages instead", at_key=True)])


def test_a_removed_version_is_one_violation_at_the_versions_key():
    new = base()
    del model(new)["versions"]["v0.9.0"]
    assert diff(BASE, new) == ([], [Violation(
        "version_removed", NAME, M + ("versions",), "registered version v0.9.0 was removed",
        "versions are never deleted; archive it with a reason", at_key=True)])


# ---- registrations and archivals ----

def test_registrations_come_in_semver_order_and_a_new_archived_version_is_archived_too():
    new = base()
    record = {"md5": "a" * 32, "size": 1, "created": AT}
    model(new)["versions"]["v1.10.0"] = dict(record, md5="b" * 32, archived="born bad")
    model(new)["versions"]["v1.9.0"] = dict(record)
    events, violations = diff(BASE, new)
    assert violations == []
    assert [full(e) for e in events] == [
        (VERSION_REGISTERED, NAME, "v1.9.0", None, None, None, None, None),
        (VERSION_REGISTERED, NAME, "v1.10.0", None, None, None, None, None),  # semver, not text, order
        (VERSION_ARCHIVED, NAME, "v1.10.0", None, None, "born bad", None, None),
    ]


def test_archiving_and_restoring_give_events_with_the_reason():
    new = transitions.archive(BASE, NAME, "v1.0.0", "  too old ")
    model(new)["versions"]["v0.9.0"].pop("archived")
    events, violations = diff(BASE, new)
    assert violations == []
    assert [full(e) for e in events] == [
        (VERSION_UNARCHIVED, NAME, "v0.9.0", None, None, None, None, None),
        (VERSION_ARCHIVED, NAME, "v1.0.0", None, None, "too old", None, None),
    ]


def test_a_changed_archive_reason_is_no_event():
    new = base()
    model(new)["versions"]["v0.9.0"]["archived"] = "another reason"
    assert diff(BASE, new) == ([], [])


@pytest.mark.parametrize("key, value", [("md5", "f" * 32), ("size", 2), ("created", AT), ("author", None),
                                        ("metrics", {"roc_auc": 1.0}), ("commit", "0" * 40)])
def test_a_changed_immutable_field_is_a_violation_at_that_field(key, value):
    new = base()
    before = model(BASE)["versions"]["v1.2.0"].get(key)
    if value is None:
        del model(new)["versions"]["v1.2.0"][key]
    else:
        model(new)["versions"]["v1.2.0"][key] = value
    assert diff(BASE, new) == ([], [Violation(
        "version_changed", NAME, M + ("versions", "v1.2.0", key),
        f"{key} of registered version v1.2.0 changed from {before!r} to {value!r}",
        "a registered version is immutable; register a new version")])


def test_a_sha256_may_be_added_once_but_never_changed_or_removed():
    with_sha = base()
    model(with_sha)["versions"]["v1.2.0"]["sha256"] = "a" * 64
    assert diff(BASE, with_sha) == ([], [])  # recorded for a version registered before sha256 existed
    changed = copy.deepcopy(with_sha)
    model(changed)["versions"]["v1.2.0"]["sha256"] = "b" * 64
    assert [v.path for v in diff(with_sha, changed)[1]] == [M + ("versions", "v1.2.0", "sha256")]
    assert [v.path for v in diff(with_sha, BASE)[1]] == [M + ("versions", "v1.2.0", "sha256")]


# ---- history ----

def test_a_removed_history_tail_is_one_violation_and_the_rest_is_still_checked():
    new = base()
    del model(new)["history"][1:]
    model(new)["stages"]["staging"] = "v1.0.0"  # and a stage changed without an entry, in the same step
    events, violations = diff(BASE, new)
    assert violations[0] == Violation("history_rewritten", NAME, M + ("history",), "history entry 2 was removed",
                                      "history is append-only: restore it", at_key=True)
    assert [v.kind for v in violations] == ["history_rewritten", "missing_history"]


def test_an_edited_history_entry_is_a_violation_at_that_entry():
    new = base()
    model(new)["history"][1]["reason"] = "rewritten"
    model(new)["history"][2]["by"] = "someone else"
    assert diff(BASE, new) == ([], [
        Violation("history_rewritten", NAME, M + ("history", 1), "history entry 2 was edited",
                  "history is append-only: restore it and add a new entry at the end"),
        Violation("history_rewritten", NAME, M + ("history", 2), "history entry 3 was edited",
                  "history is append-only: restore it and add a new entry at the end"),
    ])


def test_a_stage_changed_without_history():
    new = base()
    model(new)["stages"]["production"] = "v1.3.0"
    del model(new)["stages"]["staging"]
    model(new)["stages"]["qa"] = "v1.0.0"
    events, violations = diff(BASE, new)
    assert violations == [
        Violation("missing_history", NAME, M + ("stages", "staging"),
                  "staging changes from v1.3.0 to nothing but has no new history entry",
                  "add one entry at the end of history with at, by, stage, version, previous and reason"),
        Violation("missing_history", NAME, M + ("stages", "production"),
                  "production changes from v1.2.0 to v1.3.0 but has no new history entry",
                  "add one entry at the end of history with at, by, stage, version, previous and reason"),
        Violation("missing_history", NAME, M + ("stages", "qa"),
                  "qa changes from nothing to v1.0.0 but has no new history entry",
                  "add one entry at the end of history with at, by, stage, version, previous and reason"),
    ]
    # each still is an event (at the end of history: several share that place, in the order found)
    assert [full(e) for e in events] == [
        (STAGE_UNASSIGNED, NAME, None, "staging", "v1.3.0", None, None, None),
        (STAGE_ASSIGNED, NAME, "v1.3.0", "production", "v1.2.0", None, None, None),
        (STAGE_ASSIGNED, NAME, "v1.0.0", "qa", None, None, None, None),
    ]


def test_a_chain_of_entries_is_one_event_per_entry_with_its_entry_and_index():
    new = transitions.set_stage(BASE, NAME, "production", "v1.3.0", "first", "bob", at=AT)
    new = transitions.set_stage(new, NAME, "staging", None, "second", "bob", at=AT)
    new = transitions.set_stage(new, NAME, "production", "v1.0.0", "third", "bob", at=AT)
    events, violations = diff(BASE, new)
    assert violations == []
    history = model(new)["history"]
    assert [full(e) for e in events] == [
        (STAGE_ASSIGNED, NAME, "v1.3.0", "production", "v1.2.0", "first", history[3], 3),
        (STAGE_UNASSIGNED, NAME, None, "staging", "v1.3.0", "second", history[4], 4),
        (STAGE_ASSIGNED, NAME, "v1.0.0", "production", "v1.3.0", "third", history[5], 5),
    ]  # in history order, across stages


def test_an_entry_that_does_not_chain_from_the_holder():
    new = base()
    model(new)["stages"]["production"] = "v1.3.0"
    model(new)["history"].append(entry("production", "v1.3.0", "v1.0.0"))
    events, violations = diff(BASE, new)
    assert violations == [Violation(
        "history_mismatch", NAME, M + ("history", 3),
        "history entry 4 says production: v1.0.0 -> v1.3.0, but production held v1.2.0 at that point",
        "each entry's previous must be the version the stage held before it, and its version the one it holds after")]
    assert [full(e) for e in events] == [(STAGE_ASSIGNED, NAME, "v1.3.0", "production", "v1.0.0", "r",
                                          model(new)["history"][3], 3)]


def test_an_entry_that_changes_nothing_is_a_mismatch():
    new = base()
    model(new)["history"].append(entry("production", "v1.2.0", "v1.2.0"))
    assert [v.path for v in diff(BASE, new)[1]] == [M + ("history", 3)]


def test_a_stage_that_disagrees_with_its_last_new_entry():
    new = base()
    model(new)["history"].append(entry("production", "v1.3.0", "v1.2.0"))
    model(new)["history"].append(entry("qa", None, None))
    events, violations = diff(BASE, new)
    assert violations == [  # stages in the order: the old ones, then new ones, then those only history names
        Violation("history_mismatch", NAME, M + ("stages", "production"),
                  "production holds v1.2.0 but its last history entry says v1.3.0",
                  "make the stage and its last history entry agree"),
        Violation("history_mismatch", NAME, M + ("history", 4),
                  "history entry 5 says qa: None -> None, but qa held None at that point",
                  "each entry's previous must be the version the stage held before it, and its version the one it "
                  "holds after"),
    ]
    assert [(e.kind, e.stage, e.history_index) for e in events] == [
        (STAGE_ASSIGNED, "production", 3), (STAGE_UNASSIGNED, "qa", 4)]


def test_an_emptied_stage_whose_entry_names_a_version_says_nothing_for_the_empty_side():
    new = base()
    del model(new)["stages"]["staging"]
    model(new)["history"].append(entry("staging", "v1.0.0", "v1.3.0"))
    violations = diff(BASE, new)[1]
    assert [v.message for v in violations] == ["staging holds nothing but its last history entry says v1.0.0"]
    other = base()
    model(other)["history"].append(entry("staging", None, "v1.3.0"))
    assert [v.message for v in diff(BASE, other)[1]] == [
        "staging holds v1.3.0 but its last history entry says nothing"]


def test_entries_for_a_new_stage_with_non_text_stage_are_not_stages():
    new = base()
    model(new)["history"].append({"at": AT, "by": "x", "stage": 7, "version": None, "previous": None, "reason": "r"})
    model(new)["history"].append("not an entry")
    assert diff(BASE, new) == ([], [])


# ---- describe and as_dict ----

@pytest.mark.parametrize("event, text", [
    (Event(VERSION_REGISTERED, "m", "v1.0.0"), "m: registered v1.0.0"),
    (Event(VERSION_ARCHIVED, "m", "v1.0.0", reason="old"), "m: archived v1.0.0 (old)"),
    (Event(VERSION_UNARCHIVED, "m", "v1.0.0"), "m: restored archived v1.0.0"),
    (Event(STAGE_ASSIGNED, "m", "v2.0.0", "production", "v1.0.0"), "m: production -> v2.0.0 (was v1.0.0)"),
    (Event(STAGE_ASSIGNED, "m", "v2.0.0", "production"), "m: production -> v2.0.0"),
    (Event(STAGE_UNASSIGNED, "m", None, "production", "v1.0.0"), "m: production emptied (was v1.0.0)"),
])
def test_describe(event, text):
    assert event.describe() == text


def test_as_dict_leaves_out_what_is_none():
    assert Event(STAGE_ASSIGNED, "m", "v2.0.0", "production", None, "why", {"a": 1}, 3).as_dict() == {
        "kind": STAGE_ASSIGNED, "model": "m", "version": "v2.0.0", "stage": "production", "reason": "why"}
    assert Event(VERSION_REGISTERED, "m").as_dict() == {"kind": VERSION_REGISTERED, "model": "m"}


def test_a_sha256_added_does_not_hide_a_changed_field_after_it():
    new = base()
    model(new)["versions"]["v1.2.0"]["sha256"] = "a" * 64
    model(new)["versions"]["v1.2.0"]["size"] = 1
    assert [v.path for v in diff(BASE, new)[1]] == [M + ("versions", "v1.2.0", "size")]


def test_models_after_one_the_write_did_not_touch_are_diffed():
    new = transitions.set_stage(BASE, "fraud-detector", "production", "v0.1.0", "r", "x", at=AT)
    assert new["models"][NAME] is BASE["models"][NAME]  # shared, not copied
    events, violations = diff(BASE, new)
    assert violations == []
    assert [(e.kind, e.model, e.version, e.stage) for e in events] == [
        (STAGE_ASSIGNED, "fraud-detector", "v0.1.0", "production")]
