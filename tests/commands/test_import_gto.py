"""modelreg import-gto on repositories whose GTO tags are made with `git tag -a` (fast, dated to the second).

tests/e2e/test_adoption.py runs the same import on tags made by the real `gto` CLI, and reads
the result back with `gto show`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import dvc as _dvc  # noqa: F401  imported here, not first inside a command: its colorama.init() keeps the real stdout
import pytest
import yaml

from modelreg.flows import import_gto
from modelreg.flows.import_gto import GtoTag, replay

from conftest import git, init_git

T0 = 1_700_000_000
DVC_YAML = """\
stages:
  train:
    cmd: python src/train.py
    deps: [src/train.py, data/train.csv]
    params: [train]
    outs: [models/clf.onnx]
  evaluate:
    cmd: python src/evaluate.py
    deps: [src/evaluate.py, models/clf.onnx]
    metrics: [metrics.json]
artifacts:
  clf: {path: models/clf.onnx, type: model, desc: Classifies.}
  ds: {path: data/train.csv, type: dataset}
"""


DEFAULT = {"register": "Registering artifact clf version", "deregister": "Deregistering artifact clf version",
           "assign": "Assigning stage to artifact clf", "unassign": "Unassigning stage 'prod' to artifact 'clf'",
           "deprecate": "Deprecating artifact 'clf'", "create": "Creating artifact clf"}  # as GTO writes them


class Repo:
    """A repository as DVC leaves it after each training run, without running DVC: dvc.lock, the
    artifact in the workspace, its bytes in a local remote; GTO's tags made by git."""

    def __init__(self, base: Path):
        self.root = base / "repo"
        self.remote = base / "remote"
        self.root.mkdir(parents=True)
        init_git(self.root)
        (self.root / ".dvc").mkdir()
        (self.root / ".dvc" / "config").write_text(
            f"[core]\n    remote = registry\n['remote \"registry\"']\n    url = {self.remote}\n")
        self.write("dvc.yaml", DVC_YAML)
        self.write("src/train.py", "print('train')\n")
        self.write("src/evaluate.py", "print('evaluate')\n")
        self.write("data/train.csv.dvc", f"outs:\n- md5: {'a' * 32}\n  size: 10\n  path: train.csv\n")
        self.write("models/registry.yaml", "schema: 1\nmodels: {}\n")
        git("add", "-A", cwd=self.root)
        git("commit", "-qm", "pipeline", cwd=self.root)

    def write(self, relative: str, text: str) -> None:
        (self.root / relative).parent.mkdir(parents=True, exist_ok=True)
        (self.root / relative).write_text(text)

    def train(self, content: bytes, auc: float, c: float) -> str:
        """A training run: the model's bytes, dvc.lock, metrics, params; committed. Returns the commit."""
        md5 = hashlib.md5(content).hexdigest()
        (self.root / "models").mkdir(exist_ok=True)
        (self.root / "models" / "clf.onnx").write_bytes(content)
        obj = self.remote / "files" / "md5" / md5[:2] / md5[2:]
        obj.parent.mkdir(parents=True, exist_ok=True)
        obj.write_bytes(content)
        self.write("params.yaml", f"train:\n  C: {c}\n")
        self.write("metrics.json", f'{{"auc": {auc}}}\n')
        self.write("dvc.lock", yaml.safe_dump({"schema": "2.0", "stages": {"train": {
            "cmd": "python src/train.py",
            "deps": [{"path": "data/train.csv", "md5": "a" * 32}, {"path": "src/train.py", "md5": "b" * 32}],
            "params": {"params.yaml": {"train": {"C": c}}},
            "outs": [{"path": "models/clf.onnx", "md5": md5, "size": len(content)}]}}}))
        git("add", "-A", ":!models/clf.onnx", cwd=self.root)
        git("commit", "-qm", f"train C={c}", cwd=self.root)
        return git("rev-parse", "HEAD", cwd=self.root).strip()

    def tag(self, name: str, commit: str, at: int, by: str = "alice", message: str = "") -> None:
        env = {**os.environ, "GIT_COMMITTER_DATE": f"@{T0 + at} +0000", "GIT_COMMITTER_NAME": by,
               "GIT_COMMITTER_EMAIL": f"{by}@example.com"}
        subprocess.run(["git", "tag", "-a", name, "-m", message or DEFAULT[import_gto.parse(name)["action"]], commit],
                       cwd=self.root, env=env, check=True, capture_output=True)

    def registry(self) -> dict:
        from modelreg.core import yamlread

        return yamlread.load((self.root / "models" / "registry.yaml").read_text(), "registry.yaml")[0]


