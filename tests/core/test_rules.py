"""rules.check_state and rules.check_change: each refusal with its field path and line."""

from __future__ import annotations

import copy

import pytest

from modelreg.core import document, transitions
from modelreg.core.diff import STAGE_ASSIGNED
from modelreg.core.rules import check_change, check_state

from conftest import SAMPLE

NAME = "churn-classifier"
FILE = "r.yaml"
BASE = document.parse(SAMPLE, FILE)[0]


def edited(*pairs: tuple[str, str]) -> str:
    """SAMPLE with each `old` text (which must occur exactly once) replaced."""
    text = SAMPLE
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


def line_of(text: str, needle: str) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(lines) == 1, (needle, lines)
    return lines[0]


def state(text: str) -> list:
    data, root = document.parse(text, FILE)
    return check_state(data, root, FILE)


def change(text: str, old: dict | None = None):
    data, root = document.parse(text, FILE)
    return check_change(BASE if old is None else old, data, root, FILE)


def where(problem) -> tuple:
    return problem.file, problem.line, problem.path


# ---- check_state ----

def test_sample_is_clean():
    assert state(SAMPLE) == []


def test_stage_pointing_at_unregistered_version():
    text = edited(("staging: v1.3.0       # the candidate", "staging: v7.0.0"),
                  ("stage: staging, version: v1.3.0", "stage: staging, version: v7.0.0"))
    problems = [p for p in state(text) if p.path == f"models.{NAME}.stages.staging"]
    assert len(problems) == 1
    assert where(problems[0]) == (FILE, line_of(text, "staging: v7.0.0"), f"models.{NAME}.stages.staging")
    assert "v7.0.0 is not a registered version (registered: v0.9.0, v1.0.0, v1.2.0, v1.3.0)" in problems[0].message
    # the history entry that names it is reported too, at its own field
    assert any(p.path == f"models.{NAME}.history[2].version" and "v7.0.0" in p.message for p in state(text))


def test_archived_version_cannot_hold_a_stage():
    text = edited(("staging: v1.3.0       # the candidate", "staging: v0.9.0"),
                  ("stage: staging, version: v1.3.0", "stage: staging, version: v0.9.0"))
    problems = state(text)
    assert len(problems) == 1, problems  # no gate noise for it: the stage is refused outright
    assert where(problems[0]) == (FILE, line_of(text, "staging: v0.9.0"), f"models.{NAME}.stages.staging")
    assert "v0.9.0 is archived (Superseded; underperforms on Q3 data.) and cannot hold staging" == problems[0].message
    assert problems[0].column == len("      staging: ") + 1  # at the value


def test_last_history_entry_must_agree_with_the_stage():
    text = edited(("stage: staging, version: v1.3.0", "stage: staging, version: v1.2.0"))
    problems = state(text)
    assert len(problems) == 1, problems
    assert where(problems[0]) == (FILE, line_of(text, "stage: staging, version: v1.2.0"), f"models.{NAME}.history[2]")
    assert problems[0].message == "the last history entry for staging says v1.2.0, but staging holds v1.3.0"


def test_only_the_last_entry_of_a_stage_decides():
    # production's first entry says v1.0.0, its last says v1.2.0, which production holds: clean
    text = edited(("production: v1.2.0\n", "production: v1.0.0\n"))
    problems = state(text)
    assert [p.path for p in problems] == [f"models.{NAME}.history[1]"]
    assert "says v1.2.0, but production holds v1.0.0" in problems[0].message


def test_emptied_stage_whose_last_entry_names_a_version():
    text = edited(("staging: v1.3.0       # the candidate\n", ""))
    problems = state(text)
    assert [p.path for p in problems] == [f"models.{NAME}.history[2]"]
    assert "staging holds None" in problems[0].message


def test_stage_with_no_history_entry():
    text = edited(("stages: {}", "stages: {production: v0.1.0}"))
    problems = state(text)
    assert len(problems) == 1, problems
    assert where(problems[0]) == (FILE, line_of(text, "stages: {production: v0.1.0}"),
                                  "models.fraud-detector.stages.production")
    assert "history has no entry for production" in problems[0].message


def test_history_entry_naming_unregistered_previous():
    text = edited(("previous: v1.0.0,", "previous: v1.1.0,"))
    problems = state(text)
    assert [p.path for p in problems] == [f"models.{NAME}.history[1].previous"]
    assert problems[0].line == line_of(text, "previous: v1.1.0,")
    assert problems[0].message == "v1.1.0 is not a registered version"


