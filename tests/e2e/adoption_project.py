"""A multi-stage DVC project as a GTO user keeps it, built with real DVC and the real `gto` CLI.

    data/raw.csv (dvc add) -> prepare -> featurize -> train -> evaluate (metrics)
    artifacts: features (type: dataset), clf (type: model, skops)

`build(base)` makes base/repo with DVC remotes under base/remotes (relative URLs,
so a copied base keeps working) and this GTO history, one `gto` call per step:

    c1: trained      clf@v1.0.0, features@v1.0.0, clf#prod#1                 (by alice)
    c2: C changed    clf@v1.1.0, clf#staging#2, clf#prod#3 (GTO now has v1.0.0 and v1.1.0 in prod),
                     clf@v1.0.0! (gto deprecate clf v1.0.0)                    (by bob)
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path

from conftest import git, init_git, run

DVC_YAML = """\
stages:
  prepare:
    cmd: python src/prepare.py
    deps:
      - src/prepare.py
      - data/raw.csv
    params:
      - prepare
    outs:
      - data/prepared
  featurize:
    cmd: python src/featurize.py
    deps:
      - src/featurize.py
      - data/prepared
    params:
      - featurize
    outs:
      - data/features
  train:
    cmd: python src/train.py
    deps:
      - src/train.py
      - data/features
    params:
      - train
    outs:
      - models/clf/model.skops
  evaluate:
    cmd: python src/evaluate.py
    deps:
      - src/evaluate.py
      - models/clf/model.skops
      - data/features
    metrics:
      - metrics/clf.json:
          cache: false

artifacts:
  features:
    path: data/features
    type: dataset
    desc: Features of the training data.
  clf:
    path: models/clf/model.skops
    type: model
    desc: Classifies the example rows.
"""

PARAMS = """\
prepare:
  scale: 1.0
featurize:
  square: false
train:
  C: 1.0
"""

PREPARE = """\
import csv, os, yaml
scale = yaml.safe_load(open("params.yaml"))["prepare"]["scale"]
os.makedirs("data/prepared", exist_ok=True)
with open("data/raw.csv") as src, open("data/prepared/data.csv", "w", newline="") as out:
    rows = list(csv.reader(src))
    writer = csv.writer(out)
    writer.writerow(rows[0])
    for row in rows[1:]:
        writer.writerow([f"{float(v) * scale:.6f}" for v in row[:-1]] + [row[-1]])
"""

FEATURIZE = """\
import csv, os, yaml
square = yaml.safe_load(open("params.yaml"))["featurize"]["square"]
os.makedirs("data/features", exist_ok=True)
with open("data/prepared/data.csv") as src, open("data/features/data.csv", "w", newline="") as out:
    rows = list(csv.reader(src))
    names = rows[0][:-1]
    writer = csv.writer(out)
    writer.writerow(names + ([n + "_sq" for n in names] if square else []) + ["label"])
    for row in rows[1:]:
        values = [float(v) for v in row[:-1]]
        writer.writerow(values + ([v * v for v in values] if square else []) + [row[-1]])
"""

TRAIN = """\
import os, pandas, skops.io, yaml
from sklearn.linear_model import LogisticRegression
C = yaml.safe_load(open("params.yaml"))["train"]["C"]
table = pandas.read_csv("data/features/data.csv")
model = LogisticRegression(C=C, max_iter=200).fit(table.drop(columns="label"), table["label"])
os.makedirs("models/clf", exist_ok=True)
skops.io.dump(model, "models/clf/model.skops")
"""

EVALUATE = """\
import json, os, pandas, skops.io
from sklearn.metrics import accuracy_score, roc_auc_score
path = "models/clf/model.skops"
model = skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
table = pandas.read_csv("data/features/data.csv")
x, y = table.drop(columns="label"), table["label"]
os.makedirs("metrics", exist_ok=True)
json.dump({"accuracy": round(accuracy_score(y, model.predict(x)), 4),
           "roc_auc": round(roc_auc_score(y, model.predict_proba(x)[:, 1]), 4)}, open("metrics/clf.json", "w"))
"""

SAMPLE = '{"columns": ["x1", "x2", "x3"], "rows": [[0.5, -1.25, 2.0], [1.0, 0.25, -0.5]]}\n'


def raw_data() -> str:
    rng = random.Random(3)
    lines = ["x1,x2,x3,label"]
    for _ in range(120):
        x = [rng.gauss(0, 1) for _ in range(3)]
        label = int(x[0] + 0.5 * x[1] - 0.3 * x[2] + rng.gauss(0, 0.7) > 0)
        lines.append(",".join(f"{v:.4f}" for v in x) + f",{label}")
    return "\n".join(lines) + "\n"


def gto(root: Path, *args: str) -> str:
    """The real gto CLI; a pause first, so every tag gets its own second (GTO orders events by tagger date)."""
    time.sleep(1.05)
    return run([str(Path(sys.executable).parent / "gto"), *args], root).stdout


def dvc(root: Path, *args: str) -> None:
    run([sys.executable, "-m", "dvc", *args], root)


def train(root: Path, message: str) -> str:
    """dvc repro, push the outputs to the default remote (as a GTO user does), commit; returns the commit."""
    dvc(root, "repro", "-q")
    dvc(root, "push", "-q")
    git("add", "-A", cwd=root)
    git("commit", "-qm", message, cwd=root)
    return git("rev-parse", "HEAD", cwd=root).strip()


def set_param(root: Path, old: str, new: str) -> None:
    params = root / "params.yaml"
    assert old in params.read_text(), old
    params.write_text(params.read_text().replace(old, new))


def build(base: Path) -> Path:
    root = base / "repo"
    root.mkdir(parents=True)
    files = {"dvc.yaml": DVC_YAML, "params.yaml": PARAMS, "src/prepare.py": PREPARE, "src/featurize.py": FEATURIZE,
             "src/train.py": TRAIN, "src/evaluate.py": EVALUATE, "models/clf/sample.json": SAMPLE,
             "data/raw.csv": raw_data()}
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    init_git(root)
    git("config", "user.name", "alice", cwd=root)
    dvc(root, "init", "-q")
    dvc(root, "remote", "add", "-d", "registry", "../remotes/registry")
    dvc(root, "remote", "add", "candidates", "../remotes/candidates")
    dvc(root, "add", "-q", "data/raw.csv")
    git("add", "-A", cwd=root)
    git("commit", "-qm", "pipeline", cwd=root)
    train(root, "train: first model")
    gto(root, "register", "clf", "--version", "v1.0.0")
    gto(root, "register", "features", "--version", "v1.0.0")
    gto(root, "assign", "clf", "--version", "v1.0.0", "--stage", "prod")
    set_param(root, "C: 1.0", "C: 0.05")
    train(root, "train: stronger regularisation")
    gto(root, "register", "clf", "--version", "v1.1.0")
    git("config", "user.name", "bob", cwd=root)
    gto(root, "assign", "clf", "--version", "v1.1.0", "--stage", "staging")
    gto(root, "assign", "clf", "--version", "v1.1.0", "--stage", "prod", "-m", "better on the holdout")
    gto(root, "deprecate", "clf", "v1.0.0")
    git("config", "user.name", "tester", cwd=root)
    return root