def at(seconds: int) -> str:
    from datetime import datetime, timezone

    return datetime.fromtimestamp(T0 + seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def repo(tmp_path) -> Repo:
    return Repo(tmp_path)


def test_versions_stage_history_and_deregistration(repo, cli):
    c1 = repo.train(b"model one", 0.81, 1.0)
    c2 = repo.train(b"model two", 0.84, 0.5)
    repo.tag("clf@v1.0.0", c1, 0, message="Registering artifact clf version v1.0.0")
    repo.tag("ds@v1.0.0", c1, 1)
    repo.tag("clf#prod#1", c1, 10, message="Assigning stage prod to artifact clf version v1.0.0")
    repo.tag("clf@v1.1.0", c2, 20, message="second try")
    repo.tag("clf#prod#2", c2, 30, by="bob", message="better")
    repo.tag("clf#prod!#3", c2, 40, by="bob")
    repo.tag("clf@v1.1.0!", c2, 50, by="carol")
    repo.tag("clf#staging#4", c1, 60)
    git("tag", "clf@v9.9.9", c1, cwd=repo.root)  # lightweight: GTO ignores it
    repo.tag("clf#prod#5", c1, 70, message='{"modelreg": 1, "model": "clf"}')  # modelreg's own: skipped

    code, out, err = cli("import-gto", "--stage", "prod=production", cwd=repo.root)
    assert code == 0, err
    assert "tag clf@v9.9.9 is a lightweight tag" in err and "skipped GTO artifact ds: type dataset" in err
    model = repo.registry()["models"]["clf"]
    assert model["description"] == "Classifies." and model["path"] == "models/clf.onnx"
    assert model["stages"] == {"production": "v1.0.0", "staging": "v1.0.0"}
    v1, v2 = model["versions"]["v1.0.0"], model["versions"]["v1.1.0"]
    assert v1 == {"md5": hashlib.md5(b"model one").hexdigest(), "sha256": hashlib.sha256(b"model one").hexdigest(),
                  "size": 9, "format": "onnx", "commit": c1, "created": at(0), "author": "alice",
                  "metrics": {"auc": 0.81}, "params": {"train": {"C": 1.0}},
                  "data": {"path": "data/train.csv", "md5": "a" * 32}}
    assert v2["sha256"] == hashlib.sha256(b"model two").hexdigest() and v2["notes"] == "second try"
    assert v2["archived"] == f"GTO tag clf@v1.1.0!: deregistered by carol at {at(50)}"
    assert [(h["at"], h["by"], h["stage"], h["version"], h["previous"]) for h in model["history"]] == [
        (at(10), "alice", "production", "v1.0.0", None),
        (at(30), "bob", "production", "v1.1.0", "v1.0.0"),
        (at(40), "bob", "production", "v1.0.0", "v1.1.0"),
        (at(60), "alice", "staging", "v1.0.0", None)]
    reasons = [h["reason"] for h in model["history"]]
    assert reasons[0] == "GTO tag clf#prod#1: prod assigned to v1.0.0"
    assert reasons[1] == ("GTO tag clf#prod#2: prod assigned to v1.1.0; GTO also keeps v1.0.0 in prod, modelreg "
                          "keeps one version per stage: the newest assignment (tag message: better)")
    assert reasons[2] == ("GTO tag clf#prod!#3: prod unassigned; GTO's newest assignment of production still in "
                          "effect is v1.0.0, so v1.0.0 holds it again")
    assert cli("validate", cwd=repo.root)[0] == 0

    # a rerun changes nothing; a new GTO tag is imported on its own
    before = (repo.root / "models" / "registry.yaml").read_bytes()
    code, out, _ = cli("import-gto", "--stage", "prod=production", cwd=repo.root)
    assert code == 0 and "nothing to import" in out
    assert (repo.root / "models" / "registry.yaml").read_bytes() == before
    repo.tag("clf#staging!#6", c1, 80, by="dave")
    code, out, err = cli("import-gto", "--stage", "prod=production", "--commit", cwd=repo.root)
    assert code == 0, err
    assert out.splitlines()[0] == f"clf: staging -> nothing (tag clf#staging!#6, by dave at {at(80)})"
    model = repo.registry()["models"]["clf"]
    assert "staging" not in model["stages"] and len(model["history"]) == 5
    assert model["history"][-1]["reason"] == "GTO tag clf#staging!#6: staging unassigned; no version is left in " \
                                             "staging"
    assert git("log", "-1", "--format=%s", cwd=repo.root).strip() == "Import models from GTO tags"


def test_same_bytes_twice_a_left_out_stage_and_a_deprecated_artifact(repo, cli):
    c1 = repo.train(b"only model", 0.8, 1.0)
    repo.write("README.md", "docs only\n")
    git("add", "README.md", cwd=repo.root)
    git("commit", "-qm", "docs", cwd=repo.root)
    c2 = git("rev-parse", "HEAD", cwd=repo.root).strip()
    repo.tag("clf@v1.0.0", c1, 0)
    repo.tag("clf@v1.0.1", c2, 10)  # GTO registers commits; the artifact did not change
    repo.tag("clf#dev#1", c2, 20)
    repo.tag("clf#production#2", c2, 30)
    code, _, err = cli("import-gto", cwd=repo.root)
    assert code == 1 and "stage(s) dev that the registry does not configure" in err and "--stage dev=" in err
    code, out, err = cli("import-gto", "--stage", "dev=", cwd=repo.root)
    assert code == 0, err
    assert "clf v1.0.1 (tag clf@v1.0.1) is the same artifact" in err
    model = repo.registry()["models"]["clf"]
    assert list(model["versions"]) == ["v1.0.0"] and model["stages"] == {"production": "v1.0.0"}
    assert model["history"][0]["reason"] == "GTO tag clf#production#2: production assigned to v1.0.1 " \
                                            "(modelreg's v1.0.0)"
    repo.tag("clf@deprecated", c1, 40, by="erin")
    code, out, err = cli("import-gto", "--stage", "dev=", cwd=repo.root)
    assert code == 0, err
    model = repo.registry()["models"]["clf"]
    assert model["stages"] == {} and model["history"][-1]["version"] is None
    assert model["history"][-1]["reason"] == "GTO tag clf@deprecated: the artifact deprecated; no version is " \
                                             "left in production"
    assert model["versions"]["v1.0.0"]["archived"] == f"GTO tag clf@deprecated: deprecated (the whole artifact) " \
                                                      f"by erin at {at(40)}"
    assert cli("validate", cwd=repo.root)[0] == 0


def test_bytes_that_cannot_be_hashed_refuse_the_import(repo, cli):
    c1 = repo.train(b"lost model", 0.8, 1.0)
    repo.train(b"current model", 0.9, 2.0)
    md5 = hashlib.md5(b"lost model").hexdigest()
    (repo.remote / "files" / "md5" / md5[:2] / md5[2:]).unlink()
    repo.tag("clf@v1.0.0", c1, 0)
    before = (repo.root / "models" / "registry.yaml").read_bytes()
    code, _, err = cli("import-gto", cwd=repo.root)
    assert code == 1
    assert f"clf v1.0.0: cannot hash its bytes ({md5})" in err and "missing from DVC remote 'registry'" in err
    assert "dvc push -r registry" in err
    assert (repo.root / "models" / "registry.yaml").read_bytes() == before
    code, _, err = cli("import-gto", "nope", cwd=repo.root)
    assert code == 1 and "no GTO tags for nope (tagged: clf)" in err
    code, _, err = cli("import-gto", "--stage", "prod", cwd=repo.root)
    assert code == 2 and "write GTO_STAGE=STAGE" in err


def tag(name: str, commit: str, date: int, by: str = "a", message: str = "") -> GtoTag:
    parsed = import_gto.parse(name)
    return GtoTag(name, parsed["artifact"], parsed["action"], parsed["version"], parsed["stage"],
                  parsed["counter"], commit, date, by, message)


def test_gto_tag_grammar():
    assert import_gto.parse("clf@v1.2.3") == {"artifact": "clf", "action": "register", "version": "v1.2.3",
                                              "stage": None, "counter": None}
    assert import_gto.parse("clf@v1.2.3!#4")["action"] == "deregister"
    assert import_gto.parse("clf#prod!#12") == {"artifact": "clf", "action": "unassign", "version": None,
                                                "stage": "prod", "counter": 12}
    assert import_gto.parse("path/to=clf@deprecated")["artifact"] == "path/to:clf"
    assert import_gto.parse("My_Model@v1.0.0-rc.1")["version"] == "v1.0.0-rc.1"
    assert import_gto.parse("clf@created#3")["action"] == "create"
    assert import_gto.parse("clf#prod")["action"] == "assign"  # simple notation: no counter
    for other in ("v1.0.0", "clf@1.0.0", "clf#prod!!", "clf@latest", "-clf@v1.0.0"):
        assert import_gto.parse(other) is None, other


def test_replay_orders_ties_and_skips_what_it_cannot_name():
    tags = sorted([tag("m#prod#2", "c2", 5), tag("m@v1.0.0", "c1", 5), tag("m#prod#1", "c1", 5),
                   tag("m@v1.1.0", "c2", 5), tag("m#prod#3", "c9", 6)], key=lambda t: t.order)
    assert [t.name for t in tags] == ["m@v1.0.0", "m@v1.1.0", "m#prod#1", "m#prod#2", "m#prod#3"]
    result = replay(tags, {"v1.0.0": "v1.0.0", "v1.1.0": None}, {"prod": "production"})
    assert [(op.kind, op.version, op.stage) for op in result.ops] == [("register", "v1.0.0", None),
                                                                     ("stage", "v1.0.0", "production")]
    assert result.warnings == ["m#prod#2: GTO's production version v1.1.0 is not imported; production is left as "
                               "it was",
                               "tag m#prod#3 names commit c9, which has no version tag; modelreg needs a version "
                               "there (skipped)"]
