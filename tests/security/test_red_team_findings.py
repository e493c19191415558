"""Holes a red-team session found in registry validation, each pinned by the input that showed it.

Every case here was accepted by `modelreg validate` before its fix (see SECURITY.md).
"""

from __future__ import annotations

import sys

import pytest

from conftest import SAMPLE, run
from modelreg.core import lookup
from modelreg.core.document import parse_valid
from modelreg.core.problems import ModelregError

BASE = """schema: 1
models:
  churn:{after_key}
    description: "Churn model.
    stages: {{production: v2.0.0}}
    "
    path: models/churn/model.skops
    "stages": {{production: v1.0.0}}
    versions:
      v1.0.0: {{md5: 0c1f9b6a0c1f9b6a0c1f9b6a0c1f9b6a, size: 10, created: 2026-11-01T08:00:00Z, format: skops}}
      v2.0.0: {{md5: 7d793037a0760186574b0282f2f435e7, size: 10, created: 2026-11-02T08:00:00Z, format: pickle}}
    history:
      - {{at: 2026-11-01T11:00:00Z, by: alice, stage: production, version: v1.0.0, reason: first}}
"""


@pytest.mark.parametrize("breaks", ["\u2028" * 5, "\u2029" * 5, "\x85" * 5, "\r" * 6])
def test_a_line_break_only_yaml_sees_cannot_hide_a_stages_line(breaks):
    """YAML breaks lines at \\r, U+0085, U+2028 and U+2029: five of them after the model's key made the
    continuation check look at the wrong lines, so a `stages:` line inside a quoted description passed,
    and the fast lookup (which cuts blocks at \\n only) answered with it: production v2.0.0, a pickle,
    while every check saw v1.0.0. Such a text is now refused at the character, and the fast path
    steps aside for it."""
    text = BASE.format(after_key="  # ML team" + breaks)
    with pytest.raises(ModelregError) as refused:
        parse_valid(text, "models/registry.yaml")
    (problem,) = refused.value.problems
    assert (problem.line, problem.column) == (3, len("  churn:  # ML team") + 1)
    assert "line break" in problem.message and "\\n" in problem.message
    with pytest.raises(ModelregError):
        lookup.resolve(text, lookup.parse_reference("churn@production"), "models/registry.yaml")


def test_a_crlf_registry_is_refused_with_what_to_do():
    text = SAMPLE.replace("\n", "\r\n")
    with pytest.raises(ModelregError) as refused:
        parse_valid(text, "models/registry.yaml")
    (problem,) = refused.value.problems
    assert problem.line == 1 and "carriage return" in problem.message and "line endings" in problem.hint


def _with_version(name: str) -> str:
    return SAMPLE.replace("v1.3.0", name)


def test_a_version_name_too_long_for_a_tag_is_refused():
    """A version of 240 digits validated, and every release after it failed: git cannot create a ref
    whose file name is that long, the tags are created all or none, and the version cannot be removed."""
    long = "v1" + "0" * 240 + ".0.0"
    text = _with_version(long)
    assert long in text
    with pytest.raises(ModelregError) as refused:
        parse_valid(text, "models/registry.yaml")
    assert any("64" in p.message or "long" in p.message for p in refused.value.problems)
    parse_valid(_with_version("v1" + "0" * 40 + ".0.0"), "models/registry.yaml")  # long, and still a tag


@pytest.mark.parametrize("owner", ["@acme/..", "@acme/.", "@acme/.hidden"])
def test_a_team_slug_cannot_be_a_dot_segment(owner):
    """`@acme/..` validated as a team, and the team-membership URL normalises to the organisation's."""
    text = SAMPLE.replace('owners: [alice, "@acme/ml-leads"]', f'owners: [alice, "{owner}"]', 1)
    assert owner in text
    with pytest.raises(ModelregError) as refused:
        parse_valid(text, "models/registry.yaml")
    assert any("owners" in p.render() for p in refused.value.problems)


HOSTILE = "ok\x1b[2J\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\\u202eevil\x00"


def test_show_prints_registry_text_escaped(tmp_path):
    """`show` printed a description and a version's notes raw: terminal escapes, a link, bidi, NUL."""
    registry = tmp_path / "registry.yaml"
    registry.write_text(SAMPLE.replace("Predicts 30-day churn from account activity.",
                                       '"' + HOSTILE.encode("unicode_escape").decode().replace('"', '\\"') + '"')
                        .replace("notes: More trees, new features.", 'notes: "' + HOSTILE.encode("unicode_escape").decode() + '"'))
    modelreg = [sys.executable, "-m", "modelreg"]
    for command in (["show", "churn-classifier"], ["show", "churn-classifier", "v1.3.0"]):
        out = run(modelreg + command + ["--registry", str(registry)], cwd=tmp_path).stdout
        assert "evil" in out and not any(ch in out for ch in "\x1b\x00\u202e"), (command, out)


def test_validate_prints_an_event_reason_escaped(tmp_path):
    """`validate --base` printed each event as it came: an archive reason could clear the line and forge
    another ("production -> v1.0.0 (approved)")."""
    from conftest import git

    root = tmp_path / "repo"
    (root / "models").mkdir(parents=True)
    (root / "models" / "registry.yaml").write_text(SAMPLE)
    git("init", "-q", cwd=root)
    git("add", "-A", cwd=root)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base", cwd=root)
    reason = "old\\e[2K\\r  churn-classifier: production -> v1.0.0 (approved)"
    archived = SAMPLE.replace("        data: {path: data/churn.csv, md5: 9e107d9d372bb6826bd81d3542a419d6}\n",
                              "        data: {path: data/churn.csv, md5: 9e107d9d372bb6826bd81d3542a419d6}\n"
                              f'        archived: "{reason}"\n', 1)
    assert archived != SAMPLE
    (root / "models" / "registry.yaml").write_text(archived)
    result = run([sys.executable, "-m", "modelreg", "validate", "--base", "HEAD"], cwd=root, check=False)
    assert "archived v1.0.0" in result.stdout, result.stdout + result.stderr
    assert "\x1b" not in result.stdout and "\r" not in result.stdout, result.stdout


def test_the_fixtures_here_are_what_the_sample_holds():
    assert "      v1.3.0:" in SAMPLE and "notes: More trees, new features." in SAMPLE


@pytest.mark.parametrize("path", ["sub/.GIT/config", ".git./config", ".Git /hooks/x", "a/.g\u200cit/x"])
def test_the_pull_sink_refuses_a_path_some_file_systems_open_as_git(tmp_path, path):
    """The second wall at the sink: `dvc.inside` compared `.git` exactly and case-sensitively."""
    from modelreg.adapters import dvc

    with pytest.raises(ModelregError, match="git's or DVC's own files"):
        dvc.inside(tmp_path, path)
    assert dvc.inside(tmp_path, "models/git/x.pkl") == tmp_path.resolve() / "models" / "git" / "x.pkl"
