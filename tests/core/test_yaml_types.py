"""Keys and values that YAML types as numbers, booleans or null: refused at their own line, never a crash.

The cases issue 16 lists (a version key `1.2`, `true`, `null` or `0x1f` crashed validate with a
TypeError, as did `production: 1.2`; `metrics: {1: 0.5}` passed as valid), pinned one by one.
tests/properties/test_yaml_types.py puts every YAML type at every place of a registry.
"""

from __future__ import annotations

import copy

import pytest

from modelreg.core import document, policy, registry, yamlread
from modelreg.core.problems import ModelregError
from modelreg.core.registry import Model, Registry
from modelreg.core.rules import check_change, check_state

from conftest import SAMPLE

BASE = yamlread.load(SAMPLE, "r.yaml")[0]


def line_of(text: str, marker: str) -> int:
    assert text.count(marker) == 1, marker
    return text[:text.index(marker)].count("\n") + 1


def refused(text: str) -> list:
    with pytest.raises(ModelregError) as info:
        document.parse_valid(text, "r.yaml")
    return info.value.problems


@pytest.mark.parametrize("key, shown, kind", [
    ("1.2", "1.2", "number 1.2"),
    ("true", "true", "boolean true"),
    ("null", "null", "null null"),
    ("~", "~", "null null"),
    ("0x1f", "0x1f", "integer 31"),
    ("017", "017", "integer 15"),
    ("1", "1", "integer 1"),
])
def test_a_version_key_yaml_types_is_refused_at_its_line(key, shown, kind):
    text = SAMPLE.replace("      v1.0.0:\n", f"      {key}:\n")
    problems = refused(text)
    first = problems[0]
    assert (first.file, first.line) == ("r.yaml", line_of(text, f"      {key}:\n"))
    assert first.path == f"models.churn-classifier.versions.{shown}"  # as the file spells it, not True / None / 31
    assert first.message == f"key must be a string, not {kind}"
    for problem in problems:  # the rest: the history that names v1.0.0, each at its own line
        assert problem.file == "r.yaml" and isinstance(problem.line, int)


def test_a_stage_value_yaml_types_is_refused_at_its_line():
    text = SAMPLE.replace("production: v1.2.0", "production: 1.2")
    problems = refused(text)
    assert problems[0].line == line_of(text, "production: 1.2")
    assert problems[0].message == "must be a string, not number 1.2"
    assert "quotes" in problems[0].hint
    assert all(isinstance(p.line, int) for p in problems)


@pytest.mark.parametrize("metrics", ["{1: 0.5}", "{true: 0.5}", "{~: 0.5}", "{1.5: 0.5}"])
def test_metric_names_must_be_strings(metrics):
    text = SAMPLE.replace("metrics: {loss: 0.31}", f"metrics: {metrics}")
    (problem,) = refused(text)
    assert problem.line == line_of(text, f"metrics: {metrics}")
    assert problem.message.startswith("key must be a string, not ")


@pytest.mark.parametrize("params, kind", [("{1: 100}", "integer 1"), ("{true: 100}", "boolean true"),
                                          ("{~: 100}", "null null"), ("{a: {2: 3}}", "integer 2")])
def test_param_names_must_be_strings_too(params, kind):
    """params is free-form, so the schema has no word on its keys; JSON has only string keys."""
    text = SAMPLE.replace("params: {n_estimators: 100, max_depth: 6}", f"params: {params}")
    (problem,) = refused(text)
    assert problem.line == line_of(text, f"params: {params}")
    assert problem.path.startswith("models.churn-classifier.versions.v1.0.0.params.")
    assert problem.message == f"key must be a string, not {kind}"
    assert "quotes" in problem.hint


def test_quoted_keys_are_strings_and_valid():
    text = SAMPLE.replace("params: {n_estimators: 100, max_depth: 6}", "params: {'1': 100, \"true\": 6}")
    data, _ = document.parse_valid(text, "r.yaml")
    assert data["models"]["churn-classifier"]["versions"]["v1.0.0"]["params"] == {"1": 100, "true": 6}


@pytest.mark.parametrize("model_key", ["1", "true", "~", "0x1f", ".inf"])
def test_a_model_name_yaml_types_is_refused_at_its_line(model_key):
    text = SAMPLE.replace("  fraud-detector:\n", f"  {model_key}:\n")
    problems = refused(text)
    assert problems[0].line == line_of(text, f"  {model_key}:\n")
    assert problems[0].path == f"models.{model_key}"
    assert problems[0].message.startswith("key must be a string")


def test_a_date_stays_the_text_it_was_written_as():
    """The reader keeps timestamps as text: 2026-01-01 is a fine model name, as written."""
    text = SAMPLE.replace("  fraud-detector:\n", "  2026-01-01:\n")
    data, _ = document.parse_valid(text, "r.yaml")
    assert "2026-01-01" in data["models"]


