"""Registered against reproduced metrics: tolerances, gates on the reproduced numbers, and trust by format."""

from __future__ import annotations

import pytest

from modelreg.core.diff import STAGE_ASSIGNED, VERSION_REGISTERED, Event
from modelreg.core.registry import Model, Version
from modelreg.core.reproduction import MetricCheck, Reproduction, compare, tolerance
from modelreg.flows.check import Checked, _reproductions

MODEL = Model("m", {"path": "models/m.skops", "format": "skops", "metric": {"name": "auc", "goal": "max"},
                    "gates": {"production": {"auc": {"min": 0.8}}}, "versions": {}})
VERSION = Version("v1.1.0", "a" * 32, 10, "2026-11-27T00:00:00Z", metrics={"auc": 0.9, "f1": 0.5})


@pytest.mark.parametrize("reproduced, tol, ok", [(0.9, 0.0, True), (0.9004, 0.0005, True), (0.8996, 0.0005, True),
                                                 (0.9006, 0.0005, False), (0.89, 0.0, False), (None, 1.0, False),
                                                 (float("nan"), 1.0, False)])
def test_a_metric_reproduces_within_its_tolerance(reproduced, tol, ok):
    assert MetricCheck("auc", 0.9, reproduced, tol).ok is ok


def test_tolerances_per_metric_and_default():
    spec = {"tolerance": {"default": 0.01, "auc": 0.001}}
    assert tolerance(spec, "auc") == 0.001 and tolerance(spec, "f1") == 0.01 and tolerance({}, "auc") == 0.0


def test_gates_are_checked_on_the_reproduced_numbers():
    checks, failures = compare({"tolerance": {"default": 0.2}}, MODEL, VERSION, {"auc": 0.75, "f1": 0.5},
                               ["production"], None)
    assert all(c.ok for c in checks)  # within the (generous) tolerance ...
    assert failures == ["reproduced auc 0.75 < min 0.8 (production gate)"]  # ... but the gate fails on them


def test_a_missing_reproduced_metric_fails():
    checks, _ = compare({}, MODEL, VERSION, {"auc": 0.9}, [], None)
    assert [c.name for c in checks if not c.ok] == ["f1"]


@pytest.mark.parametrize("fmt, trusted", [("skops", True), ("onnx", True), ("pickle", False), ("joblib", False),
                                          (None, False), ("directory", False)])
def test_only_formats_that_run_no_code_are_trusted(fmt, trusted):
    assert Reproduction("m", "v1.0.0", "a" * 32, fmt).trusted is trusted


def test_the_json_round_trip_keeps_what_the_check_reads():
    result = Reproduction("m", "v1.1.0", "a" * 32, "skops", [MetricCheck("auc", 0.9, 0.8, 0.0)], ["g"], head="b" * 40)
    again = Reproduction.from_dict(result.as_dict())
    assert again == result and not again.ok


def registry(fmt: str, evaluation: dict | None) -> dict:
    raw = {"path": "models/m.pkl", "format": fmt, "versions": {"v1.1.0": {"md5": "a" * 32, "size": 1,
                                                                           "created": "2026-11-27T00:00:00Z"}}}
    if evaluation is not None:
        raw["evaluation"] = evaluation
    return {"schema": 1, "models": {"m": raw}}


def check_with(fmt: str, reproduction: Reproduction | None, required: bool = True,
               evaluation: dict | None = None) -> Checked:
    result = Checked(events=[Event(VERSION_REGISTERED, "m", "v1.1.0"), Event(STAGE_ASSIGNED, "m", "v1.1.0",
                                                                                stage="staging")])
    _reproductions(result, None, registry(fmt, {"stage": "evaluate"} if evaluation is None else evaluation),
                   [reproduction] if reproduction else [], required, "c" * 40)
    return result


def failing(fmt: str) -> Reproduction:
    return Reproduction("m", "v1.1.0", "a" * 32, fmt, [MetricCheck("auc", 0.99, 0.7, 0.0)], head="c" * 40)


def test_a_trusted_reproduction_that_disagrees_blocks_the_check():
    result = check_with("skops", failing("skops"))
    assert result.missing == ["m v1.1.0: does not reproduce: auc registered 0.99, reproduced 0.7"]


def test_a_pickle_reproduction_is_reported_but_never_counts():
    result = check_with("pickle", failing("pickle"))
    assert result.missing == [] and "informational" in result.notes[0] and "cannot satisfy a gate" in result.notes[0]


def test_a_result_for_other_bytes_or_another_commit_is_ignored():
    other = failing("skops")
    other.md5 = "b" * 32
    assert "no reproduction" in check_with("skops", other).missing[0]
    stale = Reproduction("m", "v1.1.0", "a" * 32, "skops", [MetricCheck("auc", 0.9, 0.9, 0.0)], head="d" * 40)
    assert "no reproduction" in check_with("skops", stale).missing[0]


def test_locally_a_missing_reproduction_is_a_note_and_skip_is_respected():
    assert check_with("skops", None, required=False).missing == []
    skipped = check_with("skops", None, evaluation={"skip": "700 GB model"})
    assert skipped.missing == [] and "not re-evaluated: 700 GB model" in skipped.notes[0]
