"""modelreg import-mlflow against a real MLflow sqlite store created in the test."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import run

pytestmark = pytest.mark.slow
mlflow = pytest.importorskip("mlflow")

MAKE_STORE = r'''
import sys, mlflow, numpy as np
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression
uri = sys.argv[1]
mlflow.set_tracking_uri(uri)
mlflow.set_experiment("churn")
x = np.random.RandomState(0).normal(size=(200, 4)); y = (x[:, 0] > 0).astype(int)
for c, auc in ((0.1, 0.81), (1.0, 0.87)):
    with mlflow.start_run():
        mlflow.log_param("C", c)
        mlflow.log_metric("roc_auc", auc)
        mlflow.set_tag("mlflow.source.git.commit", "a" * 40)
        mlflow.sklearn.log_model(LogisticRegression(C=c).fit(x, y), name="model",
                                 registered_model_name="Churn Model")
client = MlflowClient()
client.set_registered_model_alias("Churn Model", "production", "2")
client.set_registered_model_alias("Churn Model", "staging", "1")
client.update_model_version("Churn Model", "2", description="more regularisation headroom")
'''


def test_import_versions_aliases_and_metrics(trained_repo, tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri, "GIT_PYTHON_REFRESH": "quiet"}
    subprocess.run([sys.executable, "-c", MAKE_STORE, uri], cwd=tmp_path, env=env, check=True, capture_output=True)
    result = run([sys.executable, "-m", "modelreg", "import-mlflow", "--tracking-uri", uri], trained_repo)
    assert "imported Churn Model version 2 as churn-model v2.0.0" in result.stdout
    from modelreg.core import yamlread

    data = yamlread.load((trained_repo / "models" / "registry.yaml").read_text(), "r")[0]
    model = data["models"]["churn-model"]
    assert model["path"] == "models/churn-model" and model["format"] == "directory"
    assert model["stages"] == {"staging": "v1.0.0", "production": "v2.0.0"}
    v2 = model["versions"]["v2.0.0"]
    assert v2["metrics"] == {"roc_auc": 0.87} and v2["params"] == {"C": "1.0"} and v2["commit"] == "a" * 40
    assert v2["notes"] == "more regularisation headroom" and v2["md5"].endswith(".dir")
    assert [entry["reason"].startswith("imported from MLflow (alias") for entry in model["history"]] == [True, True]
    # the registered bytes are the MLflow model's files, stored in the candidates remote and verifiable
    pulled = tmp_path / "pulled"
    run([sys.executable, "-m", "modelreg", "pull", "churn-model@production", "--remote", "candidates", "-o",
         str(pulled)], trained_repo)
    assert (pulled / "MLmodel").exists()
    run([sys.executable, "-m", "modelreg", "validate"], trained_repo)
    again = run([sys.executable, "-m", "modelreg", "import-mlflow", "--tracking-uri", uri], trained_repo,
                check=False)
    assert again.returncode == 0 and "skipped churn-model v1.0.0: already registered" in again.stdout
    assert yamlread.load((trained_repo / "models" / "registry.yaml").read_text(), "r")[0] == data
