"""modelreg init reads the project: type: model artifacts only, the metrics of the stage that evaluates each
model, --metric, suggested gates as comments, and GTO tags already in the repository."""

from __future__ import annotations

import json
import os
import subprocess

from modelreg.core import yamlread

from conftest import git, init_git

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps: [train.py, data/features]
    outs: [models/ranker.skops, models/scorer.onnx]
  evaluate:
    cmd: python evaluate.py
    deps: [evaluate.py, models/ranker.skops, data/features]
    metrics: [{metrics/ranker.json: {cache: false}}]
  data-report:
    cmd: python report.py
    deps: [data/features]
    metrics: [metrics/data.json]
artifacts:
  ranker: {path: models/ranker.skops, type: model, desc: Ranks results.}
  features: {path: data/features, type: dataset}
  notes: {path: docs/notes.md}
"""


def project(root, gto_index: str | None = None):
    init_git(root)
    (root / "dvc.yaml").write_text(DVC_YAML)
    (root / "metrics").mkdir()
    (root / "metrics" / "ranker.json").write_text(json.dumps({"ndcg": 0.8, "loss": {"val": 0.31}}))
    (root / "metrics" / "data.json").write_text(json.dumps({"rows": 1000}))
    if gto_index:
        (root / "artifacts.yaml").write_text(gto_index)


def registry(root) -> dict:
    return yamlread.load((root / "models" / "registry.yaml").read_text(), "r")[0]


def test_only_models_with_the_metrics_of_their_evaluation(cli, tmp_path):
    project(tmp_path, "scorer: {type: model, path: models/scorer.onnx, description: Scores.}\n"
                      "embeddings: {type: dataset, path: data/emb}\n")
    code, out, err = cli("init", cwd=tmp_path)
    assert code == 0, err
    assert "skipped dvc.yaml artifact 'features' (type: dataset): only type: model artifacts are models" in out
    assert "skipped dvc.yaml artifact 'notes' (no type)" in out
    assert "skipped artifacts.yaml artifact 'embeddings' (type: dataset)" in out
    assert ("ranker: metrics found in stage evaluate (metrics/ranker.json): loss.val, ndcg; set the primary one "
            "with --metric NAME") in out  # not data-report's rows: that stage does not evaluate the model
    assert "scorer: no stage evaluates models/scorer.onnx" in out
    models = registry(tmp_path)["models"]
    assert list(models) == ["ranker", "scorer"] and "metric" not in models["ranker"]
    assert models["scorer"]["description"] == "Scores." and models["scorer"]["format"] == "onnx"
    text = (tmp_path / "models" / "registry.yaml").read_text()
    assert "    # metric: {name: ..., goal: max}   # one of: loss.val, ndcg" in text
    assert cli("validate", cwd=tmp_path)[0] == 0


def test_metric_option_and_suggested_gates(cli, tmp_path):
    project(tmp_path)
    code, out, err = cli("init", "--metric", "loss.val", cwd=tmp_path)
    assert code == 0, err
    assert "ranker: primary metric loss.val (min), from stage evaluate (metrics/ranker.json)" in out
    model = registry(tmp_path)["models"]["ranker"]
    assert model["metric"] == {"name": "loss.val", "goal": "min"} and "gates" not in model
    text = (tmp_path / "models" / "registry.yaml").read_text()
    assert ("    # gates:\n    #   staging: {loss.val: {max: 0.326}}\n"
            "    #   production: {loss.val: {max: 0.316}, beat_production: 0.0, signature: compatible}\n"
            "    stages: {}\n") in text
    # uncommented, the suggestion is a valid registry
    (tmp_path / "models" / "registry.yaml").write_text(text.replace("    # gates:", "    gates:")
                                                       .replace("    #   ", "      "))
    assert registry(tmp_path)["models"]["ranker"]["gates"]["production"]["signature"] == "compatible"
    code, _, err = cli("validate", cwd=tmp_path)
    assert code == 0, err
    (tmp_path / "models" / "registry.yaml").unlink()
    code, out, _ = cli("init", "--metric", "recall", "--goal", "max", cwd=tmp_path)
    assert "ranker: stage evaluate (metrics/ranker.json) has no metric 'recall' (found: loss.val, ndcg)" in out


def test_init_reports_gto_tags(cli, tmp_path):
    project(tmp_path)
    git("add", "-A", cwd=tmp_path)
    git("commit", "-qm", "project", cwd=tmp_path)
    env = {**os.environ, "GIT_COMMITTER_NAME": "alice", "GIT_COMMITTER_EMAIL": "a@example.com"}
    for name in ("ranker@v1.0.0", "ranker#prod#1", "features@v0.1.0"):
        subprocess.run(["git", "tag", "-a", name, "-m", "gto"], cwd=tmp_path, env=env, check=True)
    git("tag", "release-2024", cwd=tmp_path)  # not GTO's
    code, out, _ = cli("init", cwd=tmp_path)
    assert code == 0
    line = next(line for line in out.splitlines() if line.startswith("found 3 GTO tag(s) for features, ranker (e.g. "))
    assert all(name in line for name in ("ranker@v1.0.0", "ranker#prod#1", "features@v0.1.0", "`modelreg import-gto`"))
    assert "release-2024" not in out
    assert "GTO uses stage(s) prod: map them, e.g. `modelreg import-gto --stage prod=production`" in out