def test_duplicate_md5_is_reported_at_the_second_version():
    text = edited(("md5: 7d793037a0760186574b0282f2f435e7", "md5: 0c1f9b6a0c1f9b6a0c1f9b6a0c1f9b6a"))
    problems = state(text)
    assert len(problems) == 1, problems
    assert problems[0].path == f"models.{NAME}.versions.v1.2.0.md5"
    assert problems[0].line == line_of(SAMPLE, "md5: 7d793037a0760186574b0282f2f435e7")
    assert "v1.2.0 has the same md5 as v1.3.0" in problems[0].message


def test_stage_holder_failing_its_gate():
    text = edited(("staging:    {roc_auc: {min: 0.75}}", "staging:    {roc_auc: {min: 0.9}}"))
    problems = state(text)
    assert len(problems) == 1, problems
    assert where(problems[0]) == (FILE, line_of(text, "# the candidate"), f"models.{NAME}.stages.staging")
    assert problems[0].message == "v1.3.0 fails the staging gate: roc_auc 0.861 < min 0.9"


def test_holder_meeting_a_gate_exactly_is_clean():
    assert state(edited(("staging:    {roc_auc: {min: 0.75}}", "staging:    {roc_auc: {min: 0.861}}"))) == []


def test_beat_production_is_not_a_state_rule():
    # beat_production compares with the version production held *before*; a file alone cannot say
    text = edited(("beat_production: 0.0", "beat_production: 0.5"))
    assert state(text) == []


def test_unknown_stage_is_reported_at_its_key():
    text = edited(("      staging:    {roc_auc: {min: 0.75}}", "      canary:    {roc_auc: {min: 0.75}}"))
    problems = state(text)
    assert len(problems) == 1, problems
    assert problems[0].path == f"models.{NAME}.gates.canary"
    assert (problems[0].line, problems[0].column) == (line_of(text, "canary:"), 7)
    assert "unknown stage 'canary' (configured: staging, production)" in problems[0].message


def test_configured_stages_come_from_settings():
    text = edited(("schema: 1\n", "schema: 1\nsettings: {stages: [production]}\n"))
    problems = state(text)
    paths = [p.path for p in problems]
    assert f"models.{NAME}.stages.staging" in paths and f"models.{NAME}.gates.staging" in paths
    assert f"models.{NAME}.history[2].stage" in paths


def test_require_approval_of_an_unconfigured_stage():
    text = edited(("schema: 1\n", "schema: 1\nsettings: {stages: [staging, production], require_approval: [qa]}\n"))
    problems = state(text)
    assert [(p.path, p.line) for p in problems] == [("settings.require_approval", 4)]
    assert "'qa' is not a configured stage" in problems[0].message


def test_schema_errors_point_at_the_field():
    text = edited(("size: 171002", "size: -1"))
    problems = state(text)
    assert len(problems) == 1, problems
    assert where(problems[0]) == (FILE, line_of(text, "size: -1"), f"models.{NAME}.versions.v1.2.0.size")


def test_unknown_field_points_at_its_key():
    text = edited(("        notes: More trees, new features.", "        colour: blue"))
    problems = state(text)
    assert len(problems) == 1, problems
    assert problems[0].line == line_of(text, "colour: blue") and problems[0].column == 9


def test_all_problems_are_reported_together():
    text = edited(("size: 171002", "size: -1"), ("stages: {}", "stages: {production: v0.1.0}"),
                  ("previous: v1.0.0,", "previous: v1.1.0,"))
    assert len(state(text)) == 3


def test_check_state_without_a_node_tree_has_no_lines():
    data = copy.deepcopy(BASE)
    data["models"][NAME]["stages"]["staging"] = "v7.0.0"
    problems = check_state(data, None, FILE)
    assert problems and all(p.line is None and p.column is None for p in problems)


# ---- check_change ----

def test_own_promotion_is_a_clean_change_with_its_event():
    new = transitions.set_stage(BASE, NAME, "production", "v1.3.0", "better", "bob", at="2026-12-01T00:00:00Z")
    events, problems = check_change(BASE, new, None, FILE)
    assert problems == []
    assert [(e.kind, e.version, e.previous) for e in events] == [(STAGE_ASSIGNED, "v1.3.0", "v1.2.0")]


def test_editing_an_old_history_entry():
    text = edited(("reason: First model", "reason: Rewritten"))
    _, problems = change(text)
    assert len(problems) == 1, problems
    assert where(problems[0]) == (FILE, line_of(text, "reason: Rewritten"), f"models.{NAME}.history[0]")
    assert problems[0].message == "history entry 1 was edited"


def test_deleting_the_tail_of_history():
    text = SAMPLE.replace(
        "      - {at: 2026-11-26T11:00:00Z, by: bob, stage: staging, version: v1.3.0, previous: null, reason: More trees}\n",
        "")
    assert text != SAMPLE
    _, problems = change(text)
    removed = [p for p in problems if "was removed" in p.message]
    assert len(removed) == 1, problems
    assert removed[0].message == "history entry 3 was removed"
    # pointed at the history: key of the model (the entry itself is gone)
    history_key = [n for n, line in enumerate(text.splitlines(), 1) if line == "    history:"][0]
    assert (removed[0].path, removed[0].line, removed[0].column) == (f"models.{NAME}.history", history_key, 5)


