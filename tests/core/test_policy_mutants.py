"""core/policy.py: which changes are policy, what the gates see, who the maintainers are.

Written to kill the mutants of `make mutation` (docs/testing.md): each function's every branch,
and the exact words the PR comment shows.
"""

from __future__ import annotations

import copy

import pytest

from modelreg.core import policy, yamlread
from modelreg.core.policy import MODEL_POLICY, PolicyChange, changes, maintainers, under_base_policy

from conftest import SAMPLE

BASE = yamlread.load(SAMPLE, "r.yaml")[0]
CHURN = "churn-classifier"


def edited(**fields) -> dict:
    new = copy.deepcopy(BASE)
    new["models"][CHURN].update(fields)
    return new


# ---- PolicyChange ----

@pytest.mark.parametrize("model, field, needs", [
    (None, "settings.stages", True),
    ("m", "model added", True),
    ("m", "model removed", True),
    ("m", "owners", False),
    ("m", "gates", False),
])
def test_needs_maintainers(model, field, needs):
    assert PolicyChange(model, field, None, None).needs_maintainers is needs


@pytest.mark.parametrize("change, text", [
    (PolicyChange("m", "model added", None, None), "new model m"),
    (PolicyChange("m", "model removed", None, None), "model m removed"),
    (PolicyChange("m", "owners", ["a"], ["a", "b"]), 'owners of m changed: ["a"] -> ["a", "b"]'),
    (PolicyChange(None, "settings.stages", None, ["x"]), 'settings.stages changed: (none) -> ["x"]'),
    (PolicyChange("m", "path", "a.pkl", None), "path of m changed: a.pkl -> (none)"),
    (PolicyChange("m", "gates", {"p": {"b": 1, "a": 2}}, {}), 'gates of m changed: {"p": {"a": 2, "b": 1}} -> {}'),
    (PolicyChange("", "metric", 1, 2), "metric changed: 1 -> 2"),  # no model name: the field alone
])
def test_describe(change, text):
    assert change.describe() == text


def test_short_keeps_120_characters_and_cuts_longer_values():
    exactly = ["x" * 114]  # json: ["xxx...x"] is 114 + 4 = 118 characters
    assert len(policy._short(exactly)) == 118 and not policy._short(exactly).endswith("...")
    at_limit = ["x" * 116]  # 120 characters: kept whole
    assert policy._short(at_limit) == '["' + "x" * 116 + '"]'
    over = ["x" * 117]  # 121 characters: cut to 117 and "..."
    assert policy._short(over) == '["' + "x" * 115 + "..."
    assert len(policy._short(over)) == 120
    assert policy._short("y" * 500) == "y" * 500  # text is never cut
    assert policy._short(None) == "(none)"
    assert policy._short(0) == "0" and policy._short(False) == "false"


# ---- changes ----

def test_no_change_no_policy_change():
    assert changes(BASE, copy.deepcopy(BASE)) == []


@pytest.mark.parametrize("field", MODEL_POLICY)
def test_each_model_policy_field_is_a_change(field):
    new = copy.deepcopy(BASE)
    new["models"][CHURN][field] = "changed"
    assert changes(BASE, new) == [PolicyChange(CHURN, field, BASE["models"][CHURN].get(field), "changed")]


def test_fields_that_are_not_policy_are_not_changes():
    new = edited(description="other", stages={}, history=[], versions={})
    assert changes(BASE, new) == []


def test_settings_changes_are_sorted_by_key_with_before_and_after():
    old = copy.deepcopy(BASE)
    old["settings"] = {"stages": ["staging", "production"], "maintainers": ["alice"]}
    new = copy.deepcopy(BASE)
    new["settings"] = {"stages": ["staging", "production"], "require_approval": [], "maintainers": ["bob"]}
    assert changes(old, new) == [
        PolicyChange(None, "settings.maintainers", ["alice"], ["bob"]),
        PolicyChange(None, "settings.require_approval", None, []),
    ]
    assert changes(new, old)[1] == PolicyChange(None, "settings.require_approval", [], None)


def test_settings_that_are_not_a_mapping_count_as_none():
    old = dict(copy.deepcopy(BASE), settings=["x"])
    new = dict(copy.deepcopy(BASE), settings={"stages": ["a"]})
    assert changes(old, new) == [PolicyChange(None, "settings.stages", None, ["a"])]


def test_models_removed_are_sorted_and_added_ones_follow_the_file():
    old = copy.deepcopy(BASE)
    old["models"]["zeta"] = {"path": "z"}
    old["models"]["alpha"] = {"path": "a"}
    new = copy.deepcopy(BASE)
    new["models"]["new-b"] = {"path": "b"}
    new["models"]["new-a"] = {"path": "a"}
    assert changes(old, new) == [
        PolicyChange("alpha", "model removed", None, None),
        PolicyChange("zeta", "model removed", None, None),
        PolicyChange("new-b", "model added", None, None),
        PolicyChange("new-a", "model added", None, None),
    ]


def test_a_model_that_was_not_a_mapping_counts_as_added_and_one_that_is_not_is_skipped():
    old = copy.deepcopy(BASE)
    old["models"]["m"] = "broken"
    new = copy.deepcopy(BASE)
    new["models"]["m"] = {"path": "p"}
    new["models"]["n"] = ["not a model"]
    assert changes(old, new) == [PolicyChange("m", "model added", None, None)]


