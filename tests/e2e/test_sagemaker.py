"""SageMaker's Model Registry as a mirror and a way in, against moto's SageMaker and S3 in server mode on 127.0.0.1.

`modelreg sagemaker sync` mirrors a registry with staging, production and
archived versions (bytes in an S3 `registry` DVC remote, PRs and approvers in
release tags); a rerun makes no write call; a hand-approved package is set back
and reported; promotion and rollback flip the statuses; the endpoint failing in
the middle of a sync leaves a rerun able to finish. `modelreg import-sagemaker`
brings a group of three packages, one approved, into a registry, and the sync
afterwards adopts those packages instead of making new ones.

SageMaker traffic goes through s3_support's FlakyProxy so a test can take the
endpoint down; write calls are counted at botocore's one entry point.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest

from conftest import git, init_git
from s3_support import FlakyProxy

pytestmark = pytest.mark.slow
boto3 = pytest.importorskip("boto3")

WRITE_OPERATIONS = {"CreateModelPackageGroup", "CreateModelPackage", "UpdateModelPackage"}
COMMIT = "c0ffee" + "0" * 34


@pytest.fixture(scope="module")
def moto_endpoint():
    import logging

    from moto.server import ThreadedMotoServer

    # the server thread's request log would outlive the test whose stream it first wrote to
    access_log = logging.getLogger("werkzeug")
    was_disabled, access_log.disabled = access_log.disabled, True
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()
    access_log.disabled = was_disabled


@pytest.fixture(autouse=True)
def _dvc_logs_outlive_the_test():
    """DVC points its log handlers at sys.stdout/sys.stderr when first imported: in-process, that may be an
    earlier test's captured (and closed) stream. Point them at the process's own."""
    import logging

    import dvc  # noqa: F401  (sets the handlers up)

    for name in ("dvc", "dvc_objects", "dvc_data"):
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                errors = handler.level >= logging.WARNING
                handler.setStream(sys.__stderr__ if errors else sys.__stdout__)


class Calls(list):
    """(operation, parameters) of every botocore call made in this process; `after` runs after each one."""

    after = None


@pytest.fixture
def calls(monkeypatch) -> Calls:
    from botocore.client import BaseClient

    made = Calls()
    original = BaseClient._make_api_call

    def recording(self, operation, params):
        result = original(self, operation, params)
        made.append((operation, params))
        if made.after:
            made.after(operation)
        return result

    monkeypatch.setattr(BaseClient, "_make_api_call", recording)
    return made


def writes(calls) -> list[tuple[str, dict]]:
    return [(op, params) for op, params in calls if op in WRITE_OPERATIONS]


@pytest.fixture
def aws(moto_endpoint, monkeypatch, tmp_path):
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
                       "AWS_MAX_ATTEMPTS": "2", "AWS_RETRY_MODE": "standard",
                       "AWS_ENDPOINT_URL_S3": moto_endpoint}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    host, port = moto_endpoint.removeprefix("http://").split(":")
    proxy = FlakyProxy((host, int(port)))
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER", proxy.url)
    suffix = uuid.uuid4().hex[:8]
    s3 = boto3.client("s3", endpoint_url=moto_endpoint)
    names = SimpleNamespace(candidates=f"candidates-{suffix}", registry=f"registry-{suffix}",
                            artifacts=f"sm-artifacts-{suffix}", prefix=f"t{suffix}-")
    for bucket in (names.candidates, names.registry, names.artifacts):
        s3.create_bucket(Bucket=bucket)
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    yield SimpleNamespace(proxy=proxy, s3=s3, summary=summary, endpoint=moto_endpoint,
                          sm=boto3.client("sagemaker", endpoint_url=moto_endpoint), **vars(names))
    proxy.close()


def make_repo(root: Path, aws) -> Path:
    """git + DVC, both remotes on moto's S3 (buckets of this test), an empty registry."""
    from dvc.repo import Repo

    root.mkdir(parents=True)
    init_git(root)
    Repo.init(str(root)).close()
    (root / ".dvc" / "config").write_text(
        "[core]\n    remote = registry\n    analytics = false\n"
        f"['remote \"candidates\"']\n    url = s3://{aws.candidates}/store\n    endpointurl = {aws.endpoint}\n"
        f"['remote \"registry\"']\n    url = s3://{aws.registry}/store\n    endpointurl = {aws.endpoint}\n")
    (root / "models").mkdir()
    (root / "models" / "registry.yaml").write_text("schema: 1\nmodels: {}\n")
    git("add", "-A", cwd=root)
    git("commit", "-qm", "registry", cwd=root)
    return root


