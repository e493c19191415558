"""Requests are checked against the served version's input signature: a clear 422 before the model runs."""

from __future__ import annotations

import json

from conftest import SAMPLE
from serving_support import Client, running

MODEL = "churn-classifier"


class Model:
    def __init__(self):
        self.seen = []

    def predict(self, rows):
        self.seen.append(rows)
        return [0 for _ in rows]


def test_rows_that_do_not_fit_the_signature_are_refused_before_the_model_sees_them():
    from modelreg.serving.app import create_app
    from modelreg.serving.models import ModelTable

    marker = "      v1.2.0:\n"
    assert marker in SAMPLE
    text = SAMPLE.replace(marker, marker + "        signature: {features: 3, names: [a, b, c]}\n", 1)
    model = Model()
    table = ModelTable([MODEL], "production", "registry.yaml", lambda answer: model)
    assert table.update(text)
    with running(create_app(table)) as url, Client(url) as client:
        bad = client.post(f"/models/{MODEL}/predict", content=json.dumps({"rows": [[1.0, 2.0]]}),
                          headers={"content-type": "application/json"})
        assert bad.status_code == 422 and "expects 3 features (a, b, c)" in bad.text
        assert model.seen == []
        good = client.post(f"/models/{MODEL}/predict", content=json.dumps({"rows": [[1.0, 2.0, 3.0]]}),
                           headers={"content-type": "application/json"})
        assert good.status_code == 200, good.text
        assert model.seen == [[[1.0, 2.0, 3.0]]]