@pytest.mark.parametrize("old, new", [
    ("settings", None),
    ("stages", "[staging, 1.2]"),
    ("require_approval", "1.2"),
    ("require_approval", "production"),
])
def test_settings_of_the_wrong_type_are_refused(old, new):
    settings = {"settings": "settings: 1.2\n", "stages": f"settings: {{stages: {new}}}\n",
                "require_approval": f"settings: {{require_approval: {new}}}\n"}[old]
    text = SAMPLE.replace("schema: 1\n", "schema: 1\n" + settings)
    problems = refused(text)
    assert all(p.file == "r.yaml" and isinstance(p.line, int) for p in problems)
    assert problems[0].path.startswith("settings")


@pytest.mark.parametrize("section, value", [
    ("gates", "1.2"), ("gates", "[production]"), ("stages", "[v1.2.0]"), ("metric", "true"),
    ("history", "{a: 1}"), ("history", "7"),
])
def test_model_sections_of_the_wrong_type_are_refused(section, value):
    data = copy.deepcopy(BASE)
    data["models"]["churn-classifier"][section] = yamlread.load(value, "v")[0]
    problems = check_state(data, None, "r.yaml")
    assert any(p.path == f"models.churn-classifier.{section}" for p in problems), problems


@pytest.mark.parametrize("version", [1.2, True, None, 31, [], {}])
def test_the_pr_step_with_a_stage_typed_by_yaml_reports_never_raises(version):
    new = copy.deepcopy(BASE)
    model = new["models"]["churn-classifier"]
    model["stages"]["staging"] = version
    model["history"].append({"at": "2026-11-27T10:00:00Z", "by": "bob", "stage": "staging", "version": version,
                             "previous": "v1.3.0", "reason": "typed"})
    events, problems = check_change(BASE, policy.under_base_policy(BASE, new), None, "r.yaml")
    assert [e.stage for e in events] == ["staging"]
    assert check_state(new, None, "r.yaml")  # the schema says what is wrong


def test_the_pr_step_from_a_base_with_malformed_history_reports_never_raises():
    old = copy.deepcopy(BASE)
    del old["models"]["churn-classifier"]["history"][0]["at"]  # a base no one validated (validate --base REV)
    old["models"]["churn-classifier"]["history"].append("not an entry")
    new = copy.deepcopy(old)
    new["models"]["churn-classifier"]["stages"]["production"] = "v1.0.0"
    new["models"]["churn-classifier"]["history"].append(
        {"at": "2026-11-27T10:00:00Z", "by": "bob", "stage": "production", "version": "v1.0.0",
         "previous": "v1.2.0", "reason": "back"})
    events, _ = check_change(old, new, None, "r.yaml")
    assert [(e.stage, e.version) for e in events] == [("production", "v1.0.0")]


def test_the_pr_step_with_a_malformed_version_record_reports_never_raises():
    new = copy.deepcopy(BASE)
    model = new["models"]["churn-classifier"]
    del model["versions"]["v1.0.0"]["md5"]
    model["stages"]["staging"] = "v1.0.0"
    model["history"].append({"at": "2026-11-27T10:00:00Z", "by": "bob", "stage": "staging", "version": "v1.0.0",
                             "previous": "v1.3.0", "reason": "r"})
    _, problems = check_change(BASE, new, None, "r.yaml")
    assert [p.path for p in problems] == ["models.churn-classifier.versions.v1.0.0.md5"]  # the step's own problem


# ---- the registry's read-only views take what the file has ----

@pytest.mark.parametrize("value", [1.2, True, None, 31, ["v1.0.0"], {"v": 1}])
def test_version_key_of_anything_sorts_first(value):
    assert registry.version_key(value) == (-1, -1, -1)


@pytest.mark.parametrize("raw", [
    {"metric": 1.2, "gates": [1], "stages": [["a", "b"]], "versions": [1], "history": {"a": 1}},
    {"metric": "roc", "gates": "x", "stages": "production", "versions": "v1", "history": "abc"},
    {"history": [1, None, {"at": "t"}, {"at": "t", "by": "b", "stage": "s", "reason": "r"}]},
])
def test_model_views_of_malformed_sections(raw):
    model = Model("m", raw)
    assert model.metric is None and model.goal == "max"
    assert model.gates == {} and model.stages == {}
    assert model.version("v1.0.0") is None and model.version(1.2) is None and model.version(["x"]) is None
    assert [entry.stage for entry in model.history] == (["s"] if isinstance(raw.get("history"), list) else [])


def test_version_views_of_malformed_metrics_and_params():
    version = registry.Version.from_dict("v1.0.0", {"md5": "a" * 32, "size": 1, "created": "t",
                                                   "metrics": [0.5], "params": "x"})
    assert version.metrics == {} and version.params == {}