def put_object(aws, data: bytes) -> str:
    digest = hashlib.md5(data).hexdigest()
    aws.s3.put_object(Bucket=aws.registry, Key=f"store/files/md5/{digest[:2]}/{digest[2:]}", Body=data)
    return digest


REGISTRY = """\
schema: 1
models:
  churn:
    description: Predicts churn.
    path: models/churn/model.skops
    format: skops
    stages: {{production: v1.1.0, staging: v1.2.0}}
    versions:
      v1.0.0: {{md5: {v0}, sha256: {h0}, size: {s0}, format: skops, created: '2026-01-01T00:00:00Z', author: alice,
               archived: replaced by v1.1.0}}
      v1.1.0: {{md5: {v1}, sha256: {h1}, size: {s1}, format: skops, created: '2026-01-02T00:00:00Z', author: alice,
               commit: {commit}}}
      v1.2.0: {{md5: {v2}, sha256: {h2}, size: {s2}, format: skops, created: '2026-01-03T00:00:00Z', author: bob}}
    history:
      - {{at: '2026-01-02T00:00:00Z', by: alice, stage: production, version: v1.0.0, previous: null, reason: first}}
      - {{at: '2026-01-03T00:00:00Z', by: alice, stage: production, version: v1.1.0, previous: v1.0.0,
         reason: better}}
      - {{at: '2026-01-04T00:00:00Z', by: bob, stage: staging, version: v1.2.0, previous: null, reason: try it}}
  ranker:
    path: models/ranker/model.onnx
    format: onnx
    stages: {{production: v1.0.0}}
    versions:
      v1.0.0: {{md5: {r0}, sha256: {hr}, size: {rs}, format: onnx, created: '2026-01-01T00:00:00Z', author: carol}}
    history:
      - {{at: '2026-01-02T00:00:00Z', by: carol, stage: production, version: v1.0.0, previous: null, reason: first}}
"""


def tag(root: Path, name: str, message: dict) -> None:
    from modelreg.adapters import git as git_adapter

    head = git("rev-parse", "HEAD", cwd=root).strip()
    git_adapter.create_tag(name, head, json.dumps({"modelreg": 1, "registry_commit": head, **message}), 1_700_000_000,
                           "release", root)


@pytest.fixture
def mirrored(tmp_path, aws) -> SimpleNamespace:
    """A registry with archived, production and staging versions of `churn` and a `ranker` shipped as a
    model.tar.gz; every version's bytes in the S3 registry remote; release tags with PRs and approvers."""
    root = make_repo(tmp_path / "repo", aws)
    blobs = {key: os.urandom(2048 + i) for i, key in enumerate(("v0", "v1", "v2", "r0"))}
    digests = {key: put_object(aws, data) for key, data in blobs.items()}
    sha = {key: hashlib.sha256(data).hexdigest() for key, data in blobs.items()}
    (root / "models" / "registry.yaml").write_text(REGISTRY.format(
        commit=COMMIT, s0=len(blobs["v0"]), s1=len(blobs["v1"]), s2=len(blobs["v2"]), rs=len(blobs["r0"]),
        h0=sha["v0"], h1=sha["v1"], h2=sha["v2"], hr=sha["r0"], **digests))
    (root / "models" / "sagemaker.yaml").write_text(f"""\
group_prefix: {aws.prefix}
defaults:
  image: 683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3
  content_types: [text/csv]
models:
  churn: {{}}
  ranker:
    image: 763104351884.dkr.ecr.us-east-1.amazonaws.com/onnx-serving:1
    content_types: [application/json]
    response_types: [application/json]
    tarball: true
""")
    git("add", "-A", cwd=root)
    git("commit", "-qm", "versions", cwd=root)
    tag(root, "churn@v1.1.0", {"event": "version_registered", "model": "churn", "version": "v1.1.0", "pr": 7,
                               "approvers": ["alice", "bob"]})
    tag(root, "churn#production#2", {"event": "stage_assigned", "model": "churn", "version": "v1.1.0",
                                     "stage": "production", "pr": 8, "approvers": ["carol"], "history_index": 1})
    return SimpleNamespace(root=root, blobs=blobs, digests=digests, sha256=sha, head=git("rev-parse", "HEAD", cwd=root).strip())


