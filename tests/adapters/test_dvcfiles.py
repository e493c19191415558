"""dvc.yaml / dvc.lock as data: lineage over the whole pipeline, the stage that evaluates a model, metrics."""

from __future__ import annotations

import yaml

from modelreg.adapters import dvcfiles

MD5 = {name: f"{i:032x}" for i, name in enumerate(
    ["raw", "labels", "prepared", "features", "model", "code1", "code2", "code3", "code4"], 1)}

LOCK = yaml.safe_dump({"schema": "2.0", "stages": {
    "prepare": {"cmd": "python src/prepare.py",
                "deps": [{"path": "data/raw.csv", "md5": MD5["raw"]}, {"path": "src/prepare.py", "md5": MD5["code1"]}],
                "params": {"params.yaml": {"prepare": {"scale": 2}, "seed": 7}},
                "outs": [{"path": "data/prepared", "md5": MD5["prepared"] + ".dir"}]},
    "featurize": {"cmd": "python src/featurize.py",
                  "deps": [{"path": "data/prepared/part.csv", "md5": MD5["prepared"]},
                           {"path": "data/labels.csv", "md5": MD5["labels"]},
                           {"path": "src/featurize.py", "md5": MD5["code2"]}],
                  "params": {"params.yaml": {"featurize": {"square": True}, "seed": 7}},
                  "outs": [{"path": "data/features", "md5": MD5["features"] + ".dir"}]},
    "train": {"cmd": "python src/train.py",
              "deps": [{"path": "src/train.py", "md5": MD5["code3"]},
                       {"path": "data/features", "md5": MD5["features"] + ".dir"}],
              "params": {"params.yaml": {"train": {"C": 0.5}}, "custom.yaml": {"lr": 0.1}},
              "outs": [{"path": "models/clf.skops", "md5": MD5["model"], "size": 10}]},
    "evaluate": {"cmd": "python src/evaluate.py",
                 "deps": [{"path": "models/clf.skops", "md5": MD5["model"]},
                          {"path": "src/evaluate.py", "md5": MD5["code4"]}],
                 "params": {"params.yaml": {"eval": {"threshold": 0.5}}},
                 "outs": [{"path": "metrics.json", "md5": "f" * 32}]},
    "other": {"cmd": "python other.py", "deps": [{"path": "data/unrelated.csv", "md5": "e" * 32}],
              "params": {"params.yaml": {"other": 1}}, "outs": [{"path": "models/other.bin", "md5": "d" * 32}]},
}}, sort_keys=False)


def reader(files: dict):
    return lambda path: files.get(path)


def test_lineage_walks_every_stage_upstream_of_the_model():
    read = reader({"dvc.lock": LOCK, "data/raw.csv.dvc": "outs: []\n", "data/labels.csv.dvc": "outs: []\n",
                   "data/unrelated.csv.dvc": "outs: []\n"})
    traced = dvcfiles.lineage(read, "models/clf.skops")
    assert [s.name for s in traced.stages] == ["prepare", "featurize", "train"]  # not evaluate, not other
    assert traced.params == {"prepare": {"scale": 2}, "seed": 7, "featurize": {"square": True},
                             "train": {"C": 0.5}, "lr": 0.1}
    assert traced.data == {"path": "data/features", "md5": MD5["features"] + ".dir",
                           "sources": [{"path": "data/raw.csv", "md5": MD5["raw"]},
                                       {"path": "data/labels.csv", "md5": MD5["labels"]}]}
    assert traced.code == ["src/prepare.py", "src/featurize.py", "src/train.py"]
    assert traced.param_files == ["params.yaml", "custom.yaml"]


def test_lineage_of_a_stage_fed_by_a_source_directly():
    # the template's shape: train reads what prepare made; prepare reads only code: no sources
    read = reader({"dvc.lock": LOCK})
    traced = dvcfiles.lineage(read, "models/other.bin")
    assert [s.name for s in traced.stages] == ["other"] and traced.data is None  # not DVC-tracked: code
    traced = dvcfiles.lineage(reader({"dvc.lock": LOCK, "data/unrelated.csv.dvc": "outs: []\n"}), "models/other.bin")
    assert traced.data == {"path": "data/unrelated.csv", "md5": "e" * 32}
    assert dvcfiles.lineage(reader({}), "models/clf.skops").stages == []  # no dvc.lock: nothing known
    assert dvcfiles.lineage(reader({"dvc.lock": LOCK}), "nothing/here").params == {}


def test_the_stage_that_evaluates_a_model_decides_its_metrics(tmp_path):
    spec = yaml.safe_load("""
stages:
  train: {cmd: x, deps: [data], outs: [models/a.skops, models/b.skops]}
  evaluate-a:
    cmd: x
    deps: [models/a.skops, data]
    metrics: [{metrics/a.json: {cache: false}}]
  evaluate-b: {cmd: x, deps: [models], metrics: [metrics/b.json]}
  report: {cmd: x, deps: [data], metrics: [metrics/data.json]}
artifacts:
  a: {path: models/a.skops, type: model}
  b: {path: models/b.skops, type: model}
  c: {path: models/c.skops, type: model, meta: {metrics: metrics/c.json}}
  d: {path: other/d.skops, type: model}
""")
    assert dvcfiles.evaluating_stages(spec, "models/a.skops") == ["evaluate-a", "evaluate-b"]  # b: the folder
    assert dvcfiles.metrics_files(tmp_path, "a", spec=spec) == ["metrics/a.json", "metrics/b.json"]
    assert dvcfiles.metrics_files(tmp_path, "c", spec=spec) == ["metrics/c.json"]  # meta wins
    assert dvcfiles.metrics_files(tmp_path, "d", spec=spec, path="other/d.skops") == [
        "metrics/a.json", "metrics/b.json", "metrics/data.json"]  # nothing evaluates it: every metrics file
    metrics = dvcfiles.metrics_from(reader({"m.json": '{"auc": 0.9, "by_class": {"a": 1}, "name": "x"}'}),
                                    ["m.json"])
    assert metrics == {"auc": 0.9, "by_class.a": 1}
