"""Stage `evaluate`: score the model on the held-out split; DVC tracks the JSON as metrics."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import skops.io
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

MODEL = Path("models/churn-classifier/model.skops")
METRICS = Path("metrics/churn-classifier.json")


def main() -> None:
    untrusted = skops.io.get_untrusted_types(file=MODEL)
    model = skops.io.load(MODEL, trusted=[t for t in untrusted if t.startswith(("sklearn.", "numpy."))])
    table = np.loadtxt("data/prepared/test.csv", delimiter=",", skiprows=1)
    features, labels = table[:, :-1], table[:, -1].astype(int)
    scores = model.predict_proba(features)[:, 1]
    predicted = (scores >= 0.5).astype(int)
    metrics = {"roc_auc": round(float(roc_auc_score(labels, scores)), 4),
               "accuracy": round(float(accuracy_score(labels, predicted)), 4),
               "f1": round(float(f1_score(labels, predicted)), 4)}
    METRICS.parent.mkdir(parents=True, exist_ok=True)
    METRICS.write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"evaluated {MODEL}: {metrics}")


if __name__ == "__main__":
    main()
