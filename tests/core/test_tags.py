"""tags: GTO tag names, plan() counters and dates, foreign tags, message() content."""

from __future__ import annotations

import json

import pytest

from modelreg.core import tags
from modelreg.core.diff import STAGE_ASSIGNED, STAGE_UNASSIGNED, VERSION_ARCHIVED, VERSION_REGISTERED, Event
from modelreg.core.tags import ExistingTag, PlannedTag, RegistryCommit, plan

M = "churn"
C1, C2, C3 = "1" * 40, "2" * 40, "3" * 40


def assigned(version, stage="production", index=0, previous=None, kind=STAGE_ASSIGNED, **history) -> Event:
    entry = {"at": "2026-11-26T11:00:00Z", "by": "bob", "stage": stage, "version": version if kind == STAGE_ASSIGNED
             else None, "previous": previous, "reason": "why", **history}
    return Event(kind, M, version if kind == STAGE_ASSIGNED else None, stage, previous, "why", entry, index)


def ours(name: str, target: str, date: int, index: int, model: str = M) -> ExistingTag:
    """A tag that modelreg made: it carries the JSON message."""
    return ExistingTag(name, target, date, json.dumps({"modelreg": 1, "model": model, "history_index": index}))


def version_tag(version: str = "v1.0.0", target: str = C1, foreign: bool = False) -> ExistingTag:
    """modelreg's version tag (JSON message), or one GTO or a person made (foreign=True)."""
    text = f"Registering artifact {M} version {version}" if foreign else json.dumps(
        {"modelreg": 1, "model": M, "version": version, "event": VERSION_REGISTERED, "history_index": None,
         "registry_commit": target})
    return ExistingTag(f"{M}@{version}", target, 100, text)


def by_name(tags_: list[ExistingTag]) -> dict[str, ExistingTag]:
    return {t.name: t for t in tags_}


# ---- parse ----

@pytest.mark.parametrize("name, expected", [
    ("churn@v1.2.3", {"model": "churn", "version": "v1.2.3", "archived": "", "stage": None, "n": None}),
    ("churn@v1.2.3!", {"model": "churn", "version": "v1.2.3", "archived": "!"}),
    ("churn#production#12", {"model": "churn", "stage": "production", "unassign": "", "n": "12", "version": None}),
    ("churn-2#staging!#3", {"model": "churn-2", "stage": "staging", "unassign": "!", "n": "3"}),
])
def test_parse_tag_names(name, expected):
    parsed = tags.parse(name)
    assert parsed is not None
    assert {k: parsed[k] for k in expected} == expected


@pytest.mark.parametrize("name", ["v1.2.3", "Churn@v1.2.3", "churn@v01.2.3", "churn@1.2.3", "churn#production",
                                  "churn#production#x", "churn@v1.2.3#production#1", "-churn@v1.0.0"])
def test_parse_refuses_other_names(name):
    assert tags.parse(name) is None


# ---- plan: versions ----

def test_registration_tags_its_commit():
    result = plan([RegistryCommit(C1, 100, (Event(VERSION_REGISTERED, M, "v1.0.0"),))], {})
    assert [(t.name, t.target, t.date, t.commit) for t in result.tags] == [(f"{M}@v1.0.0", C1, 100, C1)]
    assert result.version_commits == {(M, "v1.0.0"): C1}
    assert result.warnings == []


def test_existing_version_tag_is_kept_and_a_different_target_warned():
    existing = by_name([version_tag("v1.0.0", C2)])  # modelreg's own, on another commit (history rewritten)
    result = plan([RegistryCommit(C1, 100, (Event(VERSION_REGISTERED, M, "v1.0.0"), assigned("v1.0.0")))], existing)
    assert [t.name for t in result.tags] == [f"{M}#production#1"]
    assert result.tags[0].target == C2  # stage tags follow modelreg's version tag that exists
    assert len(result.warnings) == 1 and "points at 222222222222" in result.warnings[0]
    assert result.conflicts == []


