"""core/gates.py: every GateCheck compared whole (stage, name, passed, detail), and the signature gate.

The PR comment's gate table shows each field; written to kill the mutants of `make mutation`
(docs/testing.md). The boundaries (min/max equality, margins, goal min) are in test_gates.py.
"""

from __future__ import annotations

import pytest

from modelreg.core import gates
from modelreg.core.gates import GateCheck
from modelreg.core.registry import Model, Version

THREE, FOUR = {"features": 3}, {"features": 4}


def version(name: str, **metrics) -> Version:
    return Version(name=name, md5="a" * 32, size=1, created="2026-11-26T10:04:00Z", metrics=metrics)


def model(stage_gates: dict, stage: str = "production", metric: str | None = "score", signatures=None) -> Model:
    raw: dict = {"path": "m.pkl", "gates": {stage: stage_gates},
                 "versions": {name: {"md5": "a" * 32, "size": 1, "created": "t", **({"signature": s} if s else {})}
                              for name, s in (signatures or {}).items()}}
    if metric:
        raw["metric"] = {"name": metric}
    return Model("m", raw)


# ---- metric gates ----

def test_a_missing_metric_and_a_non_numeric_one_do_not_stop_the_others():
    m = model({"absent": {"min": 1}, "text": {"min": 1}, "score": {"min": 0.5, "max": 0.9}})
    checks = gates.evaluate(m, "production", version("v1.0.0", text="high", score=0.7))
    assert checks == [
        GateCheck("production", "absent", False, "v1.0.0 has no metric 'absent'"),
        GateCheck("production", "text", False, "text or its gate is not a number"),
        GateCheck("production", "score", True, "score 0.7 >= min 0.5"),
        GateCheck("production", "score", True, "score 0.7 <= max 0.9"),
    ]


def test_checks_after_beat_production_and_signature_entries_are_made():
    m = model({"beat_production": 0.0, "signature": "any", "score": {"min": 0.5}})
    checks = gates.evaluate(m, "production", version("v2.0.0", score=0.7), None)
    assert checks == [GateCheck("production", "beat_production", True, "no production version to beat yet"),
                      GateCheck("production", "score", True, "score 0.7 >= min 0.5")]


def test_a_gate_of_another_stage_gets_its_stage_in_every_check():
    m = model({"beat_production": 0.0, "score": {"max": 0.1}}, stage="staging")
    checks = gates.evaluate(m, "staging", version("v2.0.0", score=0.7), version("v1.0.0", score=0.9))
    assert [(c.stage, c.name, c.passed) for c in checks] == [("staging", "beat_production", False),
                                                              ("staging", "score", False)]


# ---- beat_production, whole ----

@pytest.mark.parametrize("production, rollback, metric, candidate, expected", [
    (version("v1.0.0", score=0.9), True, "score", version("v2.0.0", score=0.1),
     GateCheck("production", "beat_production", True, "exempt: v2.0.0 held production before (rollback)")),
    (None, False, "score", version("v2.0.0", score=0.1),
     GateCheck("production", "beat_production", True, "no production version to beat yet")),
    (version("v2.0.0", score=0.9), False, "score", version("v2.0.0", score=0.1),
     GateCheck("production", "beat_production", True, "v2.0.0 is the production version")),
    (version("v1.0.0", score=0.9), False, None, version("v2.0.0", score=0.1),
     GateCheck("production", "beat_production", False, "the model has no primary metric (set metric: {name: ...})")),
    (version("v1.0.0", score="0.9"), False, "score", version("v2.0.0", score=0.1),
     GateCheck("production", "beat_production", False, "score or the margin is not a number")),
    (version("v1.0.0"), False, "score", version("v2.0.0", score=0.1),
     GateCheck("production", "beat_production", False, "v1.0.0 has no metric 'score' to compare")),
    (version("v1.0.0", score=0.5), False, "score", version("v2.0.0", score=0.75),
     GateCheck("production", "beat_production", True, "score 0.75 vs v1.0.0 0.5: +0.25 >= required +0")),
])
def test_beat_production_checks_whole(production, rollback, metric, candidate, expected):
    m = model({"beat_production": 0.0}, metric=metric)
    assert gates.evaluate(m, "production", candidate, production, rollback) == [expected]


