"""Only reviewed bytes reach production: sha256 beside md5, verified wherever bytes move or load.

An md5 collision cannot be built in a test's time, so it is simulated: the registry records the
sha256 the reviewed bytes had, and the remote holds bytes with the same md5 and another sha256
(here: the recorded sha256 is changed, which is the same mismatch as seen by every verifier).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys

import pytest
import yaml

from conftest import git
from modelreg.adapters import dvc
from modelreg.core.problems import ModelregError

pytestmark = pytest.mark.slow
MODEL = "churn-classifier"
FORGED = "f" * 64


def record(repo) -> dict:
    data = yaml.safe_load((repo / "models" / "registry.yaml").read_text())
    return data["models"][MODEL]["versions"]["v1.0.0"]


def test_registration_records_the_sha256_of_the_bytes(trained_repo):
    version = record(trained_repo)
    artifact = trained_repo / "models" / MODEL / "model.skops"
    assert version["sha256"] == hashlib.sha256(artifact.read_bytes()).hexdigest()
    assert dvc.local_sha256(artifact) == (version["sha256"], version["md5"])


def test_pull_and_copy_refuse_bytes_whose_sha256_differs(trained_repo, tmp_path):
    version = record(trained_repo)
    target = tmp_path / "model.skops"
    with pytest.raises(ModelregError, match="md5 collision"):
        dvc.pull(trained_repo, version["md5"], target, remote="candidates", sha256=FORGED)
    assert not target.exists()
    with pytest.raises(ModelregError, match="md5 collision"):
        dvc.copy(trained_repo, version["md5"], "candidates", "registry", sha256=FORGED)
    assert dvc.remote_status(trained_repo, "registry", {version["md5"]: version["size"]})[version["md5"]]
    assert dvc.copy(trained_repo, version["md5"], "candidates", "registry", sha256=version["sha256"])
    dvc.pull(trained_repo, version["md5"], target, remote="registry", sha256=version["sha256"])
    assert hashlib.sha256(target.read_bytes()).hexdigest() == version["sha256"]


def test_the_pr_check_refuses_a_version_whose_candidate_bytes_do_not_match(trained_repo):
    repo = trained_repo
    text = (repo / "models" / "registry.yaml").read_text()
    git("checkout", "-q", "-b", "before", "HEAD~1", cwd=repo)  # the registry before v1.0.0 was registered
    git("checkout", "-q", "main", cwd=repo)
    version = record(repo)
    (repo / "models" / "registry.yaml").write_text(text.replace(version["sha256"], FORGED))
    result = subprocess.run([sys.executable, "-m", "modelreg", "ci", "check", "--base", "before"], cwd=repo,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert f"have sha256 {version['sha256']}, not the recorded {FORGED}" in result.stderr


def test_a_new_version_without_sha256_is_refused_by_the_check(trained_repo):
    repo = trained_repo
    git("checkout", "-q", "-b", "before", "HEAD~1", cwd=repo)
    git("checkout", "-q", "main", cwd=repo)
    version = record(repo)
    text = (repo / "models" / "registry.yaml").read_text()
    (repo / "models" / "registry.yaml").write_text(text.replace(f"        sha256: {version['sha256']}\n", ""))
    result = subprocess.run([sys.executable, "-m", "modelreg", "ci", "check", "--base", "before", "--no-remote"],
                            cwd=repo, capture_output=True, text=True)
    assert result.returncode == 1 and "no sha256 recorded" in result.stderr


def test_the_migration_records_sha256_from_verified_bytes(trained_repo):
    repo = trained_repo
    version = record(repo)
    path = repo / "models" / "registry.yaml"
    path.write_text(path.read_text().replace(f"        sha256: {version['sha256']}\n", ""))
    git("commit", "-qam", "a registry from before sha256", cwd=repo)
    result = subprocess.run([sys.executable, "-m", "modelreg", "sha256", "--remote", "candidates", "--commit"],
                            cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert record(repo)["sha256"] == version["sha256"]
    check = subprocess.run([sys.executable, "-m", "modelreg", "validate", "--base", "HEAD~1"], cwd=repo,
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr  # gaining sha256 is the one change a registered version allows
    again = subprocess.run([sys.executable, "-m", "modelreg", "sha256", "--remote", "candidates"], cwd=repo,
                           capture_output=True, text=True)
    assert "nothing to do" in again.stdout
