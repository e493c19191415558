"""The registry model (version order, bump, latest, stages, owners) and lookups against it."""

from __future__ import annotations

import pytest

from modelreg.core import document, lookup
from modelreg.core.lookup import Reference
from modelreg.core.problems import ModelregError
from modelreg.core.registry import Model, Registry, Version, bump, version_key

from conftest import SAMPLE

NAME = "churn-classifier"
BASE = document.parse(SAMPLE, "r.yaml")[0]


def record(**extra) -> dict:
    return {"md5": "a" * 32, "size": 1, "created": "2026-11-26T10:04:00Z", **extra}


def model_with(*names: str, **raw) -> Model:
    return Model("m", {"path": "p", "versions": {n: record() for n in names}, **raw})


# ---- version_key / bump ----

def test_version_key_is_numeric_per_part():
    assert version_key("v1.2.3") == (1, 2, 3)
    assert version_key("v1.10.0") > version_key("v1.9.0")
    assert version_key("v2.0.0") > version_key("v1.99.99")
    assert version_key("v0.0.10") > version_key("v0.0.9")


@pytest.mark.parametrize("bad", ["1.2.3", "v1.2", "v01.2.3", "v1.2.3-rc1", "latest", ""])
def test_unparseable_versions_sort_first(bad):
    assert version_key(bad) == (-1, -1, -1)
    assert version_key(bad) < version_key("v0.0.0")


@pytest.mark.parametrize("current, part, expected", [
    ("v1.2.3", "major", "v2.0.0"), ("v1.2.3", "minor", "v1.3.0"), ("v1.2.3", "patch", "v1.2.4"),
    ("v1.9.9", "patch", "v1.9.10"), ("v0.9.0", "minor", "v0.10.0"),
    (None, "major", "v1.0.0"), (None, "minor", "v0.1.0"), (None, "patch", "v0.0.1"),
])
def test_bump(current, part, expected):
    assert bump(current, part) == expected


# ---- Model ----

def test_latest_version_is_by_semver_not_by_text_or_order():
    assert model_with("v1.9.0", "v1.10.0", "v1.2.0").latest_version() == "v1.10.0"
    assert model_with().latest_version() is None
    assert Model("m", {"path": "p", "versions": None}).latest_version() is None


def test_ordered_versions():
    assert [v.name for v in model_with("v1.10.0", "v0.1.0", "v1.9.0").ordered_versions()] == [
        "v0.1.0", "v1.9.0", "v1.10.0"]


def test_stages_of():
    model = Registry(BASE).model(NAME)
    assert model.stages_of("v1.3.0") == ["staging"]
    assert model.stages_of("v1.2.0") == ["production"]
    assert model.stages_of("v1.0.0") == []
    both = model_with("v1.0.0", stages={"staging": "v1.0.0", "production": "v1.0.0"})
    assert both.stages_of("v1.0.0") == ["staging", "production"]


def test_owners_are_a_copy_and_default_to_empty():
    model = Registry(BASE).model(NAME)
    assert model.owners == ["alice", "@acme/ml-leads"]
    model.owners.append("mallory")
    assert model.owners == ["alice", "@acme/ml-leads"]
    assert model_with().owners == []
    assert model_with(owners=None).owners == []


def test_metric_and_goal_defaults():
    assert model_with().metric is None and model_with().goal == "max"
    loss = model_with(metric={"name": "loss", "goal": "min"})
    assert (loss.metric, loss.goal) == ("loss", "min")
    assert loss.better(0.1, 0.2) and not loss.better(0.2, 0.1)
    assert model_with(metric={"name": "auc"}).better(0.9, 0.8)
    assert not model_with(metric={"name": "auc"}).better(0.8, 0.8)


def test_best_version():
    model = Registry(BASE).model(NAME)
    assert model.best_version().name == "v1.3.0"
    loss = Model("m", {"path": "p", "metric": {"name": "loss", "goal": "min"}, "versions": {
        "v1.0.0": record(metrics={"loss": 0.3}), "v2.0.0": record(metrics={"loss": 0.2}),
        "v3.0.0": record(metrics={"loss": 0.1}, archived="bad"), "v4.0.0": record()}})
    assert loss.best_version().name == "v2.0.0"
    assert model_with("v1.0.0").best_version() is None  # no metric


def test_previous_holders_most_recent_first():
    model = Registry(BASE).model(NAME)
    assert model.previous_holders("production") == ["v1.0.0"]
    assert model.previous_holders("staging") == []


