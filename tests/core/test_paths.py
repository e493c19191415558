"""core/paths.py: a model's path names the model's own files and nothing else of the repository's."""

from __future__ import annotations

import json

import pytest

from conftest import SAMPLE
from modelreg.core.document import parse_valid
from modelreg.core.paths import path_problems
from modelreg.core.problems import ModelregError

ORIGINAL = "path: models/churn-classifier/model.pkl"


def refused(path: str) -> list:
    text = SAMPLE.replace(ORIGINAL, f"path: {json.dumps(path)}", 1)
    assert text != SAMPLE
    with pytest.raises(ModelregError) as raised:
        parse_valid(text, "models/registry.yaml")
    return raised.value.problems


@pytest.mark.parametrize("path, words", [
    ("scripts/modelreg/__init__.py", "scripts"),  # the gate's own code: pull would overwrite it
    ("pyproject.toml", "pyproject.toml"),
    ("dvc.yaml", "dvc.yaml"), ("dvc.lock", "dvc.lock"), (".gitmodules", ".gitmodules"), (".dvcignore", ".dvcignore"),
    ("models/registry.yaml", "models/registry.yaml"),  # CODEOWNERS would give the registry to this model's owners
    ("models", "models/registry.yaml"),  # holds it
    ("Scripts/x.pkl", "scripts"),  # a case-insensitive file system
    ("models/*", "wildcard"), ("models/x?.pkl", "wildcard"), ("models/[ab].pkl", "wildcard"),
    ("sub/.GIT/config", ".git"), (".git./config", ".git"), ("sub/.git /x", ".git"),
    (".g\u200cit/hooks/post-checkout", "U+200C"), ("models/m\u200b.pkl", "U+200B"), ("models/m\ufeff.pkl", "U+FEFF"),
    ("models/m\u061c.pkl", "U+061C"), ("models/m\u00a0.pkl", "U+00A0"), ("models/m\u00ad.pkl", "U+00AD"),
])
def test_a_path_that_names_what_is_not_the_models_is_refused_at_its_line(path, words):
    (problem,) = refused(path)
    assert problem.path == "models.churn-classifier.path" and words in problem.message, problem.render()
    assert problem.line == SAMPLE.splitlines().index("    " + ORIGINAL) + 1


@pytest.mark.parametrize("path", ["models/churn-classifier/model.pkl", "models/churn/v2/model.skops",
                                  "models/café/model.pkl", "models/a b/model.pkl", "data2/models/x.pkl",
                                  "models/scripts/model.pkl", "models/registry.yaml.d/model.pkl"])
def test_a_models_own_path_passes(path):
    parse_valid(SAMPLE.replace(ORIGINAL, f"path: {json.dumps(path)}", 1), "models/registry.yaml")


@pytest.mark.parametrize("path", ["models/fraud-detector/model.onnx", "models/Fraud-Detector/model.onnx/x",
                                  "models/fraud-detector"])
def test_a_path_that_is_another_models_is_refused(path):
    (problem,) = refused(path)
    assert "churn-classifier" in problem.render() and "fraud-detector" in problem.render()


def test_the_first_of_two_models_keeps_its_path_and_the_second_is_named():
    problems = path_problems([("a", "models/a/m.pkl"), ("b", "models/A/m.pkl"), ("c", "models/c/m.pkl")])
    assert [name for name, _, _ in problems] == ["b"] and "model a" in problems[0][1]


def test_every_path_is_judged_and_each_problem_says_what_to_do():
    """Direct: the schema refuses controls before these rules see them, so they are asked here too."""
    paths = [("a", "models/a\x01/m"), ("b", "models/b\u2028/m"), ("c", "models/c\u2029/m"), ("d", "models/d*"),
             ("e", "sub/.Git./x"), ("f", "dvc.yaml"), ("g", "models/g/m.pkl"), ("h", "models/G/m.pkl/x"),
             ("i", "models/MiXed/X.pkl"), ("j", "models/j/.gitX/m.pkl"), ("k", "models/i/m.pkl "), ("i2", "models/i/m.pkl"), ("i3", "models/i/m.pkl."),
             ("l", "models/MIXED/x.pkl/y")]
    problems = {name: (message, hint) for name, message, hint in path_problems(paths)}
    assert sorted(problems) == ["a", "b", "c", "d", "e", "f", "h", "i2", "i3", "l"]  # i2, i3: k on NTFS
    assert "U+0001" in problems["a"][0] and "U+2028" in problems["b"][0] and "U+2029" in problems["c"][0]
    assert problems["a"][1] == "write the path in visible characters"
    assert "'*'" in problems["d"][0] and problems["d"][1] == "name the file without * ? [ ]"
    assert problems["e"][1] == problems["f"][1] == problems["h"][1] == \
        "give each model a folder of its own, e.g. models/NAME/model.skops"
    assert "model g" in problems["h"][0]


@pytest.mark.parametrize("segment, opens_git", [
    (".git", True), (".GIT", True), (".git.", True), (".git. .", True), (".g\u200cit", True), ("\u200b.git", True),
    (".gitX", False), (".gitx", False), ("git", False), (".github", False), ("x.git", False),
])
def test_what_some_file_system_opens_as_git(segment, opens_git):
    from modelreg.core.paths import folds_to_git

    assert folds_to_git(segment) is opens_git