def test_existing_version_tag_on_the_same_commit_is_silent():
    result = plan([RegistryCommit(C1, 100, (Event(VERSION_REGISTERED, M, "v1.0.0"),))], by_name([version_tag()]))
    assert result.tags == [] and result.warnings == []


def test_foreign_version_tag_on_another_commit_is_a_conflict_and_never_followed():
    existing = by_name([version_tag("v1.0.0", C2, foreign=True)])
    result = plan([RegistryCommit(C1, 100, (Event(VERSION_REGISTERED, M, "v1.0.0"), assigned("v1.0.0")))], existing)
    assert len(result.conflicts) == 1 and f"tag {M}@v1.0.0 was not made by modelreg" in result.conflicts[0]
    assert "points at 222222222222" in result.conflicts[0] and "111111111111 registered" in result.conflicts[0]
    assert [(t.name, t.target) for t in result.tags] == [(f"{M}#production#1", C1)]  # the registry's commit


def test_foreign_version_tag_on_the_registering_commit_is_adopted_with_a_warning():
    existing = by_name([version_tag("v1.0.0", C1, foreign=True)])
    result = plan([RegistryCommit(C1, 100, (Event(VERSION_REGISTERED, M, "v1.0.0"), assigned("v1.0.0")))], existing)
    assert result.conflicts == [] and [(t.name, t.target) for t in result.tags] == [(f"{M}#production#1", C1)]
    assert len(result.warnings) == 1 and result.warnings[0].startswith(
        f"tag {M}@v1.0.0 was not made by modelreg; it points at the commit that registered the version, so it is "
        "kept and used")


def test_foreign_version_tag_alone_gives_stage_tags_no_target():
    """Without the registration in the walked changes, only modelreg's own version tags say where a version is."""
    result = plan([RegistryCommit(C2, 300, (assigned("v1.0.0"),))], by_name([version_tag(foreign=True)]))
    assert result.tags == [] and "v1.0.0 has no version tag" in result.warnings[0]


# ---- baseline_gaps: when the release may start after a release commit ----

def registry(*, versions=("v1.0.0",), history=0, archived=()) -> dict:
    entries = [{"at": "2026-11-26T11:00:00Z", "by": "bob", "stage": "production", "version": "v1.0.0",
                "previous": None, "reason": "r"}] * history
    return {"schema": 1, "models": {M: {"versions": {v: {"md5": "0" * 32, **({"archived": "old"} if v in archived
                                                                             else {})} for v in versions},
                                        "history": entries}}}


def test_baseline_gaps_none_when_modelreg_tags_cover_the_registry():
    existing = by_name([version_tag(), ours(f"{M}#production#1", C1, 300, 0)])
    assert tags.baseline_gaps(registry(history=1), existing) == []


@pytest.mark.parametrize("state, existing, gap", [
    (registry(), [], f"{M}@v1.0.0 has no modelreg tag"),
    (registry(), [version_tag(foreign=True)], f"{M}@v1.0.0 has no modelreg tag"),
    (registry(archived=("v1.0.0",)), [version_tag()], f"{M}@v1.0.0! is missing"),
    (registry(history=1), [version_tag(), ExistingTag(f"{M}#production#1", C1, 1, "by hand")],
     f"{M} history entry 1 has no modelreg tag"),
    (registry(history=2), [version_tag(), ours(f"{M}#production#1", C1, 300, 0)],
     f"{M} history entry 2 has no modelreg tag"),
])
def test_baseline_gaps(state, existing, gap):
    assert tags.baseline_gaps(state, by_name(existing)) == [gap]


def test_baseline_gaps_accept_a_foreign_archival_tag_as_plan_does():
    existing = by_name([version_tag(), ExistingTag(f"{M}@v1.0.0!", C1, 1, "deprecated by hand")])
    assert tags.baseline_gaps(registry(archived=("v1.0.0",)), existing) == []


