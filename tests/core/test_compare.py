"""compare: deltas against production, best version, differing params, gate results."""

from __future__ import annotations

import copy

import pytest

from modelreg.core import document
from modelreg.core.compare import compare, flatten
from modelreg.core.registry import Model, Registry

from conftest import SAMPLE

NAME = "churn-classifier"
STAGES = ("staging", "production")
BASE = document.parse(SAMPLE, "r.yaml")[0]


def churn(data: dict | None = None) -> Model:
    return Registry(copy.deepcopy(data or BASE)).model(NAME)


def loss_model(losses: dict[str, float], production: str | None, margin: float = 0.0) -> Model:
    versions = {name: {"md5": f"{i:032x}", "size": 1, "created": "2026-11-26T10:04:00Z", "metrics": {"loss": loss}}
                for i, (name, loss) in enumerate(losses.items())}
    return Model("m", {"path": "p", "metric": {"name": "loss", "goal": "min"},
                       "gates": {"production": {"beat_production": margin}},
                       "stages": {"production": production} if production else {},
                       "versions": versions, "history": []})


def test_default_versions_are_live_ones_in_semver_order_with_production_baseline():
    result = compare(churn(), None, STAGES)
    assert [v.name for v in result.versions] == ["v1.0.0", "v1.2.0", "v1.3.0"]  # v0.9.0 is archived
    assert result.baseline.name == "v1.2.0"


def test_metrics_put_the_primary_metric_first():
    assert compare(churn(), None, STAGES).metrics == ["roc_auc", "accuracy"]


def test_deltas_against_production_for_a_max_goal():
    result = compare(churn(), None, STAGES)
    v = {x.name: x for x in result.versions}
    assert result.delta(v["v1.3.0"], "roc_auc") == pytest.approx(0.861 - 0.842)
    assert result.delta(v["v1.0.0"], "roc_auc") == pytest.approx(0.812 - 0.842)  # negative: worse
    assert result.delta(v["v1.2.0"], "roc_auc") is None  # the baseline itself
    assert result.delta(v["v1.3.0"], "missing") is None


def test_deltas_for_a_min_goal_are_plain_differences_and_best_is_lowest():
    result = compare(loss_model({"v1.0.0": 0.5, "v2.0.0": 0.25, "v3.0.0": 0.75}, "v1.0.0"), None, STAGES)
    v = {x.name: x for x in result.versions}
    assert result.delta(v["v2.0.0"], "loss") == -0.25
    assert result.delta(v["v3.0.0"], "loss") == 0.25
    assert result.best == "v2.0.0"


def test_no_production_means_no_deltas():
    result = compare(loss_model({"v1.0.0": 0.5, "v2.0.0": 0.25}, None), None, STAGES)
    assert result.baseline is None
    assert all(result.delta(v, "loss") is None for v in result.versions)


def test_best_is_the_highest_for_a_max_goal_and_ignores_archived():
    data = copy.deepcopy(BASE)
    data["models"][NAME]["versions"]["v0.9.0"]["metrics"]["roc_auc"] = 0.99  # best, but archived
    result = compare(churn(data), ["v0.9.0", "v1.0.0", "v1.3.0"], STAGES)
    assert result.best == "v1.3.0"


def test_best_tie_goes_to_the_newer_version():
    result = compare(loss_model({"v1.0.0": 0.5, "v2.0.0": 0.5, "v1.5.0": 0.5}, None), None, STAGES)
    assert result.best == "v2.0.0"


def test_named_versions_get_the_baseline_added():
    result = compare(churn(), ["v1.3.0", "v0.9.0"], STAGES)
    assert [v.name for v in result.versions] == ["v0.9.0", "v1.2.0", "v1.3.0"]


def test_differing_params_only():
    result = compare(churn(), ["v1.2.0", "v1.3.0"], STAGES)
    assert result.differing_params == {"n_estimators": {"v1.2.0": 120, "v1.3.0": 200}}  # max_depth is equal
    result = compare(churn(), None, STAGES)
    assert result.differing_params["max_depth"] == {"v1.0.0": 6, "v1.2.0": 8, "v1.3.0": 8}


def test_a_param_missing_from_one_version_differs():
    data = copy.deepcopy(BASE)
    data["models"][NAME]["versions"]["v1.3.0"]["params"]["train"] = {"lr": 0.1}
    result = compare(churn(data), ["v1.2.0", "v1.3.0"], STAGES)
    assert result.differing_params["train.lr"] == {"v1.2.0": None, "v1.3.0": 0.1}


def test_flatten_nests_with_dots_and_keeps_empty_mappings():
    assert flatten({"a": {"b": {"c": 1}, "d": 2}, "e": {}, "f": [1]}) == {"a.b.c": 1, "a.d": 2, "e": {}, "f": [1]}


def test_gate_results_per_configured_stage():
    result = compare(churn(), None, STAGES)
    assert set(result.gate_results["v1.3.0"]) == {"staging", "production"}
    assert result.passes(result.versions[-1]) == ["staging", "production"]  # v1.3.0 passes both
    production = result.gate_results["v1.3.0"]["production"]
    assert [c.name for c in production] == ["roc_auc", "accuracy", "beat_production"]


def test_gate_results_use_beat_production_against_the_baseline():
    data = copy.deepcopy(BASE)
    data["models"][NAME]["versions"]["v1.1.0"] = {"md5": "b" * 32, "size": 1, "created": "2026-11-10T00:00:00Z",
                                                 "metrics": {"roc_auc": 0.83, "accuracy": 0.8}}
    result = compare(churn(data), ["v1.1.0"], STAGES)
    by_name = {v.name: v for v in result.versions}
    beat = [c for c in result.gate_results["v1.1.0"]["production"] if c.name == "beat_production"]
    assert len(beat) == 1 and not beat[0].passed
    assert result.passes(by_name["v1.1.0"]) == ["staging"]


def test_former_production_version_is_exempt_from_beat_production():
    result = compare(churn(), ["v1.0.0"], STAGES)
    v1 = next(v for v in result.versions if v.name == "v1.0.0")
    assert "production" in result.passes(v1)  # it is worse than v1.2.0, but a rollback target


def test_stages_without_gates_have_no_results_and_do_not_count_as_passed():
    result = compare(loss_model({"v1.0.0": 0.5}, None), None, STAGES)
    assert set(result.gate_results["v1.0.0"]) == {"production"}
    m = loss_model({"v1.0.0": 0.5}, None)
    m.raw["gates"]["production"] = {}
    result = compare(m, None, STAGES)
    assert result.passes(result.versions[0]) == []  # an empty gate list is not a pass


def test_as_dict():
    result = compare(churn(), ["v1.3.0"], STAGES).as_dict()
    assert (result["model"], result["metric"], result["goal"], result["baseline"], result["best"]) == (
        NAME, "roc_auc", "max", "v1.2.0", "v1.3.0")
    v13 = next(v for v in result["versions"] if v["version"] == "v1.3.0")
    assert v13["stages"] == ["staging"]
    assert v13["deltas"]["roc_auc"] == pytest.approx(0.019)
    assert {g["gate"]: g["passed"] for g in v13["gates"]["production"]} == {
        "roc_auc": True, "accuracy": True, "beat_production": True}