def packages(aws, group: str) -> dict[str, dict]:
    """modelreg_version -> the described package (and "#N" -> package N for the ones without it)."""
    listing = aws.sm.list_model_packages(ModelPackageGroupName=group)["ModelPackageSummaryList"]
    result = {}
    for summary in listing:
        described = aws.sm.describe_model_package(ModelPackageName=summary["ModelPackageArn"])
        key = (described.get("CustomerMetadataProperties") or {}).get("modelreg_version")
        result[key or f"#{described['ModelPackageVersion']}"] = described
    return result


def statuses(aws, group: str) -> dict[str, str]:
    return {key: package["ModelApprovalStatus"] for key, package in packages(aws, group).items()}


def sync(cli, root: Path, *extra: str) -> tuple[int, str, str]:
    return cli("sagemaker", "sync", *extra, cwd=root)


def test_sync_mirrors_the_registry_and_a_rerun_writes_nothing(cli, aws, mirrored, calls):
    group = f"{aws.prefix}churn"
    code, out, err = sync(cli, mirrored.root, "--dry-run")
    assert code == 0, err
    assert "churn v1.1.0: a package would be created (Approved)" in out and writes(calls) == []
    assert aws.sm.list_model_package_groups(NameContains=aws.prefix)["ModelPackageGroupSummaryList"] == []
    code, out, err = sync(cli, mirrored.root)
    assert code == 0, err
    found = packages(aws, group)
    assert {k: p["ModelApprovalStatus"] for k, p in found.items()} == {
        "v1.0.0": "Rejected", "v1.1.0": "Approved", "v1.2.0": "PendingManualApproval"}
    production = found["v1.1.0"]
    digest = mirrored.digests["v1"]
    container = production["InferenceSpecification"]["Containers"][0]
    assert container["ModelDataUrl"] == f"s3://{aws.registry}/store/files/md5/{digest[:2]}/{digest[2:]}"
    assert container["Image"].endswith("sagemaker-scikit-learn:1.2-1-cpu-py3")
    assert production["InferenceSpecification"]["SupportedContentTypes"] == ["text/csv"]
    assert production["MetadataProperties"]["CommitId"] == COMMIT
    meta = production["CustomerMetadataProperties"]
    assert meta["modelreg_sha256"] == mirrored.sha256["v1"]
    assert meta["modelreg_md5"] == digest and meta["modelreg_pr"] == "7" and meta["modelreg_approvers"] == "alice bob"
    assert meta["modelreg_registry_commit"] == mirrored.head and meta["modelreg_production_pr"] == "8"
    assert meta["modelreg_production_approvers"] == "carol" and meta["modelreg_stages"] == "production"
    assert found["v1.2.0"]["CustomerMetadataProperties"]["modelreg_stages"] == "staging"
    # approvals arrive last: nothing is Approved while an older package still is
    created = [params for op, params in writes(calls) if op == "CreateModelPackage"]
    assert [p["ModelApprovalStatus"] for p in created][-1] == "Approved"
    assert "churn v1.1.0: package" in out and "created (Approved" in out

    # the ranker ships as a reproducible model.tar.gz built from the verified bytes, beside the DVC objects
    ranker = packages(aws, f"{aws.prefix}ranker")["v1.0.0"]
    key = "store/sagemaker/ranker/v1.0.0/model.tar.gz"
    assert ranker["InferenceSpecification"]["Containers"][0]["ModelDataUrl"] == f"s3://{aws.registry}/{key}"
    body = aws.s3.get_object(Bucket=aws.registry, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(body)) as archive:
        assert archive.getnames() == ["model.onnx"]
        assert archive.extractfile("model.onnx").read() == mirrored.blobs["r0"]
    uploaded = aws.s3.head_object(Bucket=aws.registry, Key=key)["LastModified"]

    calls.clear()
    code, out, err = sync(cli, mirrored.root, "--json")
    assert code == 0, err
    assert writes(calls) == [] and json.loads(out)["writes"] == 0 and json.loads(out)["changes"] == []
    assert aws.s3.head_object(Bucket=aws.registry, Key=key)["LastModified"] == uploaded
    assert "Nothing to do" in aws.summary.read_text()


