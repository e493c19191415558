"""Both DVC remotes on S3: a real S3 protocol server (moto, server mode) on 127.0.0.1, through dvc-s3.

Covers register -> push to candidates, the release copy to registry, verified
pulls, and the endpoint failing before or in the middle of a transfer: the
command fails with a clear error, nothing is recorded as stored that is not,
and running it again completes the work.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import copy_env, git, retrain, run
from s3_support import FlakyProxy

pytestmark = pytest.mark.slow
MODEL = "churn-classifier"
REGISTRY = "models/registry.yaml"


@pytest.fixture
def s3(moto_endpoint, monkeypatch):
    import boto3

    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
                       "AWS_MAX_ATTEMPTS": "2", "AWS_RETRY_MODE": "standard"}.items():
        monkeypatch.setenv(key, value)
    proxy = FlakyProxy(moto_endpoint)
    client = boto3.client("s3", endpoint_url=f"http://{moto_endpoint[0]}:{moto_endpoint[1]}")
    suffix = uuid.uuid4().hex[:8]
    names = SimpleNamespace(candidates=f"candidates-{suffix}", registry=f"registry-{suffix}")
    for bucket in vars(names).values():
        client.create_bucket(Bucket=bucket)
    yield SimpleNamespace(proxy=proxy, client=client, **vars(names))
    proxy.close()


def stored(s3, bucket: str, digest: str) -> bool:
    response = s3.client.list_objects_v2(Bucket=bucket, Prefix=f"store/files/md5/{digest[:2]}/{digest[2:]}")
    return response.get("KeyCount", 0) > 0


@pytest.fixture
def s3_repo(trained_base, tmp_path, s3) -> Path:
    root = copy_env(trained_base, tmp_path / "env")
    for remote in ("candidates", "registry"):
        bucket = getattr(s3, remote)
        run([sys.executable, "-m", "dvc", "remote", "modify", remote, "url", f"s3://{bucket}/store"], root)
        run([sys.executable, "-m", "dvc", "remote", "modify", remote, "endpointurl", s3.proxy.url], root)
    git("commit", "-qam", "DVC remotes on S3", cwd=root)
    run([sys.executable, "-m", "dvc", "push", "-q", "-r", "candidates"], root)
    return root


def modelreg(root: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "modelreg", *args], root, check=check)


def registry_data(root: Path) -> dict:
    from modelreg.core import yamlread

    return yamlread.load((root / REGISTRY).read_text(), "r")[0]


def retrain_trees(root: Path, trees: int) -> None:
    retrain(root, "n_estimators: 60", f"n_estimators: {trees}")


def artifact_md5(root: Path) -> str:
    return hashlib.md5((root / "models" / MODEL / "model.skops").read_bytes()).hexdigest()


def test_register_release_and_pull_through_s3(s3_repo, s3, tmp_path):
    retrain_trees(s3_repo, 80)
    digest = artifact_md5(s3_repo)
    modelreg(s3_repo, "register", MODEL, "--commit")
    assert stored(s3, s3.candidates, digest) and not stored(s3, s3.registry, digest)
    modelreg(s3_repo, "validate", "--remote", "candidates")
    modelreg(s3_repo, "promote", MODEL, "v1.1.0", "--to", "production", "--reason", "on S3", "--commit")
    result = modelreg(s3_repo, "ci", "release", "--no-push")
    assert "churn-classifier v1.1.0" in result.stdout and stored(s3, s3.registry, digest)
    target = tmp_path / "pulled.skops"
    pulled = json.loads(modelreg(s3_repo, "pull", f"{MODEL}@production", "-o", str(target), "--json").stdout)
    assert pulled["verified"] and hashlib.md5(target.read_bytes()).hexdigest() == digest == pulled["md5"]


def test_endpoint_down_during_register_records_nothing_and_a_retry_completes(s3_repo, s3):
    retrain_trees(s3_repo, 70)
    digest = artifact_md5(s3_repo)
    before = (s3_repo / REGISTRY).read_bytes()
    s3.proxy.down()
    failed = modelreg(s3_repo, "register", MODEL, check=False)
    assert failed.returncode == 1
    assert "could not push models/churn-classifier/model.skops to the DVC remote 'candidates'" in failed.stderr
    assert "nothing was registered" in failed.stderr and "Traceback" not in failed.stderr
    assert (s3_repo / REGISTRY).read_bytes() == before and not stored(s3, s3.candidates, digest)
    s3.proxy.up()
    modelreg(s3_repo, "register", MODEL)
    assert stored(s3, s3.candidates, digest)
    assert registry_data(s3_repo)["models"][MODEL]["versions"]["v1.1.0"]["md5"] == digest


def test_endpoint_dying_in_the_middle_of_a_push(s3_repo, s3):
    retrain_trees(s3_repo, 150)
    digest = artifact_md5(s3_repo)
    before = (s3_repo / REGISTRY).read_bytes()
    s3.proxy.cut_after = s3.proxy.sent + 256 * 1024  # after 256 KiB of the upload
    failed = modelreg(s3_repo, "register", MODEL, check=False)
    assert failed.returncode == 1 and "could not push" in failed.stderr and "Traceback" not in failed.stderr
    assert (s3_repo / REGISTRY).read_bytes() == before and not stored(s3, s3.candidates, digest)
    s3.proxy.up()
    modelreg(s3_repo, "register", MODEL)
    assert stored(s3, s3.candidates, digest)


def test_endpoint_down_during_the_release_copy_tags_nothing(s3_repo, s3):
    modelreg(s3_repo, "promote", MODEL, "v1.0.0", "--to", "production", "--reason", "ship", "--commit")
    s3.proxy.down()
    failed = modelreg(s3_repo, "ci", "release", "--no-push", check=False)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "DVC remote 'registry'" in failed.stderr or "DVC remote 'candidates'" in failed.stderr
    assert git("tag", cwd=s3_repo).strip() == ""  # no tag names bytes the store lacks
    s3.proxy.up()
    modelreg(s3_repo, "ci", "release", "--no-push")
    digest = registry_data(s3_repo)["models"][MODEL]["versions"]["v1.0.0"]["md5"]
    assert stored(s3, s3.registry, digest)
    assert set(git("tag", cwd=s3_repo).split()) == {f"{MODEL}@v1.0.0", f"{MODEL}#production#1"}


def test_pull_with_the_endpoint_down_writes_nothing(s3_repo, s3, tmp_path):
    s3.proxy.down()
    target = tmp_path / "out" / "model.skops"
    failed = modelreg(s3_repo, "pull", f"{MODEL}@v1.0.0", "--remote", "candidates", "-o", str(target), check=False)
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert "cannot reach DVC remote 'candidates'" in failed.stderr and "nothing was written" in failed.stderr
    assert not target.exists()
    s3.proxy.up()
    modelreg(s3_repo, "pull", f"{MODEL}@v1.0.0", "--remote", "candidates", "-o", str(target))
    assert hashlib.md5(target.read_bytes()).hexdigest() == registry_data(s3_repo)["models"][MODEL]["versions"][
        "v1.0.0"]["md5"]


def test_a_slow_endpoint_is_slow_not_wrong(s3_repo, s3, tmp_path):
    retrain_trees(s3_repo, 40)
    digest = artifact_md5(s3_repo)
    s3.proxy.delay = 0.02  # 20 ms per 64 KiB chunk, each way
    started = __import__("time").monotonic()
    modelreg(s3_repo, "register", MODEL)
    target = tmp_path / "slow.skops"
    modelreg(s3_repo, "pull", f"{MODEL}@v1.1.0", "--remote", "candidates", "-o", str(target))
    assert __import__("time").monotonic() - started > 1  # it really was slow
    assert stored(s3, s3.candidates, digest) and hashlib.md5(target.read_bytes()).hexdigest() == digest
