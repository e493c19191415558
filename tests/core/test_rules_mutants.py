"""core/rules.py, rule by rule: every problem whole (file, line, column, field, words, hint).

A problem is what the PR comment, the annotations and `modelreg validate` show, so each of its
parts is asserted; and each loop goes on past the first thing it skips. Written to kill the
mutants of `make mutation` (docs/testing.md).
"""

from __future__ import annotations

import copy

import pytest
import yaml

from modelreg.core import document, rules, transitions, yamlread
from modelreg.core.problems import Problem
from modelreg.core.rules import check_change, check_state

from conftest import SAMPLE

NAME = "churn-classifier"
BASE = yamlread.load(SAMPLE, "r.yaml")[0]
F = "r.yaml"


def state(text: str) -> list[Problem]:
    data, root = document.parse(text, F)
    return check_state(data, root, F)


def at(text: str, marker: str, offset: int = 0) -> tuple[int, int]:
    """Line and column (1-based) of `marker` (plus offset characters) in text."""
    assert text.count(marker) == 1, marker
    index = text.index(marker) + offset
    return text[:index].count("\n") + 1, index - text.rfind("\n", 0, index)


def one(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


# ---- check_state ----

def test_unknown_stages_in_stages_and_gates_point_at_the_key():
    text = SAMPLE.replace("      staging: v1.3.0       # the candidate", "      qa: v1.3.0").replace(
        "      staging:    {roc_auc", "      qa2:    {roc_auc").replace(
        "stage: staging, version: v1.3.0", "stage: qa, version: v1.3.0")
    problems = state(text)
    hint = "fix the name, or add it to settings.stages"
    assert Problem(F, *at(text, "qa2:"), "models.churn-classifier.gates.qa2",
                   "unknown stage 'qa2' (configured: staging, production)", hint) in problems
    assert Problem(F, *at(text, "qa: v1.3.0"), "models.churn-classifier.stages.qa",
                   "unknown stage 'qa' (configured: staging, production)", hint) in problems
    assert Problem(F, *at(text, "qa, version"), "models.churn-classifier.history[2].stage",
                   "unknown stage 'qa'", "") in problems  # history: no hint


def test_a_duplicate_md5():
    text = SAMPLE.replace("md5: 2f8a5c1e2f8a5c1e2f8a5c1e2f8a5c1e", "md5: 7d793037a0760186574b0282f2f435e7")
    assert one(state(text)) == Problem(
        F, *at(text, "7d793037a0760186574b0282f2f435e7\n        size: 150000"),
        "models.churn-classifier.versions.v1.0.0.md5",
        "v1.0.0 has the same md5 as v1.2.0: one artifact is registered twice",
        "remove v1.0.0, or register the artifact you meant")


def test_a_stage_at_an_unregistered_version():
    text = SAMPLE.replace("production: v1.2.0\n", "production: v9.9.9\n").replace(
        "version: v1.2.0, previous: v1.0.0", "version: v9.9.9, previous: v1.0.0")
    problems = state(text)
    assert Problem(F, *at(text, "v9.9.9\n"), "models.churn-classifier.stages.production",
                   "v9.9.9 is not a registered version (registered: v0.9.0, v1.0.0, v1.2.0, v1.3.0)",
                   "point the stage at a registered version") in problems
    assert Problem(F, *at(text, "v9.9.9, previous"), "models.churn-classifier.history[1].version",
                   "v9.9.9 is not a registered version", "") in problems


def test_no_versions_at_all_says_none():
    data = copy.deepcopy(BASE)
    data["models"]["fraud-detector"]["stages"] = {"production": "v0.1.0"}
    data["models"]["fraud-detector"]["versions"] = {}
    problems = check_state(data, None, F)
    assert any(p.message == "v0.1.0 is not a registered version (registered: none)" for p in problems), problems


def test_an_archived_holder():
    text = SAMPLE.replace("staging: v1.3.0       # the candidate", "staging: v0.9.0").replace(
        "stage: staging, version: v1.3.0", "stage: staging, version: v0.9.0")
    assert one(state(text)) == Problem(
        F, *at(text, "v0.9.0\n"), "models.churn-classifier.stages.staging",
        "v0.9.0 is archived (Superseded; underperforms on Q3 data.) and cannot hold staging",
        "promote another version, or remove the stage")


def test_a_holder_failing_its_gate():
    text = SAMPLE.replace("{roc_auc: 0.842, accuracy: 0.801}", "{roc_auc: 0.79, accuracy: 0.801}")
    assert one(state(text)) == Problem(
        F, *at(text, "v1.2.0\n"), "models.churn-classifier.stages.production",
        "v1.2.0 fails the production gate: roc_auc 0.79 < min 0.8",
        "promote a version that passes, or change the gate under review")


def test_a_stage_without_history_and_a_history_that_disagrees():
    text = SAMPLE.replace("    stages: {}\n", "    stages: {production: v0.1.0}\n")
    assert one(state(text)) == Problem(
        F, *at(text, "v0.1.0}"), "models.fraud-detector.stages.production",
        "production holds v0.1.0 but history has no entry for production",
        "add a history entry that records who put it there and why")
    other = SAMPLE.replace("version: v1.3.0, previous: null, reason: More trees",
                           "version: v1.0.0, previous: null, reason: More trees")
    assert one(state(other)) == Problem(
        F, *at(other, "{at: 2026-11-26T11:00:00Z"), "models.churn-classifier.history[2]",
        "the last history entry for staging says v1.0.0, but staging holds v1.3.0",
        "stage changes and history entries go together")


def test_require_approval_of_an_unconfigured_stage():
    text = SAMPLE.replace("schema: 1\n", "schema: 1\nsettings:\n  require_approval: [qa]\n")
    assert one(state(text)) == Problem(F, *at(text, "[qa]"), "settings.require_approval",
                                       "'qa' is not a configured stage", "configured: staging, production")


def test_a_typed_params_key_points_at_the_key_itself():
    text = SAMPLE.replace("params: {n_estimators: 100, max_depth: 6}", "params: {n_estimators: 100, 6: 6}")
    assert one(state(text)) == Problem(
        F, *at(text, "6: 6}"), "models.churn-classifier.versions.v1.0.0.params.6",
        "key must be a string, not integer 6", "YAML reads it as a number, boolean or null: put it in quotes")


def test_two_typed_params_keys_each_point_at_their_own_key():
    # a key is found by type and value: the second integer key is not the first one
    text = SAMPLE.replace("params: {n_estimators: 100, max_depth: 6}", "params: {5: 5, 6: 6}")
    base = "models.churn-classifier.versions.v1.0.0.params."
    assert [(p.line, p.column, p.path) for p in state(text)] == [
        (*at(text, "{5: 5", 1), base + "5"), (*at(text, "6: 6}"), base + "6")]


def test_typed_params_keys_inside_lists():
    text = SAMPLE.replace("params: {n_estimators: 100, max_depth: 6}", "params: {layers: [{a: 1}, {2: 3}]}")
    problem = one(state(text))
    assert problem.path == "models.churn-classifier.versions.v1.0.0.params.layers[1].2"
    assert (problem.line, problem.column) == at(text, "2: 3}")


def test_a_typed_key_in_a_history_entry_is_spelled_as_written():
    text = SAMPLE.replace("{at: 2026-11-01T11:00:00Z, by: alice,", "{at: 2026-11-01T11:00:00Z, true: alice,")
    problems = state(text)
    assert Problem(F, *at(text, "true: alice"), "models.churn-classifier.history[0].true", "unknown field 'True'",
                   "allowed here: at, by, stage, version, previous, reason, pr") in problems


# ---- each loop goes on past what it skips ----

def test_every_stage_is_checked_after_one_that_is_skipped_or_reported():
    data = copy.deepcopy(BASE)
    model = data["models"][NAME]
    del model["versions"]["v1.0.0"]["md5"]  # a malformed record: the schema's to report
    model["versions"]["v1.2.0"]["metrics"]["roc_auc"] = 0.5  # fails the production gate
    for first in (1.2, "v9.9.9", "v0.9.0", "v1.0.0"):  # not text, unregistered, archived, malformed
        model["stages"] = {"staging": first, "production": "v1.2.0"}
        messages = [p.message for p in check_state(data, None, F)]
        assert "v1.2.0 fails the production gate: roc_auc 0.5 < min 0.8" in messages, (first, messages)


def test_every_version_is_checked_after_a_record_that_is_not_a_mapping():
    data = copy.deepcopy(BASE)
    versions = data["models"][NAME]["versions"]
    data["models"][NAME]["versions"] = {"v0.0.1": "junk", "v0.0.2": {"size": 1}, **versions}
    versions["v1.0.0"]["md5"] = versions["v1.2.0"]["md5"]
    messages = [p.message for p in check_state(data, None, F)]
    assert "v1.0.0 has the same md5 as v1.2.0: one artifact is registered twice" in messages


def test_every_history_entry_is_checked_after_one_that_is_not_a_mapping():
    data = copy.deepcopy(BASE)
    data["models"][NAME]["history"].insert(0, "junk")
    data["models"][NAME]["history"][1]["previous"] = "v7.0.0"
    messages = [p.message for p in check_state(data, None, F)]
    assert "v7.0.0 is not a registered version" in messages


def test_every_stage_without_history_is_reported():
    data = copy.deepcopy(BASE)
    data["models"][NAME]["history"] = []
    problems = check_state(data, None, F)
    assert sorted(p.message for p in problems) == [
        "production holds v1.2.0 but history has no entry for production",
        "staging holds v1.3.0 but history has no entry for staging"]


def test_a_model_without_versions_or_with_a_list_of_them():
    for versions in (None, [1], "x"):
        data = copy.deepcopy(BASE)
        data["models"]["fraud-detector"]["versions"] = versions
        data["models"]["fraud-detector"]["stages"] = {}
        assert [p.path for p in check_state(data, None, F)] == ["models.fraud-detector.versions"]
    data = copy.deepcopy(BASE)
    del data["models"]["fraud-detector"]["versions"]
    assert [p.message for p in check_state(data, None, F)] == ["missing required field 'versions'"]


def test_not_a_registry_at_all():
    assert [p.path for p in check_state([1], None, F)] == [""]
    data = {"schema": 1, "settings": {"require_approval": ["qa"]}, "models": "x"}
    assert [p.path for p in check_state(data, None, F)] == ["models"]  # no rule runs on what is not a registry


def test_problems_without_a_node_tree_have_no_line():
    data = copy.deepcopy(BASE)
    data["models"][NAME]["stages"]["production"] = "v9.9.9"
    assert {(p.line, p.column) for p in check_state(data, None, F)} == {(None, None)}


# ---- check_change ----

def test_violations_become_problems_with_their_hint_at_their_key():
    new = copy.deepcopy(BASE)
    del new["models"][NAME]["versions"]["v0.9.0"]
    text = SAMPLE
    _, root = document.parse(text, F)
    events, problems = check_change(BASE, new, root, F)
    assert problems == [Problem(F, *at(text, "    versions:\n      v1.3.0", 4), "models.churn-classifier.versions",
                                "registered version v0.9.0 was removed",
                                "versions are never deleted; archive it with a reason")]


def test_a_promotion_that_does_not_beat_production_in_the_same_step_as_a_registration():
    record = {"md5": "e" * 32, "size": 1, "created": "2026-11-27T00:00:00Z", "metrics": {"roc_auc": 0.83,
                                                                                        "accuracy": 0.9}}
    new = transitions.add_version(BASE, NAME, "v1.4.0", record)
    new = transitions.set_stage(new, NAME, "production", "v1.4.0", "r", "x", at="2026-11-27T00:00:01Z")
    events, problems = check_change(BASE, new, None, F)
    assert [e.kind for e in events][0] == "version_registered"  # checked though it is not the first event
    assert one(problems) == Problem(F, None, None, "models.churn-classifier.stages.production",
                                    "v1.4.0 fails the production gate: roc_auc 0.83 vs v1.2.0 0.842: -0.012 < "
                                    "required +0", "promote a better version, or change the gate under review")


def test_a_dangling_promotion_does_not_stop_the_next_one_from_being_checked():
    new = transitions.set_stage(BASE, NAME, "staging", "v1.0.0", "r", "x", at="t")
    new["models"][NAME]["history"][-1]["version"] = "v9.9.9"  # a dangling entry first (check_state's to report)
    new["models"][NAME]["stages"]["staging"] = "v9.9.9"
    worse = copy.deepcopy(new)
    worse["models"][NAME]["versions"]["v1.3.0"]["metrics"]["roc_auc"] = 0.83
    worse = transitions.set_stage(worse, NAME, "production", "v1.3.0", "r", "x", at="t")
    old = copy.deepcopy(BASE)
    old["models"][NAME]["versions"]["v1.3.0"]["metrics"]["roc_auc"] = 0.83
    _, problems = check_change(old, worse, None, F)
    assert [p.path for p in problems] == ["models.churn-classifier.stages.production"]


def test_a_signature_that_breaks_production_input_is_refused_in_the_step():
    old = copy.deepcopy(BASE)
    old["models"][NAME]["versions"]["v1.2.0"]["signature"] = {"features": 3}
    old["models"][NAME]["versions"]["v1.3.0"]["signature"] = {"features": 4}
    new = transitions.set_stage(old, NAME, "production", "v1.3.0", "r", "x", at="t")
    _, problems = check_change(old, new, None, F)
    (problem,) = problems
    assert problem.path == "models.churn-classifier.stages.production"
    assert problem.message.startswith("v1.3.0 fails the production gate: ")
    assert "takes 4 features instead of 3" in problem.message


# ---- where a problem points ----

def test_spelled_keeps_an_index_into_a_list_and_spells_what_follows():
    root = yaml.compose("a:\n  - {x: 1}\n  - {true: 2}\n")
    assert rules._spelled(root, ("a", 1, True)) == ("a", 1, "true")
    assert rules._spelled(root, ("a", 0, "x")) == ("a", 0, "x")
    assert rules._spelled(root, ("a", 5, True)) == ("a", 5, True)  # nothing there: left as it was
    assert rules._spelled(root, ("a", 2, True)) == ("a", 2, True)  # just past the end: nothing there either
    assert rules._spelled(root, ("b", True)) == ("b", True)
    assert rules._spelled(None, ("a", True)) == ("a", True)


def test_spelled_passes_over_keys_that_are_not_plain_values():
    root = yaml.compose("? [1]\n: x\n1: y\n")  # PyYAML composes a complex key; the reader would refuse it
    assert rules._spelled(root, (1,)) == ("1",)


@pytest.mark.parametrize("stages", [[1, "qa"], "qa", 7])
def test_malformed_configured_stages_check_no_stage_names(stages):
    """settings.stages that is no list of names is the schema's to report; no stage is called unknown by it."""
    data = copy.deepcopy(BASE)
    data["settings"] = {"stages": stages, "require_approval": ["nope"]}
    model = data["models"][NAME]
    model["stages"]["qa"] = model["stages"].pop("staging")
    model["gates"]["qa"] = model["gates"].pop("staging")
    model["history"][2]["stage"] = "qa"
    assert [p.path for p in check_state(data, None, F)][0].startswith("settings.stages")
    assert not [p for p in check_state(data, None, F) if "unknown stage" in p.message or "configured" in p.message]
