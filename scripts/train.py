"""Stage `train`: fit the churn classifier and save it with skops.

`python scripts/train.py --register [--notes TEXT]` runs the whole pipeline
(dvc repro) and then registers the model it made with `modelreg.register()`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import yaml

MODEL = Path("models/churn-classifier/model.skops")
NAME = "churn-classifier"


def build(params: dict):
    if params["model"] == "logistic_regression":
        from sklearn.linear_model import LogisticRegression

        return LogisticRegression(max_iter=500, random_state=params["seed"])
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=params["n_estimators"], max_depth=params["max_depth"],
                                  random_state=params["seed"], n_jobs=1)


def train() -> None:
    import skops.io

    params = yaml.safe_load(Path("params.yaml").read_text())["train"]
    table = np.loadtxt("data/prepared/train.csv", delimiter=",", skiprows=1)
    model = build(params).fit(table[:, :-1], table[:, -1].astype(int))
    MODEL.parent.mkdir(parents=True, exist_ok=True)
    skops.io.dump(model, MODEL)
    print(f"trained {type(model).__name__} on {len(table)} rows -> {MODEL}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--register", action="store_true", help="run dvc repro, then register the model")
    parser.add_argument("--notes", help="notes for the registered version")
    args = parser.parse_args()
    if not args.register:
        train()
        return
    from dvc.repo import Repo

    import modelreg

    with Repo(".") as repo:
        repo.reproduce()
    result = modelreg.register(NAME, notes=args.notes)
    print(f"registered {NAME} {result['version']} (md5 {result['md5']})")


if __name__ == "__main__":
    main()
