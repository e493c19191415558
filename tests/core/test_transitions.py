"""transitions: set_stage / archive / add_version / rollback_target, results and refusals."""

from __future__ import annotations

import copy
import re

import pytest

from modelreg.core import document, transitions
from modelreg.core.problems import Refusal

from conftest import SAMPLE

NAME = "churn-classifier"
BASE = document.parse(SAMPLE, "r.yaml")[0]
RECORD = {"md5": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "size": 10, "created": "2026-11-27T00:00:00Z",
          "metrics": {"roc_auc": 0.9}}
AT = "2026-12-01T00:00:00Z"


def base() -> dict:
    return copy.deepcopy(BASE)


def refused(call, *args, **kwargs) -> Refusal:
    data = args[0]
    before = copy.deepcopy(data)
    with pytest.raises(Refusal) as info:
        call(*args, **kwargs)
    assert data == before  # a refusal changes nothing
    return info.value


# ---- set_stage ----

def test_set_stage_points_the_stage_and_appends_history():
    data = base()
    new = transitions.set_stage(data, NAME, "production", "v1.3.0", "  better  ", "bob", at=AT, pr=7)
    assert data == BASE  # input untouched
    model = new["models"][NAME]
    assert model["stages"] == {"staging": "v1.3.0", "production": "v1.3.0"}
    assert model["history"][:-1] == BASE["models"][NAME]["history"]
    assert model["history"][-1] == {"at": AT, "by": "bob", "stage": "production", "version": "v1.3.0",
                                    "previous": "v1.2.0", "reason": "better", "pr": 7}


def test_set_stage_without_pr_has_no_pr_key_and_stamps_now():
    new = transitions.set_stage(base(), NAME, "production", "v1.3.0", "r", "bob")
    entry = new["models"][NAME]["history"][-1]
    assert "pr" not in entry
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["at"])


def test_set_stage_on_an_empty_stage_records_previous_none():
    new = transitions.set_stage(base(), "fraud-detector", "staging", "v0.1.0", "r", "carol", at=AT)
    model = new["models"]["fraud-detector"]
    assert model["stages"] == {"staging": "v0.1.0"}
    assert model["history"] == [{"at": AT, "by": "carol", "stage": "staging", "version": "v0.1.0",
                                 "previous": None, "reason": "r"}]


def test_set_stage_to_none_empties_the_stage():
    data = base()
    new = transitions.set_stage(data, NAME, "staging", None, "done", "bob", at=AT)
    assert "staging" not in new["models"][NAME]["stages"]
    assert new["models"][NAME]["history"][-1]["version"] is None
    assert new["models"][NAME]["history"][-1]["previous"] == "v1.3.0"
    assert data["models"][NAME]["stages"]["staging"] == "v1.3.0"


def test_set_stage_creates_missing_stages_and_history():
    data = base()
    del data["models"]["fraud-detector"]["stages"], data["models"]["fraud-detector"]["history"]
    new = transitions.set_stage(data, "fraud-detector", "production", "v0.1.0", "r", "c", at=AT)
    assert new["models"]["fraud-detector"]["stages"] == {"production": "v0.1.0"}
    assert len(new["models"]["fraud-detector"]["history"]) == 1


def test_set_stage_on_null_history():
    data = base()
    data["models"]["fraud-detector"]["history"] = None
    new = transitions.set_stage(data, "fraud-detector", "production", "v0.1.0", "r", "c", at=AT)
    assert len(new["models"]["fraud-detector"]["history"]) == 1


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_set_stage_requires_a_reason(reason):
    error = refused(transitions.set_stage, base(), NAME, "production", "v1.3.0", reason, "bob")
    assert error.path == () and "reason is required" in error.message


def test_set_stage_unknown_stage():
    error = refused(transitions.set_stage, base(), NAME, "qa", "v1.3.0", "r", "bob")
    assert error.path == ("settings", "stages")
    assert error.message == "unknown stage 'qa' (configured: staging, production)"


def test_set_stage_honours_configured_stages():
    data = base()
    data["settings"] = {"stages": ["staging", "production", "qa"]}
    new = transitions.set_stage(data, NAME, "qa", "v1.3.0", "r", "bob", at=AT)
    assert new["models"][NAME]["stages"]["qa"] == "v1.3.0"


