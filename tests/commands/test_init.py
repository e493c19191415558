"""modelreg init adopts the registry in an existing repository and never overwrites a file."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT, SAMPLE, init_git

GENERATED = ["models/registry.yaml", "models/registry.schema.json", ".github/CODEOWNERS", ".github/zizmor.yml",
             ".pre-commit-config.yaml", ".github/workflows/registry-check.yml",
             ".github/workflows/registry-release.yml", ".github/workflows/deploy.yml",
             ".github/workflows/registry-pages.yml"]


def digests(root: Path) -> dict:
    return {p: hashlib.sha256((root / p).read_bytes()).hexdigest() for p in GENERATED + ["dvc.yaml"]
            if (root / p).exists()}


def test_init_in_a_repository_with_a_dvc_pipeline(cli, tmp_path):
    init_git(tmp_path)
    (tmp_path / "dvc.yaml").write_text("artifacts:\n  ranker:\n    path: models/ranker.onnx\n    type: model\n"
                                       "    desc: Ranks search results.\n")
    code, out, _ = cli("init", "--owner", "carol", "--owner", "@acme/search", cwd=tmp_path)
    assert code == 0 and all(f"wrote {p}" in out for p in GENERATED)
    registry = yaml.safe_load((tmp_path / "models" / "registry.yaml").read_text())
    assert registry["models"]["ranker"]["owners"] == ["carol", "@acme/search"]
    assert registry["models"]["ranker"]["format"] == "onnx"
    assert cli("validate", cwd=tmp_path)[0] == 0  # CODEOWNERS matches the registry
    result = subprocess.run([str(Path(sys.executable).parent / "zizmor"), "--offline", "--persona", "pedantic",
                             str(tmp_path)], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stdout
    before = digests(tmp_path)
    code, out, _ = cli("init", cwd=tmp_path)
    assert code == 0 and "wrote" not in out and out.count("exists, left as it is") == len(GENERATED)
    assert digests(tmp_path) == before


def test_init_keeps_an_existing_registry_and_declares_its_models_in_dvc_yaml(cli, tmp_path):
    init_git(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "registry.yaml").write_text(SAMPLE)
    (tmp_path / "dvc.yaml").write_text("# my pipeline\nstages:\n  train:\n    cmd: python train.py  # trains\n")
    code, out, _ = cli("init", cwd=tmp_path)
    assert code == 0 and "skipped models/registry.yaml: exists" in out
    assert (tmp_path / "models" / "registry.yaml").read_text() == SAMPLE
    dvc_yaml = (tmp_path / "dvc.yaml").read_text()
    assert dvc_yaml.startswith("# my pipeline\nstages:\n  train:\n    cmd: python train.py  # trains\n")
    artifacts = yaml.safe_load(dvc_yaml)["artifacts"]
    assert artifacts["fraud-detector"] == {"path": "models/fraud-detector/model.onnx", "type": "model"}
    assert cli("validate", cwd=tmp_path)[0] == 0


def test_init_refuses_on_an_invalid_registry_and_writes_nothing(cli, tmp_path):
    init_git(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "registry.yaml").write_text(SAMPLE.replace("format: pickle", "format: zip"))
    code, _, err = cli("init", cwd=tmp_path)
    assert code == 1 and "is not one of" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == [".git", "models"]


def test_templates_are_the_workflows_of_this_repository():
    templates = ROOT / "scripts" / "modelreg" / "templates"
    for workflow in (ROOT / ".github" / "workflows").glob("*.yml"):
        assert (templates / "workflows" / workflow.name).read_text() == workflow.read_text(), workflow.name
    assert (templates / "zizmor.yml").read_text() == (ROOT / ".github" / "zizmor.yml").read_text()


def test_pre_commit_hook_definition():
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "modelreg-validate" and hook["entry"] == "modelreg validate"
    assert hook["language"] == "python" and hook["pass_filenames"] is False
