"""register, pull, load and validate against real git and real DVC with local-folder remotes."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import git, retrain, run

pytestmark = pytest.mark.slow
MODEL = "churn-classifier"
ARTIFACT = "models/churn-classifier/model.skops"


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def registry(root: Path) -> dict:
    from modelreg.core import yamlread

    return yamlread.load((root / "models" / "registry.yaml").read_text(), "r")[0]


def modelreg(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "modelreg", *args], root, check=check)


def remote_object(base: Path, remote: str, digest: str) -> Path:
    return base / "remotes" / remote / "files" / "md5" / digest[:2] / digest[2:]


def test_register_records_what_dvc_and_git_know(trained_repo):
    version = registry(trained_repo)["models"][MODEL]["versions"]["v1.0.0"]
    lock = yaml.safe_load((trained_repo / "dvc.lock").read_text())
    out = next(o for o in lock["stages"]["train"]["outs"] if o["path"] == ARTIFACT)
    assert version["md5"] == out["md5"] == md5(trained_repo / ARTIFACT)
    assert version["size"] == out["size"] == (trained_repo / ARTIFACT).stat().st_size
    assert version["metrics"] == json.loads((trained_repo / "metrics/churn-classifier.json").read_text())
    params = yaml.safe_load((trained_repo / "params.yaml").read_text())
    assert version["params"] == {"data": params["data"], "train": params["train"]}  # every stage up to the model
    prepared = next(d for d in lock["stages"]["train"]["deps"] if d["path"] == "data/prepared")
    assert version["data"] == {"path": "data/prepared", "md5": prepared["md5"]}
    assert version["commit"] == git("rev-parse", "HEAD~1", cwd=trained_repo).strip()  # the training commit
    assert version["author"] == "tester" and version["notes"] == "first"
    assert git("log", "-1", "--format=%s", cwd=trained_repo).strip() == f"Register {MODEL} v1.0.0"
    assert git("status", "--porcelain", cwd=trained_repo) == ""
    assert remote_object(trained_repo.parent, "candidates", version["md5"]).exists()
    assert not remote_object(trained_repo.parent, "registry", version["md5"]).exists()
    modelreg(trained_repo, "validate", "--dvc", "--remote", "candidates")
    result = modelreg(trained_repo, "validate", "--remote", "registry", check=False)
    assert result.returncode == 1
    assert "models/registry.yaml:" in result.stderr and "missing from DVC remote 'registry'" in result.stderr


def unchanged(root: Path):
    path = root / "models" / "registry.yaml"
    before = path.read_bytes()

    class Check:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            assert path.read_bytes() == before, "the registry changed"

    return Check()


def test_register_refuses_the_same_bytes_twice(trained_repo):
    with unchanged(trained_repo):
        result = modelreg(trained_repo, "register", MODEL, check=False)
    assert result.returncode == 1
    assert "is already registered as churn-classifier v1.0.0" in result.stderr
    assert "models/registry.yaml:" in result.stderr


def test_register_refuses_a_stale_dvc_record(trained_repo):
    (trained_repo / ARTIFACT).write_bytes(b"not the model DVC recorded")
    with unchanged(trained_repo):
        result = modelreg(trained_repo, "register", MODEL, "--no-push", check=False)
    assert result.returncode == 1 and "not up to date" in result.stderr and "dvc repro" in result.stderr


def test_register_refuses_uncommitted_training_code(trained_repo):
    train = trained_repo / "scripts" / "train.py"
    train.write_text(train.read_text() + "\n# tweak\n")
    params = yaml.safe_load((trained_repo / "params.yaml").read_text())
    run([sys.executable, "-m", "dvc", "repro", "-q"], trained_repo)  # DVC is up to date, git is not
    with unchanged(trained_repo):
        result = modelreg(trained_repo, "register", MODEL, "--no-push", check=False)
    assert result.returncode == 1
    assert "uncommitted changes (scripts/train.py)" in result.stderr
    assert params == yaml.safe_load((trained_repo / "params.yaml").read_text())


def test_register_refuses_without_a_dvc_record(trained_repo):
    (trained_repo / "dvc.lock").unlink()
    with unchanged(trained_repo):
        result = modelreg(trained_repo, "register", MODEL, "--no-push", check=False)
    assert result.returncode == 1 and "DVC has no record of models/churn-classifier/model.skops" in result.stderr


def test_register_refuses_an_undeclared_model(trained_repo):
    with unchanged(trained_repo):
        result = modelreg(trained_repo, "register", "ranker", check=False)
    assert result.returncode == 1 and "declare it in dvc.yaml" in result.stderr


def test_a_failed_push_registers_nothing(trained_repo):
    blocker = trained_repo.parent / "not-a-folder"
    blocker.write_text("a file where the remote folder should be")
    run([sys.executable, "-m", "dvc", "remote", "modify", "candidates", "url", str(blocker / "sub")], trained_repo)
    git("commit", "-qam", "broken remote", cwd=trained_repo)
    params = trained_repo / "params.yaml"
    params.write_text(params.read_text().replace("n_estimators: 60", "n_estimators: 61"))
    git("commit", "-qam", "params", cwd=trained_repo)
    run([sys.executable, "-m", "dvc", "repro", "-q"], trained_repo)
    with unchanged(trained_repo):
        result = modelreg(trained_repo, "register", MODEL, check=False)
    assert result.returncode == 1 and "could not push" in result.stderr and "nothing was registered" in result.stderr


def test_train_script_registers_with_flag(trained_repo):
    params = trained_repo / "params.yaml"
    params.write_text(params.read_text().replace("max_depth: 6", "max_depth: 7"))
    git("commit", "-qam", "deeper", cwd=trained_repo)
    result = run([sys.executable, "scripts/train.py", "--register", "--notes", "deeper trees"], trained_repo)
    assert "registered churn-classifier v1.1.0" in result.stdout
    version = registry(trained_repo)["models"][MODEL]["versions"]["v1.1.0"]
    assert version["params"]["train"]["max_depth"] == 7 and version["notes"] == "deeper trees"
    assert version["md5"] == md5(trained_repo / ARTIFACT)


@pytest.fixture
def released(trained_repo):
    """v1.0.0 in production and copied to the registry remote, as the release workflow leaves it."""
    modelreg(trained_repo, "promote", MODEL, "v1.0.0", "--to", "production", "--reason", "first", "--commit")
    from modelreg.adapters import dvc

    digest = registry(trained_repo)["models"][MODEL]["versions"]["v1.0.0"]["md5"]
    assert dvc.copy(trained_repo, digest, "candidates", "registry") is True
    assert dvc.copy(trained_repo, digest, "candidates", "registry") is False  # reruns are no-ops
    return trained_repo


def test_pull_verifies_and_places_the_artifact(released, tmp_path):
    target = tmp_path / "out" / "model.skops"
    result = modelreg(released, "pull", f"{MODEL}@production", "-o", str(target), "--json")
    report = json.loads(result.stdout)
    assert report["verified"] is True and report["version"] == "v1.0.0"
    assert md5(target) == report["md5"] == registry(released)["models"][MODEL]["versions"]["v1.0.0"]["md5"]


def test_pull_from_a_shallow_clone_with_no_tags(released):
    clone = released.parent / "clone"  # beside the repo, so the relative remote URLs hold
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{released}", str(clone)], check=True)
    assert git("tag", cwd=clone).strip() == "" and git("rev-list", "--count", "HEAD", cwd=clone).strip() == "1"
    modelreg(clone, "pull", f"{MODEL}@production")
    assert md5(clone / ARTIFACT) == registry(clone)["models"][MODEL]["versions"]["v1.0.0"]["md5"]


def test_tampered_remote_bytes_are_refused_and_nothing_is_written(released, tmp_path):
    digest = registry(released)["models"][MODEL]["versions"]["v1.0.0"]["md5"]
    stored = remote_object(released.parent, "registry", digest)
    stored.chmod(0o644)
    stored.write_bytes(b"evil pickle" * 100)
    shutil.rmtree(released / ".dvc" / "cache", ignore_errors=True)
    target = tmp_path / "deploy" / "model.skops"
    result = modelreg(released, "pull", f"{MODEL}@production", "-o", str(target), check=False)
    assert result.returncode == 1
    assert f"expected md5 {digest}, got {hashlib.md5(b'evil pickle' * 100).hexdigest()}" in result.stderr
    assert not target.exists() and list(target.parent.iterdir()) == []


def test_pull_of_a_version_missing_from_the_remote(trained_repo, tmp_path):
    shutil.rmtree(trained_repo / ".dvc" / "cache", ignore_errors=True)
    result = modelreg(trained_repo, "pull", f"{MODEL}@v1.0.0", "-o", str(tmp_path / "m"), check=False)
    assert result.returncode == 1 and "is missing from DVC remote 'registry'" in result.stderr
    assert not (tmp_path / "m").exists()


def test_load_verifies_then_loads(released, monkeypatch):
    monkeypatch.chdir(released)
    import modelreg

    model = modelreg.load(MODEL)
    sample = json.loads((released / "data" / "prepared" / "sample.json").read_text())
    assert model.predict_proba(sample["rows"]).shape == (3, 2)


def test_directory_artifacts(trained_repo, tmp_path):
    folder = trained_repo / "models" / "bundle"
    (folder / "sub").mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"\x00\x01" * 5000)
    (folder / "sub" / "config.json").write_text('{"layers": 3}\n')
    run([sys.executable, "-m", "dvc", "add", "-q", "models/bundle"], trained_repo)
    run([sys.executable, "-m", "dvc", "push", "-q", "-r", "registry", "models/bundle"], trained_repo)
    record = yaml.safe_load((trained_repo / "models" / "bundle.dvc").read_text())["outs"][0]
    assert record["md5"].endswith(".dir")
    path = trained_repo / "models" / "registry.yaml"
    path.write_text(path.read_text() + f"""  bundle:
    path: models/bundle
    format: directory
    versions:
      v1.0.0: {{md5: {record['md5']}, size: {record['size']}, created: 2026-11-26T10:00:00Z}}