def test_changes_from_nothing_and_from_no_models():
    new = copy.deepcopy(BASE)
    assert [c.field for c in changes(None, new)] == ["model added", "model added"]
    assert [c.model for c in changes({"models": "x"}, new)] == [CHURN, "fraud-detector"]
    assert changes(None, {"models": None}) == []


def test_changes_of_several_fields_keep_the_policy_order():
    new = edited(format="onnx", owners=["zed"])
    assert [c.field for c in changes(BASE, new)] == ["owners", "format"]


# ---- under_base_policy ----

def test_policy_fields_come_from_the_base():
    new = edited(owners=["mallory"], gates={}, metric={"name": "x"}, path="other.pkl", description="new words")
    effective = under_base_policy(BASE, new)
    model = effective["models"][CHURN]
    for field in ("owners", "gates", "metric", "path", "format"):
        assert model[field] == BASE["models"][CHURN][field]
    assert model["description"] == "new words"  # not policy: the PR's
    assert new["models"][CHURN]["owners"] == ["mallory"]  # the PR's data is not touched


def test_a_policy_field_the_base_lacks_is_removed():
    new = edited(evaluation={"stage": "evaluate"})
    effective = under_base_policy(BASE, new)
    assert "evaluation" not in effective["models"][CHURN]


def test_the_result_is_a_copy():
    new = copy.deepcopy(BASE)
    effective = under_base_policy(BASE, new)
    assert effective == new
    effective["models"][CHURN]["gates"]["staging"]["roc_auc"]["min"] = 0
    effective["models"][CHURN]["stages"]["staging"] = "v1.0.0"
    assert BASE["models"][CHURN]["gates"]["staging"]["roc_auc"]["min"] == 0.75
    assert new["models"][CHURN]["stages"]["staging"] == "v1.3.0"


def test_settings_come_from_the_base_or_go():
    old = dict(copy.deepcopy(BASE), settings={"require_approval": ["production"]})
    new = dict(copy.deepcopy(BASE), settings={"require_approval": []})
    effective = under_base_policy(old, new)
    assert effective["settings"] == {"require_approval": ["production"]}
    effective["settings"]["require_approval"].append("x")
    assert old["settings"] == {"require_approval": ["production"]}  # a copy
    assert "settings" not in under_base_policy(BASE, new)


def test_without_a_base_everything_is_the_prs_own_but_a_copy():
    new = edited(owners=["mallory"])
    effective = under_base_policy(None, new)
    assert effective == new and effective is not new
    effective["models"][CHURN]["owners"].append("x")
    assert new["models"][CHURN]["owners"] == ["mallory"]


def test_new_models_and_broken_ones_keep_their_own_fields():
    old = copy.deepcopy(BASE)
    old["models"]["m"] = "broken"
    new = copy.deepcopy(BASE)
    new["models"]["m"] = {"path": "mine", "owners": ["me"]}
    new["models"]["n"] = {"path": "n", "owners": ["them"]}
    new["models"]["o"] = "also broken"
    effective = under_base_policy(old, new)
    assert effective["models"]["m"] == {"path": "mine", "owners": ["me"]}
    assert effective["models"]["n"] == {"path": "n", "owners": ["them"]}
    assert effective["models"]["o"] == "also broken"


def test_a_base_field_that_is_a_mapping_is_copied_not_shared():
    old = copy.deepcopy(BASE)
    effective = under_base_policy(old, copy.deepcopy(BASE))
    effective["models"][CHURN]["owners"].append("x")
    assert old["models"][CHURN]["owners"] == ["alice", "@acme/ml-leads"]


# ---- maintainers ----

def test_listed_maintainers_win():
    data = dict(copy.deepcopy(BASE), settings={"maintainers": ["@acme/core", 7]})
    assert maintainers(data) == ["@acme/core", "7"]


@pytest.mark.parametrize("listed", [[], None, "alice", {"a": 1}])
def test_otherwise_every_models_owners_once_in_order(listed):
    data = copy.deepcopy(BASE)
    data["settings"] = {"maintainers": listed}
    data["models"]["x"] = {"owners": ["carol", "dave", 3]}
    data["models"]["y"] = "broken"
    data["models"]["z"] = {"owners": None}
    assert maintainers(data) == ["alice", "@acme/ml-leads", "carol", "dave", "3"]


def test_maintainers_of_nothing():
    assert maintainers(None) == []
    assert maintainers({"models": {"m": {}}}) == []


def test_a_model_that_is_not_a_mapping_does_not_hide_the_ones_after_it():
    old = copy.deepcopy(BASE)
    new = {"models": {"broken": "x", **copy.deepcopy(BASE)["models"]}}
    new["models"][CHURN]["owners"] = ["mallory"]
    assert changes(old, new)[-1] == PolicyChange(CHURN, "owners", ["alice", "@acme/ml-leads"], ["mallory"])
    old["models"] = {"broken": "x", **old["models"]}
    assert under_base_policy(old, new)["models"][CHURN]["owners"] == ["alice", "@acme/ml-leads"]
