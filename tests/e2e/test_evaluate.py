"""Metrics the gate can trust: a candidate is re-evaluated by the base's code before it may pass the check."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ci_support import MODEL, REGISTRY, ci, modelreg
from conftest import ROOT, git, retrain, run

pytestmark = pytest.mark.slow
POLICY = "    evaluation: {stage: evaluate, data: data/prepared, tolerance: {default: 0.0001}}\n"


@pytest.fixture
def evaluated_repo(repo):
    """main declares an evaluation for the model; the evaluation data is in the candidates remote."""
    path = repo / REGISTRY
    text = path.read_text()
    anchor = "    stages:"
    path.write_text(text.replace(anchor, POLICY + anchor, 1))
    git("commit", "-qam", "re-evaluate candidates in the PR check", cwd=repo)
    git("push", "-q", "origin", "main", cwd=repo)
    run([sys.executable, "-m", "dvc", "push", "-q", "-r", "candidates", "data/prepared"], repo)
    git("checkout", "-q", "-b", "candidate", cwd=repo)
    retrain(repo, "n_estimators: 60", "n_estimators: 25")
    modelreg(repo, "register", MODEL, "--commit")
    return repo


def evaluate(repo: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "modelreg", "evaluate", *args], cwd=repo, capture_output=True,
                          text=True)


def test_an_honest_candidate_reproduces_and_passes(evaluated_repo, fake):
    repo = evaluated_repo
    out = repo.parent / "evaluation.json"
    result = evaluate(repo, "--changed", "--base", "main", "--head", "HEAD", "-o", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    (item,) = json.loads(out.read_text())
    assert item["version"] == "v1.1.0" and item["ok"] and item["trusted"]
    assert {m["name"] for m in item["metrics"]} == {"roc_auc", "accuracy", "f1"}
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    git("push", "-q", "origin", "candidate", cwd=repo)
    fake.add_pull(51, head, git("rev-parse", "main", cwd=repo).strip(), "alice", "candidate")
    fake.add_commit(51, head, "alice", "alice")
    assert item["head"] == head
    check = ci(repo, fake, "check", "--evaluation", str(out), event=fake.event(51))
    assert check.returncode == 0, check.stdout + check.stderr
    comment = fake.pr_comments(51)[0]["body"]
    assert "Metrics reproduced by the base's evaluation" in comment and "✅" in comment


def test_inflated_metrics_with_a_matching_dvc_lock_fail_with_both_numbers(evaluated_repo, fake):
    repo = evaluated_repo
    path = repo / REGISTRY
    text = path.read_text()
    block = text[text.index("      v1.1.0:"):]
    registered = float(block.split("roc_auc: ")[1].split(",")[0].split("}")[0])
    path.write_text(text[:text.index("      v1.1.0:")] + block.replace(f"roc_auc: {registered}", "roc_auc: 0.999", 1))
    git("commit", "-qam", "better numbers", cwd=repo)
    result = evaluate(repo, MODEL, "v1.1.0", "--base", "main", "--head", "HEAD")
    assert result.returncode == 1
    assert "does not reproduce: roc_auc registered 0.999, reproduced" in result.stdout
    out = repo.parent / "evaluation.json"
    evaluate(repo, "--changed", "--base", "main", "--head", "HEAD", "--report-only", "-o", str(out))
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    fake.add_pull(52, head, git("rev-parse", "main", cwd=repo).strip(), "mallory", "candidate")
    fake.add_commit(52, head, "mallory", "mallory")
    git("push", "-q", "origin", "candidate", cwd=repo)
    check = ci(repo, fake, "check", "--evaluation", str(out), event=fake.event(52))
    assert check.returncode == 1
    assert f"roc_auc registered 0.999, reproduced {registered:.4g}" in check.stdout
    comment = fake.pr_comments(52)[0]["body"]
    assert "| 0.999 |" in comment and "❌" in comment


def test_the_check_requires_the_reproduction_in_actions(evaluated_repo, fake):
    repo = evaluated_repo
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    git("push", "-q", "origin", "candidate", cwd=repo)
    fake.add_pull(53, head, git("rev-parse", "main", cwd=repo).strip(), "alice", "candidate")
    fake.add_commit(53, head, "alice", "alice")
    check = ci(repo, fake, "check", "--evaluation", str(repo.parent / "absent.json"), event=fake.event(53))
    assert check.returncode == 1 and "no reproduction of its metrics for this commit" in check.stdout
    forged = repo.parent / "forged.json"
    forged.write_text("{not json")
    check = ci(repo, fake, "check", "--evaluation", str(forged), event=fake.event(53))
    assert check.returncode == 1 and "fails closed" in check.stderr


def test_the_evaluation_job_has_no_write_permission_and_no_secret():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "registry-check.yml").read_text())
    job = workflow["jobs"]["evaluate"]
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    text = json.dumps(job)
    assert "secrets." not in text and "github.token" not in text and "GITHUB_TOKEN" not in text
    check = workflow["jobs"]["check"]
    assert check["needs"] == "evaluate"
    assert "--evaluation" in check["steps"][-1]["run"]


def test_the_release_records_the_reproduced_metrics(evaluated_repo):
    repo = evaluated_repo
    git("checkout", "-q", "main", cwd=repo)
    git("merge", "-q", "--no-ff", "candidate", "-m", "Merge the candidate", cwd=repo)
    result = subprocess.run([sys.executable, "-m", "modelreg", "ci", "release", "--no-push", "--evaluate"], cwd=repo,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    message = json.loads(git("tag", "-l", "--format=%(contents)", f"{MODEL}@v1.1.0", cwd=repo))
    registered = yaml.safe_load((repo / REGISTRY).read_text())["models"][MODEL]["versions"]["v1.1.0"]["metrics"]
    assert message["reproduced"]["trusted"] and message["reproduced"]["ok"]
    assert message["reproduced"]["metrics"]["roc_auc"] == pytest.approx(registered["roc_auc"], abs=1e-4)
