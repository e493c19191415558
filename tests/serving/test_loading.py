"""Loads that cannot surprise: the registry's recorded format decides how bytes are loaded, and pickle or
joblib load only when the caller opts in (allow_pickle=True, --allow-pickle), in the Python API,
load_verified, the server's loader and the deploy job."""

from __future__ import annotations

import io
import pickle
from pathlib import Path

import pytest
from conftest import SAMPLE

MODEL = "churn-classifier"
REFUSAL = ("loading pickle runs code from the file; pass allow_pickle=True / --allow-pickle if you trust every "
           "version that can reach this stage")


class Trap:
    """Unpickling this creates a file: proof that loading ran code from the artifact."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.fixture
def trap(tmp_path):
    marker = tmp_path / "code-ran"
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(Trap(marker)))
    return path, marker


@pytest.fixture
def skops_model(tmp_path):
    import skops.io
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
    path = tmp_path / "model.skops"
    skops.io.dump(model, path)
    return path


@pytest.mark.parametrize("fmt", ["pickle", "joblib", None])
def test_load_verified_refuses_pickle_without_opt_in(trap, fmt):
    from modelreg.core.problems import ModelregError
    from modelreg.flows.artifacts import load_verified

    path, marker = trap
    with pytest.raises(ModelregError) as refused:
        load_verified(path, fmt)  # None: no format recorded, the .pkl suffix says pickle
    assert REFUSAL in refused.value.problems[0].message and not marker.exists()


def test_load_verified_loads_pickle_and_joblib_with_opt_in(tmp_path):
    import joblib
    from modelreg.flows.artifacts import load_verified

    pickled, dumped = tmp_path / "a.pkl", tmp_path / "b.joblib"
    pickled.write_bytes(pickle.dumps({"weights": [1, 2]}))
    joblib.dump({"weights": [3]}, dumped)
    assert load_verified(pickled, "pickle", allow_pickle=True) == {"weights": [1, 2]}
    assert load_verified(dumped, "joblib", allow_pickle=True) == {"weights": [3]}


def test_the_registry_format_is_followed_not_the_suffix(trap, skops_model, tmp_path):
    from modelreg.core.problems import ModelregError
    from modelreg.flows.artifacts import load_verified

    path, marker = trap
    disguised = tmp_path / "model.skops.onnx"  # a pickle under a harmless suffix, recorded as pickle
    disguised.write_bytes(path.read_bytes())
    with pytest.raises(ModelregError, match="allow_pickle=True"):
        load_verified(disguised, "pickle")
    renamed = tmp_path / "renamed.pkl"  # a skops file under a pickle suffix, recorded as skops
    renamed.write_bytes(skops_model.read_bytes())
    assert load_verified(renamed, "skops").predict([[3.0]]).tolist() == [1]
    with pytest.raises(Exception):  # noqa: B017 - whatever skops says about a file that is not one
        load_verified(path, "skops")  # a pickle recorded as skops is read as skops: it fails, nothing runs
    assert not marker.exists()
    with pytest.raises(ModelregError, match="not one modelreg loads"):
        load_verified(path, "Pickle")  # an unknown format is refused, not guessed
    assert load_verified(path, "onnx") == path  # handed back for the caller's runtime


def test_skops_is_unaffected(skops_model):
    from modelreg.flows.artifacts import load_verified

    assert load_verified(skops_model, "skops").predict([[0.0], [3.0]]).tolist() == [0, 1]
    assert load_verified(skops_model, None).predict([[3.0]]).tolist() == [1]


def test_modelreg_load_refuses_a_pickle_version_before_fetching_it(registry_file, monkeypatch, trap, skops_model):
    import modelreg
    from modelreg.flows import artifacts

    fetched = []
    monkeypatch.setattr(artifacts, "cached_artifact", lambda root, answer, remote="registry":
                        fetched.append(answer.version) or (skops_model if answer.format == "skops" else trap[0]))
    with pytest.raises(artifacts.ModelregError, match="allow_pickle=True / --allow-pickle"):
        modelreg.load(MODEL, registry=str(registry_file))  # the sample records format: pickle
    assert fetched == []
    with pytest.raises(artifacts.ModelregError):
        modelreg.load(MODEL, version="v1.3.0", registry=str(registry_file))
    assert fetched == []
    # the version's record decides over the model's
    registry_file.write_text(SAMPLE.replace("        md5: 7d793037a0760186574b0282f2f435e7\n",
                                            "        md5: 7d793037a0760186574b0282f2f435e7\n        format: skops\n"))
    assert modelreg.load(MODEL, registry=str(registry_file)).predict([[3.0]]).tolist() == [1]
    assert fetched == ["v1.2.0"]
    with pytest.raises(artifacts.ModelregError):
        modelreg.load(MODEL, version="v1.3.0", registry=str(registry_file))
    assert not trap[1].exists()
    loaded = modelreg.load(MODEL, version="v1.3.0", registry=str(registry_file), allow_pickle=True)
    assert isinstance(loaded, io.TextIOWrapper) and trap[1].exists()  # opted in: the trap ran
    loaded.close()


def test_the_servers_loader_refuses_pickle_unless_allowed(registry_file, monkeypatch, tmp_path):
    from modelreg.flows import artifacts
    from modelreg.serving.models import ModelTable, artifact_loader

    model = tmp_path / "served.pkl"
    model.write_bytes(pickle.dumps({"a": 1}))
    monkeypatch.setattr(artifacts, "cached_artifact", lambda root, answer, remote="registry": model)
    table = ModelTable([MODEL], "production", "registry.yaml", artifact_loader(tmp_path, "registry"))
    assert table.update(SAMPLE) == [] and table.get(MODEL) is None
    assert REFUSAL in table.status[MODEL].last_error
    table = ModelTable([MODEL], "production", "registry.yaml", artifact_loader(tmp_path, "registry",
                                                                              allow_pickle=True))
    assert table.update(SAMPLE) == [f"{MODEL} - -> v1.2.0"] and table.get(MODEL).model == {"a": 1}


def test_deploy_refuses_pickle_unless_allowed(registry_file, monkeypatch, cli):
    from modelreg.flows import deploy

    pulled = []

    def pull(answer, target, **kwargs):
        pulled.append(answer.version)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(pickle.dumps({"a": 1}))
        return target

    monkeypatch.setattr(deploy, "pull", pull)
    root = registry_file.parent.parent
    code, out, err = cli("deploy", "--model", MODEL, cwd=root)
    assert code == 1 and REFUSAL in err and pulled == []
    code, out, err = cli("deploy", "--model", MODEL, "--allow-pickle", cwd=root)
    assert code == 0 and f"deployed {MODEL} v1.2.0" in out and pulled == ["v1.2.0"]


def test_the_cache_is_reverified_with_the_recorded_sha256(monkeypatch, tmp_path):
    import hashlib

    from modelreg.adapters import dvc
    from modelreg.core.lookup import Resolved
    from modelreg.flows.artifacts import cached_artifact

    data = b"model bytes"
    md5, sha256 = hashlib.md5(data).hexdigest(), hashlib.sha256(data).hexdigest()
    cached = tmp_path / ".modelreg-cache" / "artifacts" / md5 / "model.skops"  # MODELREG_CACHE (conftest)
    cached.parent.mkdir(parents=True)
    cached.write_bytes(data)
    pulls = []
    monkeypatch.setattr(dvc, "pull", lambda root, md5, target, **kwargs: pulls.append(kwargs) or target)

    def answer(recorded):
        return Resolved(MODEL, "v1.0.0", md5, len(data), "models/m/model.skops", "skops", (), recorded)

    assert cached_artifact(tmp_path, answer(sha256)) == cached and pulls == []  # both digests match: used
    assert cached_artifact(tmp_path, answer(None)) == cached and pulls == []  # no sha256 recorded: md5 alone
    cached_artifact(tmp_path, answer("0" * 64))  # md5 matches, sha256 does not: fetched and verified again
    assert pulls == [{"remote": "registry", "size": len(data), "sha256": "0" * 64}]