def test_a_status_changed_by_hand_is_set_back_and_reported(cli, aws, mirrored, calls):
    assert sync(cli, mirrored.root)[0] == 0
    group = f"{aws.prefix}churn"
    staged = packages(aws, group)["v1.2.0"]
    # someone approves the staging package in the console (AWS keeps the metadata on such an update)
    aws.sm.update_model_package(ModelPackageArn=staged["ModelPackageArn"], ModelApprovalStatus="Approved",
                                CustomerMetadataProperties=staged["CustomerMetadataProperties"])
    # and registers and approves a package of their own in the mirrored group
    aws.sm.create_model_package(ModelPackageGroupName=group, ModelApprovalStatus="Approved", InferenceSpecification={
        "Containers": [{"Image": "example.com/image:1", "ModelDataUrl": f"s3://{aws.artifacts}/x.tar.gz"}],
        "SupportedContentTypes": ["text/csv"], "SupportedResponseMIMETypes": ["text/csv"]})
    calls.clear()
    code, out, err = sync(cli, mirrored.root)
    assert code == 0, err
    number = staged["ModelPackageVersion"]
    assert f"changed in SageMaker: churn v1.2.0 (package {number}): Approved was set in SageMaker, not by the " \
           "registry; set back to PendingManualApproval" in out
    assert "package 4 was Approved in SageMaker but is not a registry version" in out
    assert "2 change(s) made in SageMaker outside the registry were set back" in out
    assert statuses(aws, group) == {"v1.0.0": "Rejected", "v1.1.0": "Approved", "v1.2.0": "PendingManualApproval",
                                    "#4": "PendingManualApproval"}
    assert len(writes(calls)) == 2
    summary = aws.summary.read_text()
    assert "changed in SageMaker, set back:" in summary and f"v1.2.0 (package {number})" in summary
    calls.clear()
    assert sync(cli, mirrored.root)[0] == 0 and writes(calls) == []


def test_promotion_and_rollback_flip_the_statuses(cli, aws, mirrored, calls):
    assert sync(cli, mirrored.root)[0] == 0
    group = f"{aws.prefix}churn"
    assert cli("promote", "churn", "v1.2.0", "--to", "production", "--reason", "better recall",
               cwd=mirrored.root)[0] == 0
    calls.clear()
    code, out, err = sync(cli, mirrored.root)
    assert code == 0, err
    assert statuses(aws, group) == {"v1.0.0": "Rejected", "v1.1.0": "PendingManualApproval", "v1.2.0": "Approved"}
    updates = [params for op, params in writes(calls) if op == "UpdateModelPackage"]
    assert [p["ModelApprovalStatus"] for p in updates] == ["PendingManualApproval", "Approved"]  # demotion first
    number = packages(aws, group)["v1.2.0"]["ModelPackageVersion"]
    assert f"churn v1.2.0 (package {number}): PendingManualApproval -> Approved" in out
    code, _, err = cli("rollback", "churn", "--reason", "recall dropped in production", cwd=mirrored.root)
    assert code == 0, err
    assert sync(cli, mirrored.root)[0] == 0
    assert statuses(aws, group) == {"v1.0.0": "Rejected", "v1.1.0": "Approved", "v1.2.0": "PendingManualApproval"}
    calls.clear()
    assert sync(cli, mirrored.root)[0] == 0 and writes(calls) == []


