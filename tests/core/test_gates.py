"""gates.evaluate: every gate kind at its boundaries. Pure: models and versions built in memory."""

from __future__ import annotations

import pytest

from modelreg.core import gates
from modelreg.core.gates import GateCheck
from modelreg.core.registry import Model, Version


def version(name: str, **metrics) -> Version:
    return Version(name=name, md5="a" * 32, size=1, created="2026-11-26T10:04:00Z", metrics=metrics)


def model(stage_gates: dict, metric: str | None = "score", goal: str | None = "max", history=None) -> Model:
    raw: dict = {"path": "m.pkl", "versions": {}, "gates": {"production": stage_gates}}
    if metric is not None:
        raw["metric"] = {"name": metric, **({"goal": goal} if goal else {})}
    if history is not None:
        raw["history"] = history
    return Model("m", raw)


def single(checks: list[GateCheck]) -> GateCheck:
    assert len(checks) == 1, checks
    return checks[0]


# ---- min / max gates ----

@pytest.mark.parametrize("value, passed", [(0.5, False), (0.75, True), (0.74999, False), (0.0, False), (1, True)])
def test_min_gate_boundary(value, passed):
    check = single(gates.evaluate(model({"score": {"min": 0.75}}), "production", version("v1.0.0", score=value)))
    assert (check.stage, check.name, check.passed) == ("production", "score", passed)


def test_min_gate_equal_value_passes_and_says_so():
    check = single(gates.evaluate(model({"score": {"min": 0.8}}), "production", version("v1.0.0", score=0.8)))
    assert check.passed
    assert check.detail == "score 0.8 >= min 0.8"
    assert check.mark == "pass"


def test_min_gate_failure_detail():
    check = single(gates.evaluate(model({"score": {"min": 0.8}}), "production", version("v1.0.0", score=0.79)))
    assert not check.passed
    assert check.detail == "score 0.79 < min 0.8"
    assert check.mark == "FAIL"


@pytest.mark.parametrize("value, passed", [(0.2, True), (0.25, True), (0.25001, False), (3, False)])
def test_max_gate_boundary(value, passed):
    check = single(gates.evaluate(model({"loss": {"max": 0.25}}), "production", version("v1.0.0", loss=value)))
    assert check.passed is passed
    assert check.detail.startswith(f"loss {value:g} {'<=' if passed else '>'} max 0.25")


def test_min_and_max_in_one_gate_give_two_checks_in_order():
    checks = gates.evaluate(model({"score": {"min": 0.5, "max": 0.9}}), "production", version("v1.0.0", score=0.95))
    assert [(c.name, c.passed) for c in checks] == [("score", True), ("score", False)]
    assert "min" in checks[0].detail and "max" in checks[1].detail


def test_integer_thresholds_and_values_are_numbers():
    check = single(gates.evaluate(model({"count": {"min": 3}}), "production", version("v1.0.0", count=3)))
    assert check.passed


def test_every_gate_of_the_stage_is_checked_and_other_stages_are_not():
    m = Model("m", {"path": "p", "versions": {}, "gates": {
        "staging": {"a": {"min": 100}},
        "production": {"a": {"min": 0.1}, "b": {"max": 1.0}}}})
    checks = gates.evaluate(m, "production", version("v1.0.0", a=0.5, b=0.5))
    assert [(c.stage, c.name, c.passed) for c in checks] == [("production", "a", True), ("production", "b", True)]
    assert gates.evaluate(m, "qa", version("v1.0.0", a=0.5)) == []


def test_missing_metric_fails_with_its_name():
    check = single(gates.evaluate(model({"accuracy": {"min": 0.1}}), "production", version("v1.0.0", score=1.0)))
    assert not check.passed
    assert check.detail == "v1.0.0 has no metric 'accuracy'"


@pytest.mark.parametrize("value, rule", [
    ("0.9", {"min": 0.5}),     # a string metric
    (True, {"min": 0.5}),      # a bool is not a number, though it is an int in Python
    (0.9, {"min": "0.5"}),     # a string threshold
    (0.9, {"min": None}),
    (0.9, 0.5),                # the rule is not a mapping
])
def test_non_numeric_metric_or_threshold_fails(value, rule):
    check = single(gates.evaluate(model({"score": rule}), "production", version("v1.0.0", score=value)))
    assert not check.passed
    assert "not a number" in check.detail


def test_failures_keeps_only_failed_checks():
    checks = [GateCheck("s", "a", True, ""), GateCheck("s", "b", False, ""), GateCheck("s", "c", False, "")]
    assert [c.name for c in gates.failures(checks)] == ["b", "c"]
    assert gates.failures([]) == []


# ---- beat_production ----

