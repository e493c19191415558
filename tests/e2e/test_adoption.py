"""Adopting modelreg in a GTO user's multi-stage DVC project: init, import-gto, register, promote, pull, gto show.

The project (adoption_project.py) is built once per session with real DVC and the real `gto` CLI:
prepare -> featurize -> train -> evaluate, a dataset artifact and a model artifact, versions,
stage assignments (two versions in GTO's prod at once) and a deprecation made by two people.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import dvc as _dvc  # noqa: F401  imported here, not first inside a command: its colorama.init() keeps the real stdout
import pytest
import yaml

from adoption_project import build, dvc, set_param
from conftest import copy_env, git, run

pytestmark = pytest.mark.slow
ARTIFACT = "models/clf/model.skops"


@pytest.fixture(scope="session")
def adoption_base(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("adoption")
    build(base)
    return base


@pytest.fixture
def project(adoption_base, tmp_path) -> Path:
    return copy_env(adoption_base, tmp_path / "env")


def gto_show(root: Path) -> dict:
    return json.loads(run([str(Path(sys.executable).parent / "gto"), "show", "--json"], root).stdout)


def registry(root: Path) -> dict:
    from modelreg.core import yamlread

    return yamlread.load((root / "models" / "registry.yaml").read_text(), "registry.yaml")[0]


def tag_date(root: Path, tag: str) -> str:
    return git("for-each-ref", f"refs/tags/{tag}", "--format=%(taggerdate:format-local:%Y-%m-%dT%H:%M:%SZ)",
               cwd=root).strip()


def test_a_gto_project_adopts_modelreg(project, cli, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    before = gto_show(project)
    assert before["clf"]["stage"] == {"prod": "v1.1.0", "staging": "v1.1.0"}

    # init reads the project: the model (not the dataset), its evaluation's metrics, and GTO's tags
    code, out, err = cli("init", "--owner", "alice", "--metric", "roc_auc", cwd=project)
    assert code == 0, err
    assert "skipped dvc.yaml artifact 'features' (type: dataset)" in out
    assert "clf: primary metric roc_auc (max), from stage evaluate (metrics/clf.json)" in out
    assert "GTO tag(s) for clf, features" in out and "modelreg import-gto --stage prod=production" in out
    text = (project / "models" / "registry.yaml").read_text()
    assert "    # gates:\n    #   staging: {roc_auc: {min: " in text and "signature: compatible}" in text
    assert list(registry(project)["models"]) == ["clf"]
    git("add", "-A", cwd=project)
    git("commit", "-qm", "adopt modelreg", cwd=project)

    # import-gto: an unmapped GTO stage is refused before anything is read
    code, _, err = cli("import-gto", cwd=project)
    assert code == 1 and "stage(s) prod that the registry does not configure" in err
    code, out, err = cli("import-gto", "--stage", "prod=production", "--commit", cwd=project)
    assert code == 0, err
    assert "skipped GTO artifact features: type dataset" in err
    model = registry(project)["models"]["clf"]
    assert model["stages"] == {"production": "v1.1.0", "staging": "v1.1.0"}  # what gto show says
    v1, v2 = model["versions"]["v1.0.0"], model["versions"]["v1.1.0"]
    assert v1["archived"].startswith("GTO tag clf@v1.0.0!: deregistered by bob at ")
    for name, record in (("v1.0.0", v1), ("v1.1.0", v2)):
        tagged = git("rev-list", "-n1", f"clf@{name}", cwd=project).strip()
        lock = yaml.safe_load(git("show", f"{tagged}:dvc.lock", cwd=project))
        out_record = next(o for o in lock["stages"]["train"]["outs"] if o["path"] == ARTIFACT)
        assert (record["md5"], record["size"], record["commit"]) == (out_record["md5"], out_record["size"], tagged)
        assert record["author"] == "alice" and record["created"] == tag_date(project, f"clf@{name}")
        assert record["metrics"] == json.loads(git("show", f"{tagged}:metrics/clf.json", cwd=project))
        # lineage over the whole pipeline: every upstream stage's params, direct data and the source input
        assert set(record["params"]) == {"prepare", "featurize", "train"}
        assert record["data"]["path"] == "data/features"
        raw = yaml.safe_load(git("show", f"{tagged}:data/raw.csv.dvc", cwd=project))["outs"][0]["md5"]
        assert record["data"]["sources"] == [{"path": "data/raw.csv", "md5": raw}]
    assert v1["params"]["train"] == {"C": 1.0} and v2["params"]["train"] == {"C": 0.05}
    # sha256 of the bytes: v1.1.0 from the workspace, v1.0.0 fetched by md5 from the registry remote
    assert v2["sha256"] == hashlib.sha256((project / ARTIFACT).read_bytes()).hexdigest()
    assert len(v1["sha256"]) == 64 and v1["sha256"] != v2["sha256"]
    history = model["history"]
    assert [(h["stage"], h["version"], h["previous"], h["by"]) for h in history] == [
        ("production", "v1.0.0", None, "alice"), ("staging", "v1.1.0", None, "bob"),
        ("production", "v1.1.0", "v1.0.0", "bob")]
    assert history[0]["at"] == tag_date(project, "clf#prod#1")
    assert "GTO also keeps v1.0.0 in prod" in history[2]["reason"]
    assert "better on the holdout" in history[2]["reason"]

    # idempotent, and GTO reads the same registry as before
    imported = (project / "models" / "registry.yaml").read_bytes()
    code, out, _ = cli("import-gto", "--stage", "prod=production", cwd=project)
    assert code == 0 and "nothing to import" in out
    assert (project / "models" / "registry.yaml").read_bytes() == imported
    assert gto_show(project) == before
    assert cli("validate", cwd=project)[0] == 0

    # the imported production version pulls by md5 from the registry remote, verified
    code, out, err = cli("pull", "clf@production", "-o", str(project.parent / "prod.skops"), cwd=project)
    assert code == 0, err
    assert hashlib.md5((project.parent / "prod.skops").read_bytes()).hexdigest() == v2["md5"]

    # modelreg from here on: register (lineage, signature), promote, compare
    set_param(project, "square: false", "square: true")
    git("commit", "-qam", "squared features", cwd=project)
    dvc(project, "repro", "-q")
    git("add", "-A", cwd=project)
    git("commit", "-qm", "train", cwd=project)
    code, out, err = cli("register", "clf", "--stage", "staging", cwd=project)
    assert code == 2 and "--reason is required with --stage staging" in err
    code, out, err = cli("register", "clf", "--notes", "squared features", "--commit", cwd=project)
    assert code == 0, err
    assert "registered clf v1.2.0" in out and "input signature: 6 features (x1, x2, x3, x1_sq, …)" in out
    assert "warning" not in err
    v3 = registry(project)["models"]["clf"]["versions"]["v1.2.0"]
    assert v3["signature"] == {"features": 6, "names": ["x1", "x2", "x3", "x1_sq", "x2_sq", "x3_sq"]}
    assert v3["params"]["featurize"] == {"square": True} and v3["data"]["sources"][0]["path"] == "data/raw.csv"
    for stage in ("staging", "production"):
        code, _, err = cli("promote", "clf", "v1.2.0", "--to", stage, "--reason", "squared features win",
                           "--commit", cwd=project)
        assert code == 0, err
    code, out, _ = cli("compare", "clf", "--format", "markdown", cwd=project)
    assert code == 0 and "| inputs |" in out

    # the release copies v1.2.0 to the registry remote and tags it; then pull and gto show see it
    code, out, err = cli("ci", "release", "--no-push", cwd=project)
    assert code == 0, err
    code, _, err = cli("pull", "clf@production", "-o", str(project.parent / "new.skops"), cwd=project)
    assert code == 0, err
    assert hashlib.md5((project.parent / "new.skops").read_bytes()).hexdigest() == v3["md5"]
    after = gto_show(project)["clf"]
    assert after["stage"]["production"] == "v1.2.0"  # GTO's own "prod" tags stay: tags are never deleted
