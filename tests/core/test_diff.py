"""diff(old, new) -> events and violations."""

from __future__ import annotations

import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from modelreg.core import transitions, yamlread
from modelreg.core.diff import STAGE_ASSIGNED, STAGE_UNASSIGNED, VERSION_ARCHIVED, VERSION_REGISTERED, VERSION_UNARCHIVED, diff
from modelreg.core.rules import check_change, check_state

from conftest import SAMPLE

BASE = yamlread.load(SAMPLE, "s")[0]
NAME = "churn-classifier"
RECORD = {"md5": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "size": 10, "created": "2026-11-27T00:00:00Z",
          "metrics": {"roc_auc": 0.9, "accuracy": 0.85}}


def kinds(events):
    return [(e.kind, e.model, e.version, e.stage, e.previous) for e in events]


def test_same_state_has_no_events():
    assert diff(BASE, copy.deepcopy(BASE)) == ([], [])


def test_from_nothing_everything_is_new():
    events, violations = diff(None, BASE)
    assert violations == []
    registered = [e.version for e in events if e.kind == VERSION_REGISTERED and e.model == NAME]
    assert registered == ["v0.9.0", "v1.0.0", "v1.2.0", "v1.3.0"]  # semver order
    assert (VERSION_ARCHIVED, NAME, "v0.9.0", None, None) in kinds(events)
    # every assignment in history is an event, in history order (a release bootstraps its tags from them)
    assert [(e.stage, e.version) for e in events if e.kind == STAGE_ASSIGNED] == [
        ("production", "v1.0.0"), ("production", "v1.2.0"), ("staging", "v1.3.0")]


def test_register_promote_archive_events():
    new = transitions.add_version(BASE, NAME, "v1.4.0", RECORD)
    new = transitions.set_stage(new, NAME, "production", "v1.4.0", "better", "bob", at="2026-11-27T00:00:01Z")
    new = transitions.archive(new, NAME, "v1.0.0", "old")
    events, violations = diff(BASE, new)
    assert violations == []
    assert kinds(events) == [(VERSION_REGISTERED, NAME, "v1.4.0", None, None),  # registrations first,
                             (VERSION_ARCHIVED, NAME, "v1.0.0", None, None),  # then archivals, then stages
                             (STAGE_ASSIGNED, NAME, "v1.4.0", "production", "v1.2.0")]
    assert events[-1].reason == "better" and events[-1].history["by"] == "bob"


def test_unassign_and_unarchive():
    new = transitions.set_stage(BASE, NAME, "staging", None, "nothing to stage", "bob")
    new["models"][NAME]["versions"]["v0.9.0"].pop("archived")
    events, violations = diff(BASE, new)
    assert violations == []
    assert kinds(events) == [(VERSION_UNARCHIVED, NAME, "v0.9.0", None, None),
                             (STAGE_UNASSIGNED, NAME, None, "staging", "v1.3.0")]


def test_two_changes_of_one_stage_are_two_events():
    new = transitions.set_stage(BASE, NAME, "staging", "v1.2.0", "a", "x")
    new = transitions.set_stage(new, NAME, "staging", "v1.3.0", "b", "x")  # back where it was
    events, violations = diff(BASE, new)
    assert violations == []
    assert [(e.version, e.previous, e.reason) for e in events] == [("v1.2.0", "v1.3.0", "a"),
                                                                   ("v1.3.0", "v1.2.0", "b")]


def test_stage_events_follow_history_order():
    new = transitions.set_stage(BASE, NAME, "staging", "v1.2.0", "a", "x")
    new = transitions.set_stage(new, NAME, "production", "v1.3.0", "b", "x")
    events, _ = diff(BASE, new)
    assert [e.stage for e in events] == ["staging", "production"]


def violation_kinds(new):
    return sorted(v.kind for v in diff(BASE, new)[1])


def test_immutable_fields():
    for field, value in [("md5", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), ("size", 1), ("metrics", {"roc_auc": 1.0}),
                         ("params", {}), ("data", None), ("commit", "0" * 40)]:
        new = copy.deepcopy(BASE)
        new["models"][NAME]["versions"]["v1.3.0"][field] = value
        assert violation_kinds(new) == ["version_changed"], field


def test_notes_may_change():
    new = copy.deepcopy(BASE)
    new["models"][NAME]["versions"]["v1.3.0"]["notes"] = "clarified"
    assert violation_kinds(new) == []