def test_set_stage_unknown_model():
    error = refused(transitions.set_stage, base(), "nope", "production", "v1.3.0", "r", "bob")
    assert error.path == ("models",)
    assert "no model named 'nope'" in error.message and "churn-classifier, fraud-detector" in error.message


def test_set_stage_unknown_version_lists_versions_in_semver_order():
    error = refused(transitions.set_stage, base(), NAME, "production", "v9.0.0", "r", "bob")
    assert error.path == ("models", NAME, "versions")
    assert error.message == f"{NAME} has no version v9.0.0 (registered: v0.9.0, v1.0.0, v1.2.0, v1.3.0)"


def test_set_stage_refuses_an_archived_version():
    error = refused(transitions.set_stage, base(), NAME, "production", "v0.9.0", "r", "bob")
    assert error.path == ("models", NAME, "versions", "v0.9.0", "archived")
    assert "is archived" in error.message


def test_set_stage_refuses_a_no_op():
    error = refused(transitions.set_stage, base(), NAME, "production", "v1.2.0", "r", "bob")
    assert error.path == ("models", NAME, "stages", "production")
    assert "already holds production" in error.message


def test_set_stage_refuses_emptying_an_empty_stage():
    error = refused(transitions.set_stage, base(), "fraud-detector", "production", None, "r", "bob")
    assert error.path == ("models", "fraud-detector", "stages")
    assert "has no production version" in error.message


# ---- archive ----

def test_archive_sets_the_stripped_reason_and_nothing_else():
    data = base()
    new = transitions.archive(data, NAME, "v1.0.0", "  old  ")
    assert data == BASE
    assert new["models"][NAME]["versions"]["v1.0.0"] == {**BASE["models"][NAME]["versions"]["v1.0.0"],
                                                        "archived": "old"}
    new["models"][NAME]["versions"]["v1.0.0"].pop("archived")
    assert new == BASE


@pytest.mark.parametrize("reason", ["", "  "])
def test_archive_requires_a_reason(reason):
    assert "reason is required" in refused(transitions.archive, base(), NAME, "v1.0.0", reason).message


def test_archive_refuses_an_archived_version():
    error = refused(transitions.archive, base(), NAME, "v0.9.0", "again")
    assert error.path == ("models", NAME, "versions", "v0.9.0", "archived")
    assert "already archived" in error.message


def test_archive_refuses_a_stage_holder():
    error = refused(transitions.archive, base(), NAME, "v1.2.0", "old")
    assert error.path == ("models", NAME, "stages", "production")
    assert error.message == f"{NAME} v1.2.0 holds production"
    assert error.hint == "promote another version to that stage first"


def test_archive_refuses_a_holder_of_two_stages_and_names_both():
    data = base()
    data["models"][NAME]["stages"]["staging"] = "v1.2.0"
    error = refused(transitions.archive, data, NAME, "v1.2.0", "old")
    assert error.message == f"{NAME} v1.2.0 holds staging, production"
    assert error.path == ("models", NAME, "stages", "staging")
    assert "those stages" in error.hint


def test_archive_unknown_version_and_model():
    assert refused(transitions.archive, base(), NAME, "v5.0.0", "r").path == ("models", NAME, "versions")
    assert refused(transitions.archive, base(), "nope", "v1.0.0", "r").path == ("models",)


# ---- add_version ----

def test_add_version_to_an_existing_model_fixes_its_format():
    data = base()
    record = copy.deepcopy(RECORD)
    new = transitions.add_version(data, NAME, "v1.4.0", record)
    assert data == BASE and record == RECORD  # inputs untouched
    added = new["models"][NAME]["versions"]["v1.4.0"]
    assert added == {**RECORD, "format": "pickle"}  # the model's format, fixed at registration
    assert list(added) == ["md5", "size", "format", "created", "metrics"]  # placed after size
    del new["models"][NAME]["versions"]["v1.4.0"]
    assert new == BASE