def test_archival_tag_goes_on_the_version_commit_once():
    change = RegistryCommit(C2, 200, (Event(VERSION_ARCHIVED, M, "v1.0.0", reason="old"),))
    result = plan([change], by_name([version_tag()]))
    assert [(t.name, t.target, t.date, t.commit) for t in result.tags] == [(f"{M}@v1.0.0!", C1, 200, C2)]
    done = by_name([version_tag(), ExistingTag(f"{M}@v1.0.0!", C1, 200)])
    assert plan([change], done).tags == []


def test_tag_for_an_unregistered_version_is_warned():
    result = plan([], by_name([version_tag("v7.0.0")]), registered={(M, "v1.0.0")})
    assert result.warnings == [f"tag {M}@v7.0.0 names a version the registry does not have; it is ignored"]
    assert plan([], by_name([version_tag("v1.0.0")]), registered={(M, "v1.0.0")}).warnings == []


# ---- plan: stage counters ----

def test_first_stage_tag_is_number_one_on_the_version_commit():
    result = plan([RegistryCommit(C2, 300, (assigned("v1.0.0"),))], by_name([version_tag()]))
    assert [(t.name, t.target, t.commit) for t in result.tags] == [(f"{M}#production#1", C1, C2)]


def test_counter_continues_from_the_highest_not_the_last_seen():
    existing = {  # dict order puts #9 after #10: a "last seen" counter would restart at 10
        f"{M}@v1.0.0": version_tag(),
        f"{M}#production#10": ours(f"{M}#production#10", C1, 110, 9),
        f"{M}#production#9": ours(f"{M}#production#9", C1, 100, 8),
    }
    result = plan([RegistryCommit(C2, 300, (assigned("v1.0.0", index=10),))], existing)
    assert [t.name for t in result.tags] == [f"{M}#production#11"]


def test_counter_is_per_model_and_shared_across_stages():
    existing = by_name([version_tag(), ours(f"{M}#staging#4", C1, 100, 0),
                        ours("other#production#20", C3, 100, 0, model="other")])
    events = (assigned("v1.0.0", "production", index=1), assigned("v1.0.0", "staging", index=2, previous="v1.0.0"))
    result = plan([RegistryCommit(C2, 300, events)], existing)
    assert [t.name for t in result.tags] == [f"{M}#production#5", f"{M}#staging#6"]


def test_counter_counts_foreign_stage_tags_too():
    existing = by_name([version_tag(), ExistingTag(f"{M}#production#3", C1, 100, "hand made")])
    result = plan([RegistryCommit(C2, 300, (assigned("v1.0.0", index=0),))], existing)
    assert [t.name for t in result.tags] == [f"{M}#production#4"]  # a name GTO has not used


def test_unassignment_tag_goes_on_the_previous_version():
    event = assigned(None, previous="v1.0.0", kind=STAGE_UNASSIGNED, index=1)
    result = plan([RegistryCommit(C2, 300, (event,))], by_name([version_tag()]))
    assert [(t.name, t.target) for t in result.tags] == [(f"{M}#production!#1", C1)]


def test_stage_tag_without_a_version_tag_is_skipped_and_uses_no_counter():
    events = (assigned("v2.0.0", index=0), assigned("v1.0.0", index=1, previous="v2.0.0"))
    result = plan([RegistryCommit(C2, 300, events)], by_name([version_tag()]))
    assert [t.name for t in result.tags] == [f"{M}#production#1"]
    assert len(result.warnings) == 1 and "v2.0.0 has no version tag" in result.warnings[0]


def test_entries_already_tagged_are_not_tagged_again():
    existing = by_name([version_tag(), ours(f"{M}#production#1", C1, 300, 0)])
    events = (assigned("v1.0.0", index=0), assigned("v1.0.0", index=1, stage="staging"))
    result = plan([RegistryCommit(C2, 300, events)], existing)
    assert [t.name for t in result.tags] == [f"{M}#staging#2"]


def test_events_without_history_index_are_not_tagged():
    event = Event(STAGE_ASSIGNED, M, "v1.0.0", "production")
    assert plan([RegistryCommit(C2, 300, (event,))], by_name([version_tag()])).tags == []


