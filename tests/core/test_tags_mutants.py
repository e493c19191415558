"""core/tags.py: plan()'s every warning word for word, its counters and dates at zero, and baseline_gaps.

The counters past ten and dates that strictly increase are in test_tags.py. Written to kill the
mutants of `make mutation` (docs/testing.md).
"""

from __future__ import annotations

import json

from modelreg.core import tags
from modelreg.core.diff import STAGE_ASSIGNED, VERSION_ARCHIVED, VERSION_REGISTERED, Event
from modelreg.core.tags import ExistingTag, RegistryCommit, baseline_gaps, plan

M = "churn"
C1, C2, C3 = "1" * 12 + "a" * 28, "2" * 12 + "b" * 28, "3" * 40  # the 13th character differs from the 12th


def assigned(version, stage="production", index=0, previous=None) -> Event:
    entry = {"at": "t", "by": "bob", "stage": stage, "version": version, "previous": previous, "reason": "why"}
    return Event(STAGE_ASSIGNED, M, version, stage, previous, "why", entry, index)


def ours(name: str, target: str = C1, date: int = 100, index: int | None = 0, model: str = M) -> ExistingTag:
    return ExistingTag(name, target, date, json.dumps({"modelreg": 1, "model": model, "history_index": index}))


def foreign(name: str, target: str = C1) -> ExistingTag:
    return ExistingTag(name, target, 100, "made by hand")


def by_name(*existing: ExistingTag) -> dict[str, ExistingTag]:
    return {t.name: t for t in existing}


REGISTERED = Event(VERSION_REGISTERED, M, "v1.0.0")


# ---- plan: what exists ----

def test_a_tag_with_another_name_does_not_stop_the_reading_of_the_others():
    existing = by_name(foreign("release-1"), ours(f"{M}@v1.0.0", index=None), ours(f"{M}#production#5"))
    result = plan([RegistryCommit(C2, 300, (assigned("v1.0.0", index=1),))], existing)
    assert [t.name for t in result.tags] == [f"{M}#production#6"]


def test_a_counter_at_zero_continues_at_one():
    existing = by_name(ours(f"{M}@v1.0.0", index=None), ours(f"{M}#staging#0", index=7))
    result = plan([RegistryCommit(C2, 300, (assigned("v1.0.0", index=1),))], existing)
    assert [t.name for t in result.tags] == [f"{M}#production#1"]


def test_a_foreign_stage_tag_is_warned_about_word_for_word():
    existing = by_name(ours(f"{M}@v1.0.0", index=None), foreign(f"{M}#production#1"))
    assert plan([], existing).warnings == [f"tag {M}#production#1 was not made by modelreg (no modelreg message); "
                                           "it is ignored: the registry file decides stages"]


def test_the_latest_existing_date_of_a_stage_wins_whatever_the_order():
    existing = by_name(ours(f"{M}@v1.0.0", index=None), ours(f"{M}#production#2", date=1000, index=1),
                       ours(f"{M}#production#1", date=500, index=0))
    result = plan([RegistryCommit(C2, 900, (assigned("v1.0.0", index=2),))], existing)
    assert [t.date for t in result.tags] == [1001]


def test_dates_at_zero():
    existing = by_name(ours(f"{M}@v1.0.0", index=None), ours(f"{M}#production#1", date=0, index=0))
    result = plan([RegistryCommit(C2, 0, (assigned("v1.0.0", index=1), assigned("v1.0.0", "staging", index=2)))],
                  existing)
    assert [(t.name, t.date) for t in result.tags] == [(f"{M}#production#2", 1), (f"{M}#staging#3", 0)]


# ---- plan: version tags ----

def test_a_new_version_is_tagged_on_the_commit_that_registered_it_with_its_event():
    result = plan([RegistryCommit(C2, 300, (REGISTERED,))], {})
    ((tag,),) = [result.tags]
    assert (tag.name, tag.target, tag.date, tag.event, tag.commit) == (f"{M}@v1.0.0", C2, 300, REGISTERED, C2)
    assert result.version_commits == {(M, "v1.0.0"): C2}


def test_our_version_tag_on_another_commit_is_kept_and_warned_about():
    existing = by_name(ours(f"{M}@v1.0.0", target=C1, index=None))
    result = plan([RegistryCommit(C2, 300, (REGISTERED, assigned("v1.0.0", index=0)))], existing)
    assert result.warnings == [f"tag {M}@v1.0.0 points at 111111111111, but 222222222222 registered that version; "
                               "the tag is left as it is"]
    assert result.version_commits == {(M, "v1.0.0"): C1}
    assert [(t.name, t.target) for t in result.tags] == [(f"{M}#production#1", C1)]


def test_a_foreign_version_tag_on_another_commit_is_a_conflict_word_for_word():
    result = plan([RegistryCommit(C2, 300, (REGISTERED,))], by_name(foreign(f"{M}@v1.0.0", C1)))
    assert result.conflicts == [
        f"tag {M}@v1.0.0 was not made by modelreg and points at 111111111111, but 222222222222 registered {M} "
        f"v1.0.0: that is the commit modelreg tags, and GTO would report the other commit's artifact. Delete the tag "
        f"(git push origin :refs/tags/{M}@v1.0.0) and run the release again"]
    assert result.version_commits == {(M, "v1.0.0"): C2}


def test_a_foreign_version_tag_on_the_registering_commit_is_adopted_word_for_word():
    result = plan([RegistryCommit(C1, 300, (REGISTERED,))], by_name(foreign(f"{M}@v1.0.0", C1)),
                  trained={(M, "v1.0.0"): C1})
    assert result.conflicts == []
    assert result.warnings == [
        f"tag {M}@v1.0.0 was not made by modelreg; it points at the commit that registered the version, so it is kept "
        f"and used. While it stays, each release reads main's whole history: to have modelreg's own tag there, delete "
        f"it (git push origin :refs/tags/{M}@v1.0.0) and run the release again"]


