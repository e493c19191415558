"""problems: Problem.render, dotted paths, errors that carry problems, Refusal.at placing them."""

from __future__ import annotations

import pytest

from modelreg.core import document
from modelreg.core.problems import (EXIT_INVALID, EXIT_USAGE, ModelregError, Problem, ProblemList, Refusal,
                                    UsageError, dotted)

from conftest import SAMPLE


@pytest.mark.parametrize("problem, text", [
    (Problem("r.yaml", 3, 7, "models.m.size", "must be a number", "write 1"),
     "r.yaml:3:7: models.m.size: must be a number (write 1)"),
    (Problem("r.yaml", 3, None, "models", "bad"), "r.yaml:3: models: bad"),
    (Problem("r.yaml", None, 7, "", "bad"), "r.yaml: bad"),  # a column alone means nothing
    (Problem("", None, None, "models.m", "bad"), "models.m: bad"),
    (Problem("", None, None, "", "bad"), "bad"),
    (Problem("", 2, 1, "", "bad", "hint"), ":2:1: bad (hint)"),
])
def test_render(problem, text):
    assert problem.render() == text


def test_as_dict_has_every_field():
    assert Problem("f", 1, 2, "p", "m", "h").as_dict() == {"file": "f", "line": 1, "column": 2, "path": "p",
                                                           "message": "m", "hint": "h"}


@pytest.mark.parametrize("path, text", [
    ((), ""),
    (("models",), "models"),
    (("models", "churn", "versions", "v1.2.0", "md5"), "models.churn.versions.v1.2.0.md5"),
    (("models", "churn", "history", 2, "stage"), "models.churn.history[2].stage"),
    (("models", "churn", "history", 0), "models.churn.history[0]"),
    ((3, "a"), "[3].a"),
])
def test_dotted(path, text):
    assert dotted(path) == text


def test_error_from_text_and_from_problems():
    error = ModelregError("plain words")
    assert [p.message for p in error.problems] == ["plain words"] and str(error) == "plain words"
    problems = [Problem("f", 1, None, "a", "one"), Problem("f", 2, None, "b", "two")]
    error = ModelregError(problems)
    assert error.problems == problems and str(error) == "f:1: a: one\nf:2: b: two"
    assert error.exit_code == EXIT_INVALID and UsageError("x").exit_code == EXIT_USAGE == 2


def test_refusal_carries_its_path_unplaced():
    refusal = Refusal("no such version", ("models", "churn", "versions"), "register it")
    assert refusal.path == ("models", "churn", "versions")
    assert str(refusal) == "models.churn.versions: no such version (register it)"
    assert isinstance(refusal, ModelregError)


def test_refusal_at_places_line_and_column():
    _, root = document.parse(SAMPLE, "r.yaml")
    lines = SAMPLE.splitlines()
    placed = Refusal("taken", ("models", "churn-classifier", "stages", "production"), "h").at("r.yaml", root)
    line = next(n for n, text in enumerate(lines, 1) if text.strip() == "production: v1.2.0")
    [problem] = placed.problems
    assert (problem.file, problem.line, problem.column) == ("r.yaml", line, lines[line - 1].index("v1.2.0") + 1)
    assert (problem.path, problem.message, problem.hint) == ("models.churn-classifier.stages.production", "taken", "h")


def test_refusal_at_history_index():
    _, root = document.parse(SAMPLE, "r.yaml")
    problem = Refusal("x", ("models", "churn-classifier", "history", 2)).at("r.yaml", root).problems[0]
    assert problem.line == next(n for n, t in enumerate(SAMPLE.splitlines(), 1) if "reason: More trees}" in t)
    assert problem.path == "models.churn-classifier.history[2]"


def test_refusal_at_a_missing_path_uses_the_nearest_ancestor():
    _, root = document.parse(SAMPLE, "r.yaml")
    problem = Refusal("x", ("models", "fraud-detector", "stages", "production")).at("r.yaml", root).problems[0]
    assert problem.line == next(n for n, t in enumerate(SAMPLE.splitlines(), 1) if "stages: {}" in t)


def test_refusal_at_without_a_tree_or_path():
    problem = Refusal("x", ("models",)).at("r.yaml", None).problems[0]
    assert (problem.file, problem.line, problem.column) == ("r.yaml", None, None)
    _, root = document.parse(SAMPLE, "r.yaml")
    problem = Refusal("x").at("r.yaml", root).problems[0]
    assert problem.path == "" and problem.line is not None  # the document itself


def test_problem_list_collects_then_raises_all():
    problems = ProblemList("f")
    problems.raise_if_any()  # nothing yet
    problems.add(1, 2, "a", "one")
    problems.add(None, None, "b", "two", "hint")
    with pytest.raises(ModelregError) as info:
        problems.raise_if_any()
    assert [p.render() for p in info.value.problems] == ["f:1:2: a: one", "f: b: two (hint)"]