# ---- plan: dates and foreign tags ----

def test_dates_of_one_stage_strictly_increase_within_a_commit():
    events = (assigned("v1.0.0", index=0), assigned("v2.0.0", index=1, previous="v1.0.0"),
              assigned("v1.0.0", index=2, previous="v2.0.0"))
    existing = by_name([version_tag("v1.0.0"), version_tag("v2.0.0", C2)])
    dates = [t.date for t in plan([RegistryCommit(C3, 500, events)], existing).tags]
    assert len(dates) == 3
    assert dates[0] == 500
    assert dates[0] < dates[1] < dates[2]


def test_dates_strictly_increase_past_an_existing_stage_tag():
    existing = by_name([version_tag(), ours(f"{M}#production#1", C1, 1000, 0)])
    result = plan([RegistryCommit(C2, 900, (assigned("v1.0.0", index=1),))], existing)  # an older commit date
    assert result.tags[0].date > 1000


def test_other_stages_keep_their_commit_date():
    existing = by_name([version_tag(), ours(f"{M}#production#1", C1, 1000, 0)])
    result = plan([RegistryCommit(C2, 900, (assigned("v1.0.0", "staging", index=1),))], existing)
    assert result.tags[0].date == 900


def test_foreign_stage_tags_are_reported_and_do_not_steer_the_plan():
    existing = by_name([version_tag(),
                        ExistingTag(f"{M}#production#1", C1, 10**9, "made by hand"),
                        ExistingTag(f"{M}#staging#2", C1, 10**9, json.dumps({"modelreg": 1, "model": "x",
                                                                              "history_index": 0}))])
    result = plan([RegistryCommit(C2, 300, (assigned("v1.0.0", index=0),))], existing)
    assert [(t.name, t.date) for t in result.tags] == [(f"{M}#production#3", 300)]  # not marked done, date ignored
    assert sorted(w.split()[1] for w in result.warnings) == [f"{M}#production#1", f"{M}#staging#2"]
    assert all("was not made by modelreg" in w for w in result.warnings)


# ---- message / ExistingTag.data ----

def planned(event: Event) -> PlannedTag:
    return PlannedTag(f"{M}#production#1", C1, 300, event, C2)


def test_message_content_for_an_assignment():
    event = assigned("v1.0.0", index=4, previous="v0.9.0", pr=12)
    data = tags.message(planned(event), {"auc": 0.9}, None, ["alice"])
    assert data == {"modelreg": 1, "event": STAGE_ASSIGNED, "model": M, "version": "v1.0.0", "stage": "production",
                    "previous": "v0.9.0", "reason": "why", "requester": "bob", "at": "2026-11-26T11:00:00Z",
                    "approvers": ["alice"], "pr": None, "pr_in_history": 12, "metrics": {"auc": 0.9},
                    "history_index": 4, "registry_commit": C2}  # the PR comes from GitHub, never from the file
    assert tags.message(planned(event), None, 99, None)["pr"] == 99
    assert tags.message(planned(event), None, None, None)["metrics"] == {}


def test_message_for_an_unassignment_names_the_version_that_left():
    event = assigned(None, previous="v1.0.0", kind=STAGE_UNASSIGNED, index=2)
    data = tags.message(planned(event), None, None, None)
    assert (data["event"], data["version"], data["previous"]) == (STAGE_UNASSIGNED, "v1.0.0", "v1.0.0")


def test_message_round_trips_as_a_modelreg_tag():
    event = assigned("v1.0.0", index=4)
    text = json.dumps(tags.message(planned(event), None, None, None))
    data = ExistingTag("x", C1, 1, text).data
    assert data is not None and data["history_index"] == 4 and data["model"] == M


@pytest.mark.parametrize("text", ["", "not json", "[1]", '{"modelreg": 2}', '{"model": "churn"}'])
def test_other_messages_are_not_modelreg_data(text):
    assert ExistingTag("x", C1, 1, text).data is None
