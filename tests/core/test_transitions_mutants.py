"""core/transitions.py: every refusal whole (message, path, hint), and the corners of add_version.

A refusal is what a person reads when a command says no, and its path is where the CLI points;
each is asserted in full. Written to kill the mutants of `make mutation` (docs/testing.md).
"""

from __future__ import annotations

import copy
import os
import time
from datetime import datetime, timedelta, timezone

import pytest

from modelreg.core import document, transitions
from modelreg.core.problems import Refusal

from conftest import SAMPLE

NAME = "churn-classifier"
BASE = document.parse(SAMPLE, "r.yaml")[0]
RECORD = {"md5": "a" * 32, "size": 10, "created": "2026-11-27T00:00:00Z"}


def base() -> dict:
    return copy.deepcopy(BASE)


def refusal(call, *args, **kwargs) -> tuple:
    with pytest.raises(Refusal) as info:
        call(*args, **kwargs)
    return info.value.message, info.value.path, info.value.hint


def test_now_is_utc_whatever_the_local_zone(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")  # UTC+9, no daylight saving
    time.tzset()
    try:
        stamp = datetime.strptime(transitions.now(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        assert abs(stamp - datetime.now(timezone.utc)) < timedelta(minutes=5)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert "TZ" not in os.environ


def test_unknown_model():
    assert refusal(transitions.set_stage, base(), "nope", "production", "v1.2.0", "r", "x") == (
        "no model named 'nope' in the registry (models: churn-classifier, fraud-detector)", ("models",),
        "check the spelling, or register it first")
    assert refusal(transitions.archive, {"models": {}}, "nope", "v1.0.0", "r")[0] == (
        "no model named 'nope' in the registry (models: none)")


def test_unknown_version_lists_the_registered_ones_in_semver_order():
    data = base()
    data["models"][NAME]["versions"]["v1.10.0"] = dict(RECORD)
    assert refusal(transitions.set_stage, data, NAME, "staging", "v9.0.0", "r", "x") == (
        f"{NAME} has no version v9.0.0 (registered: v0.9.0, v1.0.0, v1.2.0, v1.3.0, v1.10.0)",
        ("models", NAME, "versions"), "")
    data["models"][NAME]["versions"] = {}
    assert refusal(transitions.archive, data, NAME, "v1.0.0", "r")[0] == (
        f"{NAME} has no version v1.0.0 (registered: none)")


def test_unknown_stage():
    assert refusal(transitions.set_stage, base(), NAME, "qa", "v1.2.0", "r", "x") == (
        "unknown stage 'qa' (configured: staging, production)", ("settings", "stages"),
        "use a configured stage, or add it to settings.stages")


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_reasons_are_required(reason):
    assert refusal(transitions.set_stage, base(), NAME, "staging", "v1.2.0", reason, "x") == (
        "a reason is required: say why, it goes into the audit trail (--reason)", (), "")
    assert refusal(transitions.archive, base(), NAME, "v1.0.0", reason) == (
        "a reason is required to archive a version (--reason)", (), "")


def test_an_archived_version_cannot_hold_a_stage():
    assert refusal(transitions.set_stage, base(), NAME, "staging", "v0.9.0", "r", "x") == (
        f"{NAME} v0.9.0 is archived (Superseded; underperforms on Q3 data.); it cannot hold staging",
        ("models", NAME, "versions", "v0.9.0", "archived"), "promote a live version")


def test_no_op_promotions_and_emptyings():
    assert refusal(transitions.set_stage, base(), NAME, "production", "v1.2.0", "r", "x") == (
        f"{NAME} v1.2.0 already holds production; nothing to do", ("models", NAME, "stages", "production"), "")
    assert refusal(transitions.set_stage, base(), "fraud-detector", "staging", None, "r", "x") == (
        "fraud-detector has no staging version; nothing to do", ("models", "fraud-detector", "stages"), "")


def test_set_stage_entry_and_a_pr_number():
    new = transitions.set_stage(base(), NAME, "staging", "v1.2.0", "  why  ", "bob", at="t", pr=12)
    assert new["models"][NAME]["history"][-1] == {"at": "t", "by": "bob", "stage": "staging", "version": "v1.2.0",
                                                  "previous": "v1.3.0", "reason": "why", "pr": 12}
    assert new["models"][NAME]["stages"] == {"staging": "v1.2.0", "production": "v1.2.0"}


def test_rollback_refusals():
    assert refusal(transitions.rollback_target, base(), "nope") == (
        "no model named 'nope' in the registry", ("models",), "")
    assert refusal(transitions.rollback_target, base(), NAME, "staging") == (
        f"{NAME} has no earlier staging version in its history to roll back to", ("models", NAME, "history"),
        "name one with --to VERSION")


def test_archive_refusals():
    assert refusal(transitions.archive, base(), NAME, "v0.9.0", "again") == (
        f"{NAME} v0.9.0 is already archived (Superseded; underperforms on Q3 data.)",
        ("models", NAME, "versions", "v0.9.0", "archived"), "")
    assert refusal(transitions.archive, base(), NAME, "v1.2.0", "r") == (
        f"{NAME} v1.2.0 holds production", ("models", NAME, "stages", "production"),
        "promote another version to that stage first")
    both = transitions.set_stage(base(), NAME, "staging", "v1.2.0", "r", "x", at="t")
    assert refusal(transitions.archive, both, NAME, "v1.2.0", "r") == (
        f"{NAME} v1.2.0 holds staging, production", ("models", NAME, "stages", "staging"),
        "promote another version to those stages first")


def test_add_version_refusals():
    assert refusal(transitions.add_version, base(), NAME, "v1.2.0", dict(RECORD)) == (
        f"{NAME} v1.2.0 is already registered; registered versions never change", ("models", NAME, "versions", "v1.2.0"),
        "use --bump or another --version")
    same = dict(RECORD, md5="7d793037a0760186574b0282f2f435e7")
    assert refusal(transitions.add_version, base(), NAME, "v2.0.0", same) == (
        f"this artifact (md5 7d793037a0760186574b0282f2f435e7) is already registered as {NAME} v1.2.0",
        ("models", NAME, "versions", "v1.2.0", "md5"), "train a new model before registering")


def test_add_version_keeps_a_format_written_before_the_size():
    record = {"md5": "a" * 32, "format": "onnx", "size": 10, "created": "t"}
    new = transitions.add_version(base(), NAME, "v2.0.0", record)
    assert list(new["models"][NAME]["versions"]["v2.0.0"].items()) == list(record.items())


def test_add_version_adds_the_models_format_after_the_size_or_at_the_end():
    new = transitions.add_version(base(), NAME, "v2.0.0", {"md5": "a" * 32, "size": 10, "created": "t"})
    assert list(new["models"][NAME]["versions"]["v2.0.0"]) == ["md5", "size", "format", "created"]
    assert new["models"][NAME]["versions"]["v2.0.0"]["format"] == "pickle"
    no_size = transitions.add_version(base(), NAME, "v2.0.0", {"md5": "a" * 32, "created": "t"})
    assert no_size["models"][NAME]["versions"]["v2.0.0"] == {"md5": "a" * 32, "created": "t", "format": "pickle"}


def test_add_version_to_a_model_without_versions():
    data = base()
    data["models"][NAME].pop("versions")
    new = transitions.add_version(data, NAME, "v2.0.0", dict(RECORD))
    assert list(new["models"][NAME]["versions"]) == ["v2.0.0"]


def test_add_version_shares_the_other_models_and_copies_its_own():
    data = base()
    new = transitions.add_version(data, NAME, "v2.0.0", dict(RECORD))
    assert new["models"]["fraud-detector"] is data["models"]["fraud-detector"]
    assert new["models"][NAME] is not data["models"][NAME]
    assert "v2.0.0" not in data["models"][NAME]["versions"]


def test_copy_for():
    data = base()
    copied = transitions.copy_for(data, NAME)
    assert copied == data and copied is not data and copied["models"] is not data["models"]
    assert copied["models"][NAME] is not data["models"][NAME]
    assert copied["models"][NAME]["versions"] is not data["models"][NAME]["versions"]  # deep
    assert copied["models"]["fraud-detector"] is data["models"]["fraud-detector"]
    assert transitions.copy_for({"models": None, "schema": 1}, NAME) == {"models": None, "schema": 1}
    other = transitions.copy_for(data, "new-model")
    assert other["models"] is not data["models"] and "new-model" not in other["models"]
