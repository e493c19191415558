"""Every YAML type at every place of a registry: a clear error at a line of the file, never a crash.

The scalars come from yaml_types.py: booleans, nulls, ints (hex, octal, sexagesimal), floats
(.inf, .nan), dates and timestamps, tags, flow collections, each planted at a key or a value
of a full registry. For each generated file:

- the core (`document.parse_valid`, so `rules.check_state`) either accepts it, and then every
  mapping key in it is a string, or refuses it with a ModelregError whose every problem names
  the file and a line;
- the PR check's step (`policy.under_base_policy` and `rules.check_change` from the sample to
  the generated data, which `validate --base` and `ci check` run even on an invalid file)
  returns problems with file and line, never raises;
- every read command (validate, list, show, history, compare, resolve) exits 0, or 1 with each
  problem printed as FILE:LINE; a traceback fails the test. validate and list refuse every file
  validate refuses; the commands about one model may answer when the problem is elsewhere.

No test here catches the error it examines without asserting on it. `event()` labels each
example (which kind of place, accepted or refused), shown by `pytest --hypothesis-show-statistics`.
"""

from __future__ import annotations

import re

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from modelreg.core import document, policy, yamlread
from modelreg.core.problems import ModelregError
from modelreg.core.rules import check_change, check_state

from yaml_types import BASE, PLACES, Planted, place_kinds, planted

NAME = "models/registry.yaml"
BASE_DATA = yamlread.load(BASE, NAME)[0]


def string_keys(value, path=()) -> list[tuple]:
    """Paths of every mapping key that is not a string."""
    bad = []
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                bad.append(path + (key,))
            bad += string_keys(item, path + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            bad += string_keys(item, path + (index,))
    return bad


def assert_placed(problems, case: Planted, name: str = NAME) -> None:
    assert problems, case.describe()
    for problem in problems:
        assert problem.file == name, (problem, case.describe())
        assert isinstance(problem.line, int) and problem.line >= 1, (problem, case.describe())
        assert problem.message, (problem, case.describe())


def test_base_is_valid_and_has_every_kind_of_place():
    document.parse_valid(BASE, NAME)
    assert {"model name", "version key", "stage name", "stage value", "metric name", "metric value", "gate",
            "history field", "settings", "primary metric", "version field", "model field",
            "top level"} <= place_kinds()
    assert len(PLACES) > 200


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(planted())
def test_validate_accepts_with_string_keys_or_refuses_at_a_line(case):
    for place, _ in case.changes:
        event(f"place: {place.kind}")
    try:
        data, root = document.parse_valid(case.text, NAME)
    except ModelregError as error:
        event("outcome: refused")
        assert_placed(error.problems, case)
        return
    event("outcome: accepted")
    assert string_keys(data) == [], case.describe()
    assert check_state(data, root, NAME) == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(planted())
def test_the_pr_checks_step_places_every_problem(case):
    try:
        new, root = document.parse(case.text, NAME)
    except ModelregError as error:  # not a registry at all: the reader says where
        event("outcome: unreadable")
        assert_placed(error.problems, case)
        return
    effective = policy.under_base_policy(BASE_DATA, new)
    problems = check_state(new, root, NAME) + check_state(effective, root, NAME)
    events, step = check_change(BASE_DATA, effective, root, NAME)
    event("outcome: problems" if problems or step else "outcome: clean")
    for problem in problems + step:
        assert problem.file == NAME and problem.message, (problem, case.describe())
        assert isinstance(problem.line, int) and problem.line >= 1, (problem, case.describe())
    for change in events:
        assert change.describe()  # every event can be shown


READ_COMMANDS = [
    ["validate"],
    ["list"],
    ["show", "churn-classifier"],
    ["show", "churn-classifier", "v1.2.0"],
    ["history", "churn-classifier"],
    ["compare", "churn-classifier"],
    ["resolve", "churn-classifier@production"],
]


# Commands about one model read and check only that model's blocks (and the settings) when the
# file is laid out simply: a problem elsewhere in the file is validate's to report, not theirs.
ONE_MODEL = {"show", "history", "compare", "resolve"}


@st.composite
def with_command(draw):
    return draw(planted()), draw(st.sampled_from(READ_COMMANDS))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(generated=with_command())
def test_read_commands_refuse_at_a_line_never_crash(generated, cli, tmp_path):
    case, command = generated
    path = tmp_path / "models" / "registry.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(case.text)
    try:
        document.parse_valid(case.text, NAME)
        valid = True
    except ModelregError:
        valid = False
    code, out, err = cli(*command, "--registry", str(path))  # any exception but SystemExit fails the test
    event(f"command: {command[0]} {'valid' if valid else 'invalid'} -> exit {code}")
    assert "Traceback" not in out + err
    if valid:
        assert code in (0, 1), (code, err, case.describe())
        assert code == 0 or err.strip(), (out, case.describe())
        return
    if command[0] in ONE_MODEL and code == 0:
        return  # it read and checked the blocks of one model; the rest of the file is validate's
    assert code == 1, (code, out, err, case.describe())
    errors = [line for line in err.splitlines() if line.startswith("error: ")]
    assert errors, (err, case.describe())
    lines = case.text.count("\n") + 1
    for line in errors:  # every problem printed as FILE:LINE[:COLUMN]: ..., at a line of the file
        match = re.match(r"error: \S*registry\.yaml:(\d+)(:\d+)?: ", line)
        assert match and 1 <= int(match.group(1)) <= lines, (line, case.describe())