def test_the_endpoint_failing_mid_sync_leaves_a_rerun_able_to_finish(cli, aws, mirrored, calls):
    def fail_after_first_create(operation):
        if operation == "CreateModelPackage":
            aws.proxy.down()

    calls.after = fail_after_first_create
    code, out, err = sync(cli, mirrored.root)
    calls.after = None
    assert code == 1 and "Traceback" not in err, err
    assert "SageMaker" in err and "run `modelreg sagemaker sync` again to finish" in err
    group = f"{aws.prefix}churn"
    assert len(packages(aws, group)) == 1
    aws.proxy.up()
    code, _, err = sync(cli, mirrored.root)
    assert code == 0, err
    assert statuses(aws, group) == {"v1.0.0": "Rejected", "v1.1.0": "Approved", "v1.2.0": "PendingManualApproval"}
    assert statuses(aws, f"{aws.prefix}ranker") == {"v1.0.0": "Approved"}
    calls.clear()
    assert sync(cli, mirrored.root)[0] == 0 and writes(calls) == []


def model_tarball(files: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as zipped, tarfile.open(fileobj=zipped, mode="w") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return raw.getvalue()


def test_import_a_group_then_mirror_it_without_new_packages(cli, aws, tmp_path, calls):
    from modelreg.core import yamlread

    root = make_repo(tmp_path / "repo", aws)
    group = f"{aws.prefix}fraud"
    aws.sm.create_model_package_group(ModelPackageGroupName=group, ModelPackageGroupDescription="Flags fraud.")
    statuses_in_order = ("Rejected", "Approved", "PendingManualApproval")
    contents = {}
    for number, status in enumerate(statuses_in_order, start=1):
        contents[number] = {"model.joblib": os.urandom(1000 + number), "code/inference.py": b"def model_fn(d): ...\n"}
        key = f"fraud/{number}/model.tar.gz"
        aws.s3.put_object(Bucket=aws.artifacts, Key=key, Body=model_tarball(contents[number]))
        request = {"ModelPackageGroupName": group, "ModelApprovalStatus": status,
                   "ModelPackageDescription": f"training job {number}",
                   "InferenceSpecification": {"Containers": [{"Image": "example.com/xgb:1",
                                                              "ModelDataUrl": f"s3://{aws.artifacts}/{key}"}],
                                              "SupportedContentTypes": ["text/csv"],
                                              "SupportedResponseMIMETypes": ["text/csv"]}}
        if number == 2:
            report = {"version": 0.0, "binary_classification_metrics": {
                "auc": {"value": 0.91, "standard_deviation": 0.01}, "recall": {"value": 0.8},
                "confusion_matrix": {"0": {"0": 10, "1": 2}}}}
            aws.s3.put_object(Bucket=aws.artifacts, Key="fraud/2/statistics.json", Body=json.dumps(report).encode())
            request["ModelMetrics"] = {"ModelQuality": {"Statistics": {
                "ContentType": "application/json", "S3Uri": f"s3://{aws.artifacts}/fraud/2/statistics.json"}}}
            request["MetadataProperties"] = {"CommitId": COMMIT}
        aws.sm.create_model_package(**request)

    code, out, err = cli("import-sagemaker", group, "--as", "fraud", cwd=root)
    assert code == 0, err
    assert f"imported {group} package 2 as fraud v2.0.0" in out
    registry = root / "models" / "registry.yaml"
    data = yamlread.load(registry.read_text(), "r")[0]
    model = data["models"]["fraud"]
    assert model["description"] == "Flags fraud." and model["path"] == "models/fraud"
    assert model["format"] == "directory"
    assert model["stages"] == {"production": "v2.0.0"}
    assert model["history"][0]["reason"] == f"imported from SageMaker: package 2 of {group} was the newest " \
                                            "Approved package"
    v1, v2, v3 = (model["versions"][f"v{n}.0.0"] for n in (1, 2, 3))
    assert v1["archived"] == f"Rejected in SageMaker (package 1 of {group})" and "archived" not in v3
    assert v2["metrics"] == {"auc": 0.91, "recall": 0.8} and v2["commit"] == COMMIT
    assert all(len(v["sha256"]) == 64 for v in (v1, v2, v3))
    assert v2["notes"].startswith("Imported from SageMaker model package arn:aws:sagemaker:")
    assert v2["notes"].endswith("training job 2")
    assert (root / "models" / "fraud" / "code" / "inference.py").is_file()  # the last one imported is in place
    for version in (v1, v2, v3):  # every version's bytes are in the candidates remote
        listed = aws.s3.list_objects_v2(Bucket=aws.candidates, Prefix=f"store/files/md5/{version['md5'][:2]}/")
        assert listed.get("KeyCount", 0) > 0 and version["md5"].endswith(".dir")
    assert cli("validate", cwd=root)[0] == 0

    before = registry.read_bytes()
    code, out, err = cli("import-sagemaker", group, "--as", "fraud", cwd=root)
    assert code == 0, err
    assert "already registered as fraud v1.0.0" in out and "nothing to import" in out
    assert registry.read_bytes() == before

    # mirroring it afterwards adopts the imported packages: no new package, the statuses already agree
    (root / "models" / "sagemaker.yaml").write_text(
        f"models:\n  fraud:\n    group: {group}\n    image: example.com/xgb:1\n    content_types: [text/csv]\n")
    calls.clear()
    code, out, err = cli("sagemaker", "sync", cwd=root)
    assert code == 0, err
    assert {op for op, _ in writes(calls)} == {"UpdateModelPackage"} and len(writes(calls)) == 3
    assert statuses(aws, group) == {"v1.0.0": "Rejected", "v2.0.0": "Approved", "v3.0.0": "PendingManualApproval"}
    calls.clear()
    assert cli("sagemaker", "sync", cwd=root)[0] == 0 and writes(calls) == []


def test_settings_are_checked_before_any_call():
    from modelreg.adapters.sagemaker import parse_settings
    from modelreg.core.problems import ModelregError

    settings = parse_settings({"group_prefix": "acme-", "defaults": {"image": "img:1", "content_types": "text/csv"},
                               "models": {"churn": None, "fraud": {"group": "fraud-prod", "tarball": True}}}, "f")
    assert settings.models["churn"].group == "acme-churn" and settings.models["churn"].response_types == ("text/csv",)
    assert settings.model_of_group("fraud-prod") == "fraud" and settings.models["fraud"].tarball
    for wrong, message in (({"models": {"m": {"content_types": ["a/b"]}}}, "image"),
                           ({"models": {"m": {"image": "i", "content_types": []}}}, "content_types"),
                           ({"models": {"m": {"image": "i", "content_types": ["a/b"], "imgae": 1}}}, "imgae"),
                           ({"models": {"m": {"image": "i", "content_types": ["a/b"], "group": "a_b"}}}, "group"),
                           ({"modles": {}}, "modles")):
        with pytest.raises(ModelregError, match=message):
            parse_settings(wrong, "f")


def test_metrics_from_a_model_quality_report():
    from modelreg.flows.import_sagemaker import metrics_from_report

    report = {"version": 0.0, "regression_metrics": {"mae": {"value": 1.5, "standard_deviation": 0.1},
                                                     "r2": {"value": 0.7}, "bad name!": {"value": 1}},
              "accuracy": 0.9, "flag": True, "nan": float("nan")}
    assert metrics_from_report(report) == {"mae": 1.5, "r2": 0.7, "accuracy": 0.9}
    assert metrics_from_report([1, 2]) == {}


def test_metadata_values_fit_sagemakers_alphabet():
    from modelreg.flows.sagemaker_sync import metadata_value

    assert metadata_value("alice, @acme/ml-leads (lead)") == "alice_ @acme/ml-leads _lead_"
    assert len(metadata_value("x" * 300)) == 256