def test_a_foreign_version_tag_on_the_training_commit_is_adopted_and_stage_tags_go_there():
    events = (REGISTERED, assigned("v1.0.0", index=0))
    result = plan([RegistryCommit(C2, 300, events)], by_name(foreign(f"{M}@v1.0.0", C1)), trained={(M, "v1.0.0"): C1})
    assert result.conflicts == []
    assert result.warnings == [f"tag {M}@v1.0.0 was not made by modelreg; it points at the commit the version record "
                               "names as its training commit, so it is kept and the version's stage tags go there"]
    assert result.version_commits == {(M, "v1.0.0"): C1}
    assert [(t.name, t.target) for t in result.tags] == [(f"{M}#production#1", C1)]
    other = plan([RegistryCommit(C2, 300, events)], by_name(foreign(f"{M}@v1.0.0", C1)), trained={(M, "v2.0.0"): C1})
    assert other.conflicts and other.tags[0].target == C2


# ---- plan: archives and stages ----

def test_an_archive_already_tagged_does_not_stop_the_events_after_it():
    archived = Event(VERSION_ARCHIVED, M, "v1.0.0", reason="old")
    existing = by_name(ours(f"{M}@v1.0.0", index=None), ours(f"{M}@v1.0.0!", index=None))
    result = plan([RegistryCommit(C2, 300, (archived, assigned("v1.0.0", index=0)))], existing)
    assert [t.name for t in result.tags] == [f"{M}#production#1"]


def test_an_archive_tag_carries_its_event():
    archived = Event(VERSION_ARCHIVED, M, "v1.0.0", reason="old")
    (tag,) = plan([RegistryCommit(C2, 300, (archived,))], by_name(ours(f"{M}@v1.0.0", index=None))).tags
    assert (tag.name, tag.target, tag.event, tag.commit) == (f"{M}@v1.0.0!", C1, archived, C2)


def test_a_stage_tag_carries_its_event_and_the_missing_version_tag_is_warned_word_for_word():
    event = assigned("v1.0.0", index=0)
    (tag,) = plan([RegistryCommit(C2, 300, (event,))], by_name(ours(f"{M}@v1.0.0", index=None))).tags
    assert (tag.event, tag.commit) == (event, C2)
    result = plan([RegistryCommit(C2, 300, (assigned("v2.0.0", index=0),))], {})
    assert result.warnings == [f"{M} production: v2.0.0 has no version tag to attach the stage tag to; skipped"]


def test_an_entry_seen_twice_is_tagged_once():
    event = assigned("v1.0.0", index=0)
    changes = [RegistryCommit(C2, 300, (event,)), RegistryCommit(C3, 400, (event,))]
    assert [t.name for t in plan(changes, by_name(ours(f"{M}@v1.0.0", index=None))).tags] == [f"{M}#production#1"]


# ---- baseline_gaps ----

def covered() -> tuple[dict, dict]:
    state = {"models": {M: {"versions": {"v1.0.0": {}, "v2.0.0": {"archived": "old"}},
                            "history": [{}, {}]}}}
    existing = by_name(ours(f"{M}@v1.0.0", index=None), ours(f"{M}@v2.0.0", index=None),
                       ours(f"{M}@v2.0.0!", index=None), ours(f"{M}#production#1", index=0),
                       ours(f"{M}#staging#2", index=1))
    return state, existing


def test_covered_has_no_gaps_whatever_comes_first():
    state, existing = covered()
    assert baseline_gaps(state, existing) == []
    first = {"release-1": ExistingTag("release-1", C1, 1, json.dumps({"modelreg": 1, "model": M})),
             "hand": foreign(f"{M}@v9.0.0"), **existing}
    assert baseline_gaps(state, first) == []


def test_each_kind_of_gap_word_for_word():
    state, existing = covered()
    del existing[f"{M}@v1.0.0"], existing[f"{M}@v2.0.0!"], existing[f"{M}#staging#2"]
    assert baseline_gaps(state, existing) == [f"{M}@v1.0.0 has no modelreg tag", f"{M}@v2.0.0! is missing",
                                              f"{M} history entry 2 has no modelreg tag"]


def test_a_stage_tag_of_another_model_or_a_version_tag_covers_no_history_entry():
    state, existing = covered()
    existing[f"{M}#staging#2"] = ours(f"{M}#staging#2", index=1, model="other")
    existing[f"{M}@v2.0.0!"] = ours(f"{M}@v2.0.0!", index=1)
    assert baseline_gaps(state, existing) == [f"{M} history entry 2 has no modelreg tag"]


def test_gaps_are_cut_after_the_limit():
    state = {"models": {M: {"versions": {}, "history": [{}, {}, {}]}}}
    assert baseline_gaps(state, {}) == [f"{M} history entry {i} has no modelreg tag" for i in (1, 2, 3)]
    state["models"][M]["history"].append({})
    assert baseline_gaps(state, {}) == [f"{M} history entry {i} has no modelreg tag" for i in (1, 2, 3)] + ["…"]
    assert baseline_gaps(state, {}, limit=1) == [f"{M} history entry 1 has no modelreg tag", "…"]


def test_baseline_gaps_of_malformed_states():
    assert baseline_gaps(None, {}) == []
    assert baseline_gaps({"models": [1]}, {}) == []
    assert baseline_gaps({"models": {M: "x"}}, {}) == []
    assert baseline_gaps({"models": {M: {"versions": [1], "history": {"a": 1}}}}, {}) == []


def test_parse_of_names_that_are_not_tags():
    assert tags.parse("release-1") is None
    assert tags.parse(f"{M}#production#") is None