def test_history_rules():
    new = copy.deepcopy(BASE)
    new["models"][NAME]["history"][0]["reason"] = "rewritten"
    assert violation_kinds(new) == ["history_rewritten"]
    new = copy.deepcopy(BASE)
    new["models"][NAME]["history"].pop(0)
    assert "history_rewritten" in violation_kinds(new)
    new = copy.deepcopy(BASE)
    new["models"][NAME]["stages"]["production"] = "v1.3.0"
    assert violation_kinds(new) == ["missing_history"]
    new = transitions.set_stage(BASE, NAME, "production", "v1.3.0", "r", "x")
    new["models"][NAME]["history"].append(dict(new["models"][NAME]["history"][-1]))
    assert violation_kinds(new) == ["history_mismatch"]  # the copy's previous is not what the stage held
    new = transitions.set_stage(BASE, NAME, "production", "v1.3.0", "r", "x")
    new["models"][NAME]["history"][-1]["previous"] = "v1.0.0"
    assert violation_kinds(new) == ["history_mismatch"]
    new = copy.deepcopy(BASE)
    new["models"][NAME]["history"].append({"at": "2026-11-27T00:00:00Z", "by": "x", "stage": "staging",
                                           "version": "v1.3.0", "previous": None, "reason": "noise"})
    assert violation_kinds(new) == ["history_mismatch"]


def test_removals():
    new = copy.deepcopy(BASE)
    del new["models"][NAME]["versions"]["v0.9.0"]
    assert violation_kinds(new) == ["version_removed"]
    new = copy.deepcopy(BASE)
    del new["models"]["fraud-detector"]
    assert violation_kinds(new) == ["model_removed"]


def test_beat_production_and_rollback_exemption():
    worse = copy.deepcopy(BASE)
    worse["models"][NAME]["versions"]["v1.3.0"]["metrics"]["roc_auc"] = 0.83
    step = transitions.set_stage(worse, NAME, "production", "v1.3.0", "r", "x")
    problems = check_change(worse, step, None, "r")[1]
    assert len(problems) == 1 and "fails the production gate" in problems[0].message
    # v1.0.0 held production before: returning to it is exempt, though its AUC is lower
    back = transitions.set_stage(BASE, NAME, "production", "v1.0.0", "rollback", "x")
    assert check_change(BASE, back, None, "r")[1] == []
    assert check_state(back, None, "r") == []


# ---- properties ----

@st.composite
def operations(draw):
    return draw(st.lists(st.tuples(st.sampled_from(["promote", "archive", "register"]),
                                   st.sampled_from(["v1.0.0", "v1.2.0", "v1.3.0", "v0.9.0", "v2.0.0"]),
                                   st.sampled_from(["staging", "production"])), max_size=6))


def apply_all(state, steps):
    from modelreg.core.problems import ModelregError

    for index, (op, version, stage) in enumerate(steps):
        try:
            if op == "promote":
                state = transitions.set_stage(state, NAME, stage, version, "r", "x", at=f"2026-12-01T00:00:{index:02d}Z")
            elif op == "archive":
                state = transitions.archive(state, NAME, version, "r")
            else:
                record = dict(RECORD, md5=f"{index:032x}"[:31] + "e")
                state = transitions.add_version(state, NAME, version, record)
        except ModelregError:
            pass
    return state


@settings(max_examples=200, deadline=None)
@given(operations())
def test_diff_is_empty_for_identical_states_and_clean_for_our_own_operations(steps):
    new = apply_all(BASE, steps)
    assert diff(new, copy.deepcopy(new)) == ([], [])
    events, violations = diff(BASE, new)
    assert violations == []
    stage_events = [e for e in events if e.kind in (STAGE_ASSIGNED, STAGE_UNASSIGNED)]
    new_entries = new["models"][NAME]["history"][len(BASE["models"][NAME]["history"]):]
    assert [(e.stage, e.version, e.previous) for e in stage_events] == [
        (h["stage"], h["version"], h["previous"]) for h in new_entries]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["v1.3.0", "v1.0.0"]))
def test_promote_then_rollback_restores_stages(version):
    promoted = transitions.set_stage(BASE, NAME, "production", version, "try", "x", at="2026-12-01T00:00:00Z")
    target = transitions.rollback_target(promoted, NAME)
    assert target == "v1.2.0"
    back = transitions.set_stage(promoted, NAME, "production", target, "undo", "x", at="2026-12-01T00:00:01Z")
    assert back["models"][NAME]["stages"] == BASE["models"][NAME]["stages"]
    assert diff(promoted, back)[1] == []
