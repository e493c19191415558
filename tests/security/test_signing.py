"""Signed releases, verified before loading: key pairs stand in for keyless signing (offline)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from modelreg.adapters import dvc
from modelreg.core.problems import ModelregError
from modelreg.flows import signing

pytestmark = pytest.mark.slow
MODEL = "churn-classifier"


def key_pair(folder: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    private, public = folder / f"{name}.pem", folder / f"{name}.pub"
    private.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private, public


@pytest.fixture
def released(trained_repo, tmp_path):
    """v1.0.0 copied to the registry remote; the release key's public half committed in the repository."""
    repo = trained_repo
    private, public = key_pair(tmp_path, "release")
    (repo / ".github").mkdir(exist_ok=True)
    (repo / ".github" / "modelreg-signing.pub").write_bytes(public.read_bytes())
    version = yaml.safe_load((repo / "models" / "registry.yaml").read_text())["models"][MODEL]["versions"]["v1.0.0"]
    assert dvc.copy(repo, version["md5"], "candidates", "registry", sha256=version["sha256"])
    settings = {"require_signature": ["production"], "signing": {"public_key": ".github/modelreg-signing.pub"}}
    return repo, private, version, settings


def pulled(repo: Path, version: dict, tmp_path: Path) -> Path:
    return dvc.pull(repo, version["md5"], tmp_path / "model.skops", remote="registry", sha256=version["sha256"])


def test_a_release_signature_verifies_and_names_the_signer(released, tmp_path):
    repo, private, version, settings = released
    result = subprocess.run([sys.executable, "-m", "modelreg", "sign", MODEL, "v1.0.0", "--key", str(private)],
                            cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "signed churn-classifier v1.0.0" in result.stdout
    signer = signing.verify(repo, pulled(repo, version, tmp_path), version["md5"], settings)
    assert signer == "the key .github/modelreg-signing.pub"
    again = subprocess.run([sys.executable, "-m", "modelreg", "sign", "--released", "--key", str(private)],
                           cwd=repo, capture_output=True, text=True)
    assert again.returncode == 0 and "every released artifact is signed" in again.stdout


def test_a_signature_from_another_key_is_refused(released, tmp_path):
    repo, _, version, settings = released
    other, _ = key_pair(tmp_path, "mallory")
    signing.sign(repo, version["md5"], version["sha256"], version["size"], private_key=other)
    with pytest.raises(ModelregError, match="does not verify against the key"):
        signing.verify(repo, pulled(repo, version, tmp_path), version["md5"], settings)


def test_a_tampered_bundle_is_refused(released, tmp_path):
    repo, private, version, settings = released
    signing.sign(repo, version["md5"], version["sha256"], version["size"], private_key=private)
    bundle = dvc.get_side_file(repo, "registry", signing.bundle_name(version["md5"]))
    forged = bundle.replace(b'"sig":"ME', b'"sig":"MF', 1)
    assert forged != bundle
    dvc.put_side_file(repo, "registry", signing.bundle_name(version["md5"]), forged)
    with pytest.raises(ModelregError, match="does not verify"):
        signing.verify(repo, pulled(repo, version, tmp_path), version["md5"], settings)


def test_a_missing_bundle_is_refused(released, tmp_path):
    repo, _, version, settings = released
    with pytest.raises(ModelregError, match="has no release signature"):
        signing.verify(repo, pulled(repo, version, tmp_path), version["md5"], settings)


def test_a_signature_does_not_cover_other_bytes(released, tmp_path):
    repo, private, version, settings = released
    signing.sign(repo, version["md5"], version["sha256"], version["size"], private_key=private)
    other = tmp_path / "other.skops"
    other.write_bytes(pulled(repo, version, tmp_path).read_bytes() + b"\0")
    with pytest.raises(ModelregError, match="does not verify"):
        signing.verify(repo, other, version["md5"], settings)


def test_signing_is_required_only_for_the_configured_stages():
    settings = {"require_signature": ["production"]}
    assert signing.required(settings, ("production",)) and not signing.required(settings, ("staging",))
    assert not signing.required({}, ("production",))


def test_pull_and_load_verify_the_signature_where_the_stage_requires_it(released, tmp_path):
    repo, private, version, _ = released
    path = repo / "models" / "registry.yaml"
    text = path.read_text().replace("schema: 1\n", "schema: 1\nsettings:\n  require_signature: [production]\n"
                                    "  signing: {public_key: .github/modelreg-signing.pub}\n", 1)
    path.write_text(text)
    subprocess.run([sys.executable, "-m", "modelreg", "promote", MODEL, "v1.0.0", "--to", "production", "--reason",
                    "ship", "--by", "alice"], cwd=repo, check=True, capture_output=True)

    def pull() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "modelreg", "pull", f"{MODEL}@production", "-o",
                               str(tmp_path / "out.skops")], cwd=repo, capture_output=True, text=True)

    refused = pull()
    assert refused.returncode == 1 and "has no release signature" in refused.stderr
    subprocess.run([sys.executable, "-m", "modelreg", "sign", MODEL, "v1.0.0", "--key", str(private)], cwd=repo,
                   check=True, capture_output=True)
    assert pull().returncode == 0
    env = {**__import__("os").environ, "MODELREG_CACHE": str(tmp_path / "cache")}
    loaded = subprocess.run([sys.executable, "-c", "import modelreg; print(type(modelreg.load('churn-classifier')))"],
                            cwd=repo, capture_output=True, text=True, env=env)
    assert loaded.returncode == 0 and "RandomForest" in loaded.stdout, loaded.stderr


def test_the_release_signs_new_versions_and_names_the_bundle_in_the_tag(trained_repo, tmp_path):
    import hashlib
    import json

    repo = trained_repo
    private, _ = key_pair(tmp_path, "release")
    result = subprocess.run([sys.executable, "-m", "modelreg", "ci", "release", "--no-push", "--sign", "--key",
                             str(private)], cwd=repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    message = json.loads(subprocess.run(["git", "tag", "-l", "--format=%(contents)", f"{MODEL}@v1.0.0"], cwd=repo,
                                        capture_output=True, text=True, check=True).stdout)
    version = yaml.safe_load((repo / "models" / "registry.yaml").read_text())["models"][MODEL]["versions"]["v1.0.0"]
    bundle = dvc.get_side_file(repo, "registry", signing.bundle_name(version["md5"]))
    assert message["signature_sha256"] == hashlib.sha256(bundle).hexdigest()