# ---- the signature gate ----

def test_an_input_signature_that_breaks_production_fails():
    m = model({}, signatures={"v1.0.0": THREE, "v2.0.0": FOUR})
    checks = gates.evaluate(m, "production", version("v2.0.0"), version("v1.0.0"))
    assert checks == [GateCheck("production", "signature", False, "v2.0.0's input is not compatible with v1.0.0 "
                                "(production): takes 4 features instead of 3")]


def test_an_input_signature_production_clients_can_use_passes():
    m = model({}, signatures={"v1.0.0": THREE, "v2.0.0": dict(THREE)})
    assert gates.evaluate(m, "production", version("v2.0.0"), version("v1.0.0")) == [
        GateCheck("production", "signature", True, "input compatible with production")]


@pytest.mark.parametrize("signatures, production, rollback", [
    ({"v1.0.0": THREE, "v2.0.0": FOUR}, None, False),  # nothing to compare with
    ({"v1.0.0": THREE, "v2.0.0": FOUR}, "v1.0.0", True),  # a rollback returns to a known state
    ({"v1.0.0": THREE}, "v1.0.0", False),  # the candidate has no signature
    ({"v2.0.0": FOUR}, "v1.0.0", False),  # production has none
])
def test_no_signature_check_without_both_sides_or_on_a_rollback(signatures, production, rollback):
    m = model({}, signatures=signatures)
    assert gates.evaluate(m, "production", version("v2.0.0"), production and version(production), rollback) == []


def test_the_signature_gate_of_another_stage_is_declared_in_its_gates():
    declared = model({"signature": "compatible"}, stage="staging", signatures={"v1.0.0": THREE, "v2.0.0": FOUR})
    (check,) = gates.evaluate(declared, "staging", version("v2.0.0"), version("v1.0.0"))
    assert (check.stage, check.name, check.passed) == ("staging", "signature", False)
    assert check.detail.startswith("v2.0.0's input is not compatible with v1.0.0 (production): ")
    undeclared = model({}, stage="staging", signatures={"v1.0.0": THREE, "v2.0.0": FOUR})
    assert gates.evaluate(undeclared, "staging", version("v2.0.0"), version("v1.0.0")) == []
    relaxed = model({"signature": "any"}, signatures={"v1.0.0": THREE, "v2.0.0": FOUR})
    assert gates.evaluate(relaxed, "production", version("v2.0.0"), version("v1.0.0")) == []


def test_several_reasons_are_joined():
    m = model({}, signatures={"v1.0.0": {"features": 2, "names": ["a", "b"]},
                              "v2.0.0": {"features": 3, "names": ["a", "c", "d"]}})
    (check,) = gates.evaluate(m, "production", version("v2.0.0"), version("v1.0.0"))
    prefix = "v2.0.0's input is not compatible with v1.0.0 (production): "
    assert check.detail == (f"{prefix}takes 3 features instead of 2; {prefix}no longer takes b; "
                            f"{prefix}now requires c, d")
    assert not check.passed


def test_a_stage_signature_gate_is_read_from_that_stage_not_productions():
    m = Model("m", {"path": "p", "gates": {"staging": {"signature": "compatible"}, "production": {"signature": "any"}},
                    "versions": {"v1.0.0": {"md5": "a" * 32, "size": 1, "created": "t", "signature": THREE},
                                 "v2.0.0": {"md5": "b" * 32, "size": 1, "created": "t", "signature": FOUR}}})
    (check,) = gates.evaluate(m, "staging", version("v2.0.0"), version("v1.0.0"))
    assert (check.name, check.passed) == ("signature", False)