def test_changing_a_registered_version_field():
    text = edited(("md5: 0c1f9b6a0c1f9b6a0c1f9b6a0c1f9b6a", "md5: 0c1f9b6a0c1f9b6a0c1f9b6a0c1f9b6b"))
    _, problems = change(text)
    assert len(problems) == 1, problems
    assert where(problems[0]) == (FILE, line_of(text, "0c1f9b6a0c1f9b6a0c1f9b6a0c1f9b6b"),
                                  f"models.{NAME}.versions.v1.3.0.md5")
    assert "md5 of registered version v1.3.0 changed" in problems[0].message


def test_changing_metrics_of_a_registered_version():
    text = edited(("metrics: {roc_auc: 0.842, accuracy: 0.801}", "metrics: {roc_auc: 0.942, accuracy: 0.801}"))
    _, problems = change(text)
    assert [p.path for p in problems] == [f"models.{NAME}.versions.v1.2.0.metrics"]
    assert problems[0].line == line_of(text, "roc_auc: 0.942")


@pytest.mark.parametrize("old, new, field", [
    ("size: 183204", "size: 183205", "size"),
    ("created: 2026-11-26T10:04:00Z", "created: 2026-11-26T10:05:00Z", "created"),
    ("author: alice\n        metrics: {roc_auc: 0.861", "author: mallory\n        metrics: {roc_auc: 0.861", "author"),
    ("params: {n_estimators: 200, max_depth: 8}", "params: {n_estimators: 201, max_depth: 8}", "params"),
    ("commit: 9fceb02d0ae598e95dc970b74767f19372d61af8", "commit: 9fceb02d0ae598e95dc970b74767f19372d61af9", "commit"),
])
def test_every_immutable_field_of_a_version_record(old, new, field):
    _, problems = change(edited((old, new)))
    assert [p.path for p in problems] == [f"models.{NAME}.versions.v1.3.0.{field}"]


def test_notes_and_archiving_are_not_immutability_violations():
    text = edited(("notes: More trees, new features.", "notes: Clarified."))
    assert change(text)[1] == []
    text = edited(("        notes: More trees, new features.", "        notes: x\n        archived: retired"))
    assert change(text)[1] == []  # archiving v1.3.0 is allowed by the step (check_state refuses its stage)


def test_stage_change_without_history():
    text = edited(("production: v1.2.0\n", "production: v1.3.0\n"))
    _, problems = change(text)
    missing = [p for p in problems if "no new history entry" in p.message]
    assert len(missing) == 1, problems
    assert (missing[0].path, missing[0].line) == (f"models.{NAME}.stages.production", line_of(text, "production: v1.3.0"))


def test_worse_promotion_fails_beat_production_at_the_stage():
    worse = copy.deepcopy(BASE)
    worse["models"][NAME]["versions"]["v1.3.0"]["metrics"]["roc_auc"] = 0.841
    new = transitions.set_stage(worse, NAME, "production", "v1.3.0", "r", "x", at="2026-12-01T00:00:00Z")
    _, problems = check_change(worse, new, None, FILE)
    assert len(problems) == 1
    assert problems[0].path == f"models.{NAME}.stages.production"
    assert problems[0].message.startswith("v1.3.0 fails the production gate: roc_auc 0.841 vs v1.2.0 0.842")


def test_equal_promotion_passes_beat_production_with_zero_margin():
    equal = copy.deepcopy(BASE)
    equal["models"][NAME]["versions"]["v1.3.0"]["metrics"]["roc_auc"] = 0.842
    new = transitions.set_stage(equal, NAME, "production", "v1.3.0", "r", "x", at="2026-12-01T00:00:00Z")
    assert check_change(equal, new, None, FILE)[1] == []


def test_rollback_is_exempt_from_beat_production():
    back = transitions.set_stage(BASE, NAME, "production", "v1.0.0", "rollback", "x", at="2026-12-01T00:00:00Z")
    assert check_change(BASE, back, None, FILE)[1] == []


def test_check_change_from_nothing_reports_no_problems():
    events, problems = check_change(None, BASE, None, FILE)
    assert problems == []
    assert sum(e.kind == STAGE_ASSIGNED for e in events) == 3


def test_removing_a_model_points_at_its_key():
    text = edited(("  fraud-detector:\n", "  fraud-detectr:\n"))
    _, problems = change(text)
    removed = [p for p in problems if "was removed" in p.message]
    assert [(p.path, p.line) for p in removed] == [("models.fraud-detector", line_of(text, "models:"))]