def test_version_records():
    model = Registry(BASE).model(NAME)
    v = model.version("v0.9.0")
    assert (v.archived, v.commit, v.author, v.params, v.data) == (
        "Superseded; underperforms on Q3 data.", None, None, {}, None)
    assert model.version("v9.9.9") is None
    assert not v.is_directory
    assert Version.from_dict("v1.0.0", record(md5="a" * 32 + ".dir")).is_directory


# ---- Registry ----

def test_registry_defaults_and_settings():
    registry = Registry(BASE)
    assert registry.stage_names == ("staging", "production")
    assert registry.approval_stages == ("production",)
    assert registry.model_names == [NAME, "fraud-detector"]
    custom = Registry({"settings": {"stages": ["dev", "prod"], "require_approval": []}, "models": {}})
    assert custom.stage_names == ("dev", "prod")
    assert custom.approval_stages == ()  # an explicit empty list means no approvals


def test_registry_models_skip_non_mappings():
    registry = Registry({"models": {"a": {"path": "p"}, "b": None, "c": "x"}})
    assert registry.model("b") is None and registry.model("zz") is None
    assert [m.name for m in registry.models()] == ["a"]
    assert registry.model("a") is registry.model("a")  # built once


# ---- lookup: the fast path answers as the full parse does ----

def full(text: str, ref: Reference):
    data, _ = document.parse_valid(text, "r.yaml")
    return lookup.resolve_in(Registry(data), ref, "r.yaml")


@pytest.mark.parametrize("ref, version, stages", [
    (Reference(NAME, stage="production"), "v1.2.0", ("production",)),
    (Reference(NAME, stage="staging"), "v1.3.0", ("staging",)),
    (Reference(NAME, version="v1.0.0"), "v1.0.0", ()),
    (Reference(NAME, version="v0.9.0"), "v0.9.0", ()),  # an archived version is still found by name
    (Reference("fraud-detector", version="v0.1.0"), "v0.1.0", ()),
])
def test_lookup_fast_path_matches_full_parse(ref, version, stages):
    fast = lookup._fast(SAMPLE, ref, "r.yaml")
    assert fast is not None
    assert fast == full(SAMPLE, ref) == lookup.resolve(SAMPLE, ref, "r.yaml")
    assert (fast.version, fast.stages) == (version, stages)
    assert fast.path == BASE["models"][ref.name]["path"]
    assert fast.md5 == BASE["models"][ref.name]["versions"][version]["md5"]


def test_lookup_of_a_stage_held_by_an_archived_version_is_refused_like_the_full_parse():
    text = SAMPLE.replace("staging: v1.3.0       # the candidate", "staging: v0.9.0").replace(
        "stage: staging, version: v1.3.0", "stage: staging, version: v0.9.0")
    ref = Reference(NAME, stage="staging")
    parsed, _ = document.parse(text, "r.yaml")
    # an unchecked read would answer the archived version; neither path may do so
    assert lookup.resolve_in(Registry(parsed), ref, "r.yaml").version == "v0.9.0"
    assert lookup._fast(text, ref, "r.yaml") is None
    with pytest.raises(ModelregError) as info:
        lookup.resolve(text, ref, "r.yaml")
    assert "archived" in str(info.value)
    with pytest.raises(ModelregError):
        full(text, ref)


def test_lookup_format_is_the_version_format_before_the_model_format():
    text = SAMPLE.replace("        size: 171002\n", "        size: 171002\n        format: onnx\n")
    assert text != SAMPLE
    ref = Reference(NAME, stage="production")
    fast = lookup._fast(text, ref, "r.yaml")
    assert fast is not None and fast == full(text, ref)
    assert fast.format == "onnx"
    assert lookup.resolve(text, Reference(NAME, stage="staging"), "r.yaml").format == "pickle"


def test_lookup_latest_skips_archived_and_uses_semver():
    data = {"schema": 1, "models": {"m": {"path": "p", "versions": {
        "v1.9.0": record(), "v1.10.0": record(md5="b" * 32), "v2.0.0": record(md5="c" * 32, archived="bad")}}}}
    assert lookup.resolve_in(Registry(data), Reference("m", latest=True), "r").version == "v1.10.0"


@pytest.mark.parametrize("ref, words", [
    (Reference("nope", stage="production"), "no model named 'nope' (models: churn-classifier, fraud-detector)"),
    (Reference(NAME, version="v8.0.0"), "churn-classifier has no version v8.0.0"),
    (Reference("fraud-detector", stage="staging"), "no version of fraud-detector holds staging"),
])
def test_lookup_unknown_names(ref, words):
    with pytest.raises(ModelregError) as info:
        lookup.resolve(SAMPLE, ref, "r.yaml")
    assert words in str(info.value)
