"""Input signatures: built from sample rows and feature names, compared, gated, and checked against requests."""

from __future__ import annotations

import copy

from modelreg.core import signature, yamlread
from modelreg.core.compare import compare as compare_versions
from modelreg.core.registry import Registry
from modelreg.core.rules import check_state
from modelreg.views.markdown import comparison_markdown, rows

from conftest import SAMPLE

THREE = {"features": 3, "names": ["age", "income", "plan"], "dtypes": ["long", "double", "string"]}


def test_build_from_a_sample_file_and_the_model():
    names, sample_rows = signature.from_sample({"columns": ["age", "income", "plan"],
                                                "rows": [[31, 1200.5, "basic"], [45, 3000, "pro"]]})
    built, notes = signature.build(names=names, rows=sample_rows)
    assert built == THREE and notes == []
    # the model's count decides; names and dtypes of another width are left out, with a note
    built, notes = signature.build(features=5, names=names, rows=sample_rows)
    assert built == {"features": 5} and len(notes) == 2
    # records as list of mappings; a mixed column gets no dtypes
    names, sample_rows = signature.from_sample([{"a": 1, "b": "x"}, {"a": 2.5, "b": 3}])
    assert names == ["a", "b"] and signature.build(names=names, rows=sample_rows)[0] == {"features": 2,
                                                                                          "names": ["a", "b"]}
    assert signature.build()[0] is None
    assert signature.describe(THREE) == "3 features (age, income, plan)" and signature.describe(None) == "-"


def test_compare_says_compatible_or_breaking_with_reasons():
    assert signature.compare(THREE, copy.deepcopy(THREE)).status == signature.SAME
    wider = {**THREE, "dtypes": ["double", "double", "string"]}
    change = signature.compare(THREE, wider)
    assert change.status == signature.COMPATIBLE and change.reasons == ["age accepts double (was long)"]
    change = signature.compare(wider, THREE)
    assert change.breaking and change.reasons == ["age changes type double -> long"]
    change = signature.compare(THREE, {"features": 4, "names": ["age", "income", "plan", "region"]})
    assert change.breaking and change.reasons == ["takes 4 features instead of 3", "now requires region"]
    change = signature.compare(THREE, {"features": 3, "names": ["income", "age", "plan"]})
    assert change.breaking and change.reasons == ["feature order changed (position 1: age -> income)"]
    change = signature.compare(THREE, {"features": 3})
    assert change.status == signature.COMPATIBLE and "no longer recorded" in change.reasons[0]
    assert signature.compare(None, THREE).status == signature.UNKNOWN
    assert signature.compare({"features": "3"}, THREE).status == signature.UNKNOWN  # malformed: not trusted


def registry_with(signatures: dict, gates: dict | None = None) -> Registry:
    data = yamlread.load(SAMPLE, "s")[0]
    model = data["models"]["churn-classifier"]
    for version, value in signatures.items():
        model["versions"][version]["signature"] = value
    if gates is not None:
        model["gates"] = gates
    return Registry(data)


def test_signature_gate_holds_for_production_by_default():
    registry = registry_with({"v1.2.0": THREE, "v1.3.0": {"features": 4}})
    model = registry.model("churn-classifier")
    production = model.version("v1.2.0")
    failures = signature.signature_gate(model, model.version("v1.3.0"), production)
    assert failures == ["v1.3.0's input is not compatible with v1.2.0 (production): takes 4 features instead of 3"]
    assert signature.signature_gate(model, "v1.3.0", production, stage="staging") == []  # not declared there
    assert signature.signature_gate(model, "v1.2.0", production) == []  # the production version itself
    assert signature.signature_gate(model, "v1.3.0", None) == []  # nothing to compare with
    assert signature.signature_gate(model, "v1.0.0", production) == []  # no signature recorded: passes
    model = registry_with({"v1.2.0": THREE, "v1.3.0": {"features": 4}},
                          {"production": {"signature": "any"}, "staging": {"signature": "compatible"}}
                          ).model("churn-classifier")
    assert signature.signature_gate(model, "v1.3.0", "v1.2.0") == []
    assert signature.signature_gate(model, "v1.3.0", "v1.2.0", stage="staging") != []


def test_schema_accepts_signatures_and_the_gate_kind():
    data = yamlread.load(SAMPLE, "s")[0]
    model = data["models"]["churn-classifier"]
    model["versions"]["v1.3.0"]["signature"] = THREE
    model["versions"]["v1.3.0"]["data"]["sources"] = [{"path": "data/raw.csv", "md5": "a" * 32}]
    model["gates"]["staging"]["signature"] = "compatible"
    problems = [p for p in check_state(data, None, "r.yaml") if "signature" in p.path or "sources" in p.path]
    assert problems == []
    model["versions"]["v1.3.0"]["signature"] = {"features": -1, "dtypes": ["int128"], "extra": 1}
    model["gates"]["staging"]["signature"] = "maybe"
    paths = {p.path for p in check_state(data, None, "r.yaml")}
    assert {"models.churn-classifier.versions.v1.3.0.signature.features",
            "models.churn-classifier.versions.v1.3.0.signature.dtypes[0]",
            "models.churn-classifier.gates.staging.signature"} <= paths


def test_check_rows_explains_what_does_not_fit():
    assert signature.check_rows(THREE, [[31, 1200.5, "basic"], {"age": 40, "income": 10, "plan": "pro"}]) == []
    problems = signature.check_rows(THREE, [[1, 2], [1.5, 2.0, "x"], {"age": 1, "plan": "x", "zip": 9},
                                            "nope", [None, 1.0, "x"]])
    assert problems == ["row 1: 2 values, the model takes 3",
                        "row 2: age must be long, not float '1.5'",
                        "row 3: missing income",
                        "row 3: unknown feature zip (the model takes age, income, plan)",
                        "row 4: expected a list of 3 values or a mapping of feature names",
                        "row 5: age has no value"]
    assert signature.check_rows(THREE, []) == ["expected a non-empty list of rows"]
    assert signature.check_rows({"features": 2}, [{"a": 1, "b": 2}])[0].startswith("row 1: the model records no")
    assert len(signature.check_rows({"features": 1}, [[1, 2]] * 20)) == 9  # eight and "more not shown"
    assert signature.check_rows(None, "anything") == []  # no signature: nothing to check
    assert signature.as_lists(THREE, [{"plan": "x", "age": 1, "income": 2.0}, [1, 2.0, "y"]]) == [
        [1, 2.0, "x"], [1, 2.0, "y"]]


def test_compare_and_the_comparison_table_show_signature_changes():
    registry = registry_with({"v1.2.0": THREE, "v1.3.0": {"features": 4}, "v1.0.0": {**THREE, "dtypes": [
        "double", "double", "string"]}})
    model = registry.model("churn-classifier")
    result = compare_versions(model, None, registry.stage_names)
    assert result.signature_changes["v1.3.0"].breaking
    assert result.as_dict()["versions"][-1]["signature_change"]["status"] == "breaking"
    headers, body = rows(result)
    column = headers.index("inputs")
    assert [row[column] for row in body] == ["3 (changed, compatible)", "3", "4 (breaking)"]
    text = comparison_markdown(result)
    assert "| inputs |" in text and "4 ⚠️ breaking" in text
    assert "- v1.3.0 vs v1.2.0: breaking: takes 4 features instead of 3" in text
    # without signatures the table is as it was
    plain = compare_versions(Registry(yamlread.load(SAMPLE, "s")[0]).model("churn-classifier"), None,
                             registry.stage_names)
    assert "inputs" not in rows(plain)[0] and "Input signature" not in comparison_markdown(plain)