def beat(margin, ours, theirs, goal="max", rollback=False, metric="score"):
    m = model({"beat_production": margin}, metric=metric, goal=goal)
    production = version("v1.0.0", **({"score": theirs} if theirs is not None else {}))
    candidate = version("v2.0.0", **({"score": ours} if ours is not None else {}))
    return single(gates.evaluate(m, "production", candidate, production, rollback=rollback))


def test_beat_production_equal_candidate_passes_with_zero_margin():
    check = beat(0.0, 0.8, 0.8)
    assert check.name == "beat_production" and check.passed


def test_beat_production_worse_candidate_fails_with_zero_margin():
    check = beat(0.0, 0.79, 0.8)
    assert not check.passed
    assert "< required +0" in check.detail


def test_beat_production_better_candidate_passes():
    check = beat(0.0, 0.81, 0.8)
    assert check.passed and ">= required" in check.detail


@pytest.mark.parametrize("ours, passed", [(0.75, True), (0.7, False), (0.875, True)])
def test_beat_production_positive_margin_boundary(ours, passed):
    # binary-exact values: 0.75 - 0.5 == 0.25 exactly, so the boundary is the boundary
    assert beat(0.25, ours, 0.5).passed is passed


def test_beat_production_negative_margin_tolerates_that_much_worse():
    assert beat(-0.25, 0.25, 0.5).passed          # worse by exactly the tolerance
    assert not beat(-0.25, 0.125, 0.5).passed     # worse by more


@pytest.mark.parametrize("ours, theirs, passed", [
    (0.25, 0.5, True),    # lower loss is better
    (0.5, 0.5, True),     # equal loss, margin 0.0: no worse
    (0.75, 0.5, False),   # higher loss is worse
])
def test_beat_production_goal_min_zero_margin(ours, theirs, passed):
    assert beat(0.0, ours, theirs, goal="min").passed is passed


def test_beat_production_goal_min_delta_is_production_minus_candidate():
    check = beat(0.25, 0.25, 0.5, goal="min")  # loss improves by exactly the margin
    assert check.passed
    assert "+0.25 >=" in check.detail
    assert not beat(0.25, 0.375, 0.5, goal="min").passed  # improves by less than the margin
    assert not beat(0.25, 0.75, 0.5, goal="min").passed  # a max-goal delta would be +0.25 and pass


def test_beat_production_goal_defaults_to_max():
    assert beat(0.0, 0.9, 0.5, goal=None).passed
    assert not beat(0.0, 0.4, 0.5, goal=None).passed


def test_beat_production_with_no_production_passes():
    m = model({"beat_production": 0.1})
    check = single(gates.evaluate(m, "production", version("v2.0.0", score=0.0), None))
    assert check.passed and "no production version" in check.detail


def test_beat_production_for_the_production_version_itself_passes():
    m = model({"beat_production": 0.1})
    same = version("v1.0.0", score=0.5)
    check = single(gates.evaluate(m, "production", same, version("v1.0.0", score=0.5)))
    assert check.passed and "is the production version" in check.detail


def test_beat_production_rollback_is_exempt_even_when_worse():
    check = beat(0.0, 0.1, 0.9, rollback=True)
    assert check.passed and "rollback" in check.detail
    assert not beat(0.0, 0.1, 0.9, rollback=False).passed


def test_beat_production_without_primary_metric_fails():
    m = model({"beat_production": 0.0}, metric=None)
    check = single(gates.evaluate(m, "production", version("v2.0.0", score=1.0), version("v1.0.0", score=0.0)))
    assert not check.passed and "no primary metric" in check.detail


def test_beat_production_candidate_missing_metric_names_the_candidate():
    check = beat(0.0, None, 0.5)
    assert not check.passed
    assert check.detail == "v2.0.0 has no metric 'score' to compare"


def test_beat_production_production_missing_metric_names_production():
    check = beat(0.0, 0.5, None)
    assert not check.passed
    assert check.detail == "v1.0.0 has no metric 'score' to compare"


@pytest.mark.parametrize("margin, ours, theirs", [("0.1", 0.9, 0.5), (0.0, "0.9", 0.5), (0.0, 0.9, True),
                                                  (None, 0.9, 0.5)])
def test_beat_production_non_numeric_fails(margin, ours, theirs):
    check = beat(margin, ours, theirs)
    assert not check.passed and "not a number" in check.detail


# ---- held_production_before ----

def test_held_production_before_reads_production_entries_only():
    history = [
        {"at": "t", "by": "a", "stage": "production", "version": "v1.0.0", "previous": None, "reason": "r"},
        {"at": "t", "by": "a", "stage": "staging", "version": "v2.0.0", "previous": None, "reason": "r"},
    ]
    m = model({}, history=history)
    assert gates.held_production_before(m, "v1.0.0")
    assert not gates.held_production_before(m, "v2.0.0")  # held staging, not production
    assert not gates.held_production_before(m, "v9.9.9")