""")
    checked = modelreg(trained_repo, "validate", "--remote", "registry", check=False)
    assert "models.bundle" not in checked.stderr and "models.churn-classifier.versions.v1.0.0" in checked.stderr
    shutil.rmtree(trained_repo / ".dvc" / "cache", ignore_errors=True)
    target = tmp_path / "bundle"
    modelreg(trained_repo, "pull", "bundle@v1.0.0", "-o", str(target))
    assert (target / "weights.bin").read_bytes() == b"\x00\x01" * 5000
    assert (target / "sub" / "config.json").read_text() == '{"layers": 3}\n'
    # a tampered member file is caught
    member = remote_object(trained_repo.parent, "registry", hashlib.md5(b'{"layers": 3}\n').hexdigest())
    member.chmod(0o644)
    member.write_text('{"layers": 300}\n')
    shutil.rmtree(trained_repo / ".dvc" / "cache", ignore_errors=True)
    result = modelreg(trained_repo, "pull", "bundle@v1.0.0", "-o", str(tmp_path / "again"), check=False)
    assert result.returncode == 1
    assert "file sub/config.json of the artifact in DVC remote 'registry' failed verification" in result.stderr
    assert not (tmp_path / "again").exists()


def test_validate_dvc_catches_a_wrong_md5(trained_repo):
    path = trained_repo / "models" / "registry.yaml"
    digest = registry(trained_repo)["models"][MODEL]["versions"]["v1.0.0"]["md5"]
    path.write_text(path.read_text().replace(digest, "0" * 31 + "f"))
    result = modelreg(trained_repo, "validate", "--dvc", check=False)
    assert result.returncode == 1
    assert f"which dvc.lock records for {ARTIFACT}" in result.stderr
    assert "models.churn-classifier.versions.v1.0.0.md5" in result.stderr


def test_validate_dvc_checks_each_version_against_the_commit_that_registered_it(trained_repo):
    retrain(trained_repo, "n_estimators: 60", "n_estimators: 70")  # not registered yet
    modelreg(trained_repo, "validate", "--dvc")  # v1.0.0 matches the dvc.lock it was registered with
    modelreg(trained_repo, "register", MODEL, "--no-push")
    modelreg(trained_repo, "validate", "--dvc", "--base", "HEAD")  # the new version matches the workspace
    lock = trained_repo / "dvc.lock"
    lock.write_text(lock.read_text().replace(registry(trained_repo)["models"][MODEL]["versions"]["v1.1.0"]["md5"],
                                             "f" * 32))
    result = modelreg(trained_repo, "validate", "--dvc", "--base", "HEAD", check=False)
    assert result.returncode == 1 and "models.churn-classifier.versions.v1.1.0.md5" in result.stderr
    assert "in the workspace" in result.stderr


def test_deploy_smoke_pulls_verifies_and_predicts(released):
    summary = released.parent / "summary.md"
    result = run([sys.executable, "-m", "modelreg", "deploy", "--stage", "production"], released)
    digest = registry(released)["models"][MODEL]["versions"]["v1.0.0"]["md5"]
    assert f"deployed churn-classifier v1.0.0 (md5 {digest}): 3 predictions" in result.stdout
    assert md5(released / "deploy" / MODEL / "model.skops") == digest
    env_run = subprocess.run([sys.executable, "-m", "modelreg", "deploy"], cwd=released, capture_output=True,
                             text=True, env={**__import__("os").environ, "GITHUB_STEP_SUMMARY": str(summary)})
    assert env_run.returncode == 0 and f"`{digest}`" in summary.read_text()
