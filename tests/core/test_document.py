"""document.parse and parse_valid: the one way text becomes registry data."""

from __future__ import annotations

import pytest

from modelreg.core import document
from modelreg.core.positions import tree
from modelreg.core.problems import ModelregError

from conftest import SAMPLE


@pytest.mark.parametrize("text", ["", "\n", "# only a comment\n", "---\n"])
def test_empty_registry_is_refused_at_line_one(text):
    with pytest.raises(ModelregError) as info:
        document.parse(text, "r.yaml")
    [problem] = info.value.problems
    assert (problem.file, problem.line, problem.column) == ("r.yaml", 1, 1)
    assert problem.message == "the registry is empty"


@pytest.mark.parametrize("text", ["- a\n- b\n", "just text\n", "42\n"])
def test_non_mapping_is_refused_at_line_one(text):
    with pytest.raises(ModelregError) as info:
        document.parse(text, "r.yaml")
    [problem] = info.value.problems
    assert (problem.file, problem.line, problem.column) == ("r.yaml", 1, 1)
    assert "must be a mapping" in problem.message


def test_parse_returns_data_and_its_node_tree():
    data, root = document.parse(SAMPLE, "r.yaml")
    assert data["schema"] == 1 and list(data["models"]) == ["churn-classifier", "fraud-detector"]
    # the node tree is composed when asked for: the mapping starts at its first key
    assert tree(root).start_mark.line == SAMPLE.splitlines().index("schema: 1")


def test_parse_does_not_check_rules():
    text = SAMPLE.replace("size: 171002", "size: -1")
    data, _ = document.parse(text, "r.yaml")
    assert data["models"]["churn-classifier"]["versions"]["v1.2.0"]["size"] == -1


def test_parse_valid_accepts_the_sample():
    assert document.parse_valid(SAMPLE, "r.yaml")[0] == document.parse(SAMPLE, "r.yaml")[0]


def test_parse_valid_raises_all_problems_at_once():
    text = SAMPLE.replace("size: 171002", "size: -1").replace("stages: {}", "stages: {production: v0.1.0}") \
        .replace("format: onnx", "format: tflite")
    with pytest.raises(ModelregError) as info:
        document.parse_valid(text, "r.yaml")
    problems = info.value.problems
    assert sorted(p.path for p in problems) == ["models.churn-classifier.versions.v1.2.0.size",
                                                "models.fraud-detector.format",
                                                "models.fraud-detector.stages.production"]
    assert all(p.file == "r.yaml" and p.line for p in problems)


def test_parse_valid_refuses_an_empty_registry_like_parse():
    with pytest.raises(ModelregError) as info:
        document.parse_valid("", "r.yaml")
    assert info.value.problems[0].line == 1


def test_invalid_yaml_names_the_line():
    with pytest.raises(ModelregError) as info:
        document.parse("schema: 1\nmodels: {a: [}\n", "r.yaml")
    assert info.value.problems[0].line == 2 and "not valid YAML" in info.value.problems[0].message