def test_add_version_keeps_an_explicit_format_and_adds_none_without_a_model_format():
    new = transitions.add_version(base(), NAME, "v1.4.0", dict(RECORD, format="onnx"))
    assert new["models"][NAME]["versions"]["v1.4.0"]["format"] == "onnx"
    data = base()
    del data["models"][NAME]["format"]
    assert "format" not in transitions.add_version(data, NAME, "v1.4.0", RECORD)["models"][NAME]["versions"]["v1.4.0"]


def test_add_version_creates_a_new_model_with_its_fields():
    fields = {"path": "models/new/model.pkl", "owners": ["dave"]}
    new = transitions.add_version(base(), "new-model", "v0.1.0", RECORD, fields)
    assert new["models"]["new-model"] == {"path": "models/new/model.pkl", "owners": ["dave"],
                                          "versions": {"v0.1.0": RECORD}}
    assert fields == {"path": "models/new/model.pkl", "owners": ["dave"]}  # caller's dict untouched
    typed = transitions.add_version(base(), "new-model", "v0.1.0", RECORD, dict(fields, format="onnx"))
    assert typed["models"]["new-model"]["versions"]["v0.1.0"]["format"] == "onnx"


def test_add_version_into_null_models_and_versions():
    assert transitions.add_version({"schema": 1, "models": None}, "m", "v1.0.0", RECORD)["models"] == {
        "m": {"versions": {"v1.0.0": RECORD}}}
    data = {"schema": 1, "models": {"m": {"path": "p", "versions": None}}}
    assert transitions.add_version(data, "m", "v1.0.0", RECORD)["models"]["m"]["versions"] == {"v1.0.0": RECORD}
    assert data["models"]["m"]["versions"] is None


def test_add_version_refuses_an_existing_version():
    error = refused(transitions.add_version, base(), NAME, "v1.3.0", RECORD)
    assert error.path == ("models", NAME, "versions", "v1.3.0")
    assert "already registered" in error.message


def test_add_version_refuses_an_artifact_registered_before():
    record = dict(RECORD, md5=BASE["models"][NAME]["versions"]["v1.0.0"]["md5"])
    error = refused(transitions.add_version, base(), NAME, "v1.4.0", record)
    assert error.path == ("models", NAME, "versions", "v1.0.0", "md5")
    assert f"already registered as {NAME} v1.0.0" in error.message


def test_add_version_same_md5_in_another_model_is_fine():
    record = dict(RECORD, md5=BASE["models"]["fraud-detector"]["versions"]["v0.1.0"]["md5"])
    assert "v1.4.0" in transitions.add_version(base(), NAME, "v1.4.0", record)["models"][NAME]["versions"]


# ---- rollback_target ----

def test_rollback_target_is_the_previous_production_version():
    assert transitions.rollback_target(BASE, NAME) == "v1.0.0"


def test_rollback_target_skips_archived_versions():
    data = base()
    model = data["models"][NAME]
    model["versions"]["v0.9.0"].pop("archived")
    model["history"] = [
        {"at": AT, "by": "a", "stage": "production", "version": "v0.9.0", "previous": None, "reason": "r"},
        {"at": AT, "by": "a", "stage": "production", "version": "v1.0.0", "previous": "v0.9.0", "reason": "r"},
        {"at": AT, "by": "a", "stage": "production", "version": "v1.2.0", "previous": "v1.0.0", "reason": "r"},
        model["history"][2]]
    assert transitions.rollback_target(data, NAME) == "v1.0.0"
    model["versions"]["v1.0.0"]["archived"] = "bad"
    assert transitions.rollback_target(data, NAME) == "v0.9.0"


def test_rollback_target_of_another_stage():
    data = transitions.set_stage(BASE, NAME, "staging", "v1.2.0", "r", "a", at=AT)
    assert transitions.rollback_target(data, NAME, "staging") == "v1.3.0"


def test_rollback_target_with_no_earlier_holder():
    error = refused(transitions.rollback_target, base(), NAME, "staging")
    assert error.path == ("models", NAME, "history")
    assert "no earlier staging version" in error.message


def test_rollback_target_when_the_only_earlier_holder_is_archived():
    data = transitions.archive(BASE, NAME, "v1.0.0", "bad")
    error = refused(transitions.rollback_target, data, NAME)
    assert error.path == ("models", NAME, "history")


def test_rollback_target_unknown_model():
    assert refused(transitions.rollback_target, base(), "nope").path == ("models",)
