"""Stage `prepare`: make the churn data set and split it.

The data is generated deterministically from params.yaml (scikit-learn's
make_classification), so the template trains with nothing downloaded.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split

OUT = Path("data/prepared")


def main() -> None:
    params = yaml.safe_load(Path("params.yaml").read_text())["data"]
    features, labels = make_classification(
        n_samples=params["n_samples"], n_features=params["n_features"], n_informative=6, n_redundant=2,
        weights=[0.8, 0.2], flip_y=0.03, class_sep=0.9, random_state=params["seed"])
    columns = [f"f{i}" for i in range(features.shape[1])]
    x_train, x_test, y_train, y_test = train_test_split(
        features, labels, test_size=params["test_size"], random_state=params["seed"], stratify=labels)
    OUT.mkdir(parents=True, exist_ok=True)
    header = ",".join(columns + ["churned"])
    for name, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        np.savetxt(OUT / f"{name}.csv", np.column_stack([x, y]), delimiter=",", header=header, comments="",
                   fmt="%.6f")
    sample = {"columns": columns, "rows": np.round(x_test[:3], 6).tolist()}
    (OUT / "sample.json").write_text(json.dumps(sample, indent=2) + "\n")
    print(f"prepared {len(y_train)} training and {len(y_test)} test rows in {OUT}")


if __name__ == "__main__":
    main()