@pytest.mark.parametrize("settings", [1.2, "x", ["staging"], None])
def test_registry_settings_of_the_wrong_type(settings):
    reg = Registry({"settings": settings, "models": {}})
    assert reg.settings == {}
    assert reg.stage_names == ("staging", "production")


# ---- resolve's fast path reads a few blocks: what it reads must not crash it ----

@pytest.mark.parametrize("old, new, answers", [
    ("schema: 1\n", "schema: 1\nsettings: {stages: 0x9ee4}\n", True),  # malformed stages: the default ones
    ("schema: 1\n", "schema: 1\nsettings: {stages: [1, 2]}\n", True),
    ("schema: 1\n", "schema: 1\nsettings: 1.2\n", True),
    ("    gates:\n", "    gates:\n      qa: true\n", True),  # gates are not read to answer
    ("    stages:\n      staging: v1.3.0       # the candidate\n      production: v1.2.0\n", "    stages: [1]\n", False),
    ("    stages:\n      staging: v1.3.0       # the candidate\n      production: v1.2.0\n", "    stages: true\n", False),
    ("        created: 2026-11-20T09:30:00Z\n", "", False),
    ("        created: 2026-11-20T09:30:00Z\n", "        1_000.5: 2026-11-20T09:30:00Z\n", False),
])
def test_resolve_answers_or_refuses_at_a_line_never_crashes(old, new, answers):
    """The fast path answers from the blocks it reads (settings, one model's stages and one version):
    a problem elsewhere is validate's; a problem there sends it to the full, checked parse."""
    from modelreg.core.lookup import Reference, resolve

    text = SAMPLE.replace(old, new, 1)
    assert text != SAMPLE
    try:
        answer = resolve(text, Reference("churn-classifier", stage="production"), "r.yaml")
    except ModelregError as error:
        assert all(p.file == "r.yaml" and isinstance(p.line, int) for p in error.problems), error.problems
        assert not answers
    else:
        assert answers and (answer.version, answer.md5) == ("v1.2.0", "7d793037a0760186574b0282f2f435e7")


@pytest.mark.parametrize("stages, names", [(["a", "b"], ("a", "b")), ([], ("staging", "production")),
                                           ([1, "b"], ("staging", "production")), (7, ("staging", "production"))])
def test_stage_names_of_any_settings(stages, names):
    assert Registry({"settings": {"stages": stages}}).stage_names == names


@pytest.mark.parametrize("approval, stages", [(["a"], ("a",)), ([], ()), ([1], ("production",)), ("a", ("production",)),
                                              (None, ("production",))])
def test_approval_stages_of_any_settings(approval, stages):
    assert Registry({"settings": {"require_approval": approval}}).approval_stages == stages
    assert Registry({}).approval_stages == ("production",)


# ---- what the property suites found in the reader (core/yamlread.py) ----
# Fixed ones are plain tests; what is still wrong would be a strict xfail, so the fix asks for the marker to go.

def test_an_explicit_bool_tag_on_a_non_boolean_is_refused_at_its_line():
    text = SAMPLE.replace("notes: More trees, new features.", "notes: !!bool maybe")
    assert refused(text)[0].line == line_of(text, "notes: !!bool maybe")


@pytest.mark.parametrize("value", ["!!int abc", "!!float x"])
def test_an_explicit_number_tag_on_text_is_refused_at_its_line(value):
    text = SAMPLE.replace("        size: 150000\n", f"        size: {value}\n")
    assert refused(text)[0].line == line_of(text, f"size: {value}")


@pytest.mark.parametrize("before", ["", "é ", "\U0001F600 "])  # libyaml counts bytes: not ASCII before it
def test_a_control_character_is_refused_at_its_line(before):
    text = SAMPLE.replace("notes: More trees", f"notes: {before}More\x01trees")
    (problem,) = refused(text)
    line = line_of(text, "More\x01trees")
    column = text.split("\n")[line - 1].index("\x01") + 1
    assert (problem.file, problem.line, problem.column) == ("r.yaml", line, column)
    assert problem.message == "not valid YAML: unacceptable character #x0001: control characters are not allowed"


def test_a_control_character_in_a_piece_is_refused_at_its_line_in_the_file():
    with pytest.raises(ModelregError) as info:
        yamlread.load("a: 1\nb: 'é'\nc: x\x7fy\n", "r.yaml", line_offset=10)
    (problem,) = info.value.problems
    assert (problem.line, problem.column) == (10 + 3, 5)
    with pytest.raises(ModelregError) as info:  # a line break YAML sees and the file's lines do not, first
        yamlread.load("a: 1\nb: '\u2028'\nc: x\x7fy\n", "r.yaml", line_offset=10)
    (problem,) = info.value.problems
    assert (problem.line, problem.column) == (10 + 2, 5) and "U+2028" in problem.message
