"""One model pass per answer where it is exact, and adaptive batching (serving/answering.py).

The models are plain Python objects behind the in-process ModelTable, counting their calls; the
demo's RandomForestClassifier is trained here on a few rows."""

from __future__ import annotations

import json
import threading
import time

import numpy
import pytest
from conftest import SAMPLE
from serving_support import Client, running

MODEL = "churn-classifier"
PROMOTED = SAMPLE.replace("production: v1.2.0", "production: v1.3.0")
ROWS = [[0.9, 1.0], [0.2, 3.0], [0.6, 0.0], [0.1, 0.5], [0.7, 0.7]]


class Threshold:
    """P(b) = the first feature; `predict` says "b" above `cut` (0.5 agrees with argmax, ties included)."""

    def __init__(self, cut: float = 0.5, delay: float = 0.0):
        self.classes_ = numpy.array(["a", "b"])
        self.cut, self.delay = cut, delay

    def predict_proba(self, rows):
        time.sleep(self.delay)
        return numpy.array([[1 - row[0], row[0]] for row in rows])

    def predict(self, rows):
        time.sleep(self.delay)
        return numpy.array(["b" if row[0] > self.cut else "a" for row in rows])


class Counting:
    """Counts the calls to the model it wraps; `rows` keeps the number of rows of each predict_proba call."""

    def __init__(self, model, tag=None):
        self.model, self.tag = model, tag
        self.calls = {"predict": 0, "predict_proba": 0}
        self.rows: list[int] = []
        self.lock = threading.Lock()

    @property
    def classes_(self):
        return self.model.classes_

    def predict(self, rows):
        with self.lock:
            self.calls["predict"] += 1
        return self.model.predict(rows)

    def predict_proba(self, rows):
        with self.lock:
            self.calls["predict_proba"] += 1
            self.rows.append(len(rows))
        return self.model.predict_proba(rows)


def table_with(models: dict, sample=None):
    """A ModelTable serving models[version] for each version, with `sample` as every version's sample rows."""
    from modelreg.serving.models import ModelTable

    table = ModelTable([MODEL], "production", "registry.yaml", lambda answer: models[answer.version],
                       samples=lambda answer: sample)
    assert table.update(SAMPLE)
    return table


# --- one pass ------------------------------------------------------------------------------------

def test_a_model_whose_prediction_is_the_argmax_answers_in_one_pass():
    model = Counting(Threshold())
    table = table_with({"v1.2.0": model}, sample=ROWS)
    served = table.get(MODEL)
    assert served.answerer.one_pass is True
    assert served.answerer.mode == "one pass (predictions from predict_proba, verified on 5 sample rows)"
    before = dict(model.calls)
    predictions, probabilities = served.answerer.answer([[0.8, 0.0], [0.3, 0.0]])
    assert list(predictions) == ["b", "a"]
    assert numpy.allclose(probabilities, [[0.2, 0.8], [0.7, 0.3]])
    assert model.calls["predict_proba"] == before["predict_proba"] + 1
    assert model.calls["predict"] == before["predict"]  # predict is not called any more


def test_a_model_whose_prediction_is_not_the_argmax_falls_back_to_two_passes():
    model = Counting(Threshold(cut=0.65))  # 0.6 -> 'a' though P(b) = 0.6
    table = table_with({"v1.2.0": model}, sample=ROWS)
    served = table.get(MODEL)
    assert served.answerer.one_pass is False
    assert served.answerer.mode.startswith("two passes (predict differs from the class of highest probability "
                                           "on row 2")
    before = dict(model.calls)
    predictions, _ = served.answerer.answer([[0.6, 0.0]])
    assert list(predictions) == ["a"]  # what predict says, not the argmax
    assert model.calls == {"predict": before["predict"] + 1, "predict_proba": before["predict_proba"] + 1}


def test_without_a_sample_the_first_request_decides():
    model = Counting(Threshold(cut=0.65))
    table = table_with({"v1.2.0": model}, sample=None)
    served = table.get(MODEL)
    assert served.answerer.one_pass is None and served.answerer.mode.startswith("undecided")
    assert list(served.answerer.answer([[0.9, 0.0]])[0]) == ["b"]  # agrees on these rows
    assert served.answerer.one_pass is True
    assert served.answerer.mode == "one pass (predictions from predict_proba, verified on 1 rows of the first request)"


def test_a_sample_the_model_refuses_leaves_it_to_the_first_request():
    table = table_with({"v1.2.0": Threshold()}, sample=[["not a number"]])
    assert table.get(MODEL).answerer.one_pass is None


def test_a_model_without_predict_proba_answers_with_predict():
    class Regressor:
        def predict(self, rows):
            return [sum(row) for row in rows]

    served = table_with({"v1.2.0": Regressor()}, sample=ROWS).get(MODEL)
    assert served.answerer.answer([[1, 2]]) == ([3], None)
    assert served.answerer.mode.startswith("one pass (predict")


def test_the_demo_random_forest_answers_in_one_pass():
    from sklearn.ensemble import RandomForestClassifier

    generator = numpy.random.default_rng(7)
    features = generator.normal(size=(200, 4))
    labels = (features[:, 0] + features[:, 1] > 0).astype(int)
    forest = RandomForestClassifier(n_estimators=10, max_depth=6, random_state=0).fit(features, labels)
    model = Counting(forest)
    served = table_with({"v1.2.0": model}, sample=features[:5].tolist()).get(MODEL)
    assert served.answerer.one_pass is True
    rows = generator.normal(size=(50, 4)).tolist()
    before = dict(model.calls)
    predictions, probabilities = served.answerer.answer(rows)
    assert (predictions == forest.predict(rows)).all()
    assert numpy.allclose(probabilities, forest.predict_proba(rows))
    assert model.calls == {"predict": before["predict"], "predict_proba": before["predict_proba"] + 1}


def test_the_answer_mode_is_shown_and_probabilities_stay_in_the_answer():
    from modelreg.serving.app import create_app

    table = table_with({"v1.2.0": Threshold()}, sample=ROWS)
    with running(create_app(table)) as url, Client(url) as client:
        info = client.get(f"/models/{MODEL}").json()
        assert info["answer"] == "one pass (predictions from predict_proba, verified on 5 sample rows)"
        assert info["batching"] == "off"
        body = client.post(f"/models/{MODEL}/predict", json={"rows": [[0.75, 1]]}).json()
        assert body["predictions"] == ["b"] and body["probabilities"] == [[0.25, 0.75]]


def test_the_sample_is_read_beside_the_artifact(tmp_path):
    from modelreg.core.lookup import Resolved
    from modelreg.serving.models import sample_reader

    (tmp_path / "models" / MODEL).mkdir(parents=True)
    (tmp_path / "models" / MODEL / "sample.json").write_text(json.dumps({"columns": ["x"], "rows": [[1.0]]}))
    answer = Resolved(MODEL, "v1", "0" * 32, 1, f"models/{MODEL}/model.skops", "skops", ("production",))
    assert sample_reader(tmp_path)(answer) == [[1.0]]
    assert sample_reader(tmp_path / "elsewhere")(answer) is None


# --- batching ------------------------------------------------------------------------------------

def concurrently(url: str, bodies: list[list]) -> list:
    answers: list = [None] * len(bodies)
    gate = threading.Barrier(len(bodies))

    def send(index: int) -> None:
        with Client(url) as client:
            gate.wait()
            answers[index] = client.post(f"/models/{MODEL}/predict", json={"rows": bodies[index]})

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return answers


BODIES = [[[i / 10, 0.0]] * (1 + i % 3) for i in range(8)]  # 8 requests of 1 to 3 rows


def expected(rows: list) -> list:
    return ["b" if row[0] > 0.5 else "a" for row in rows]


@pytest.mark.parametrize("batch_ms", [50, 0])
def test_concurrent_requests_are_answered_together_each_with_its_own_rows(batch_ms):
    from modelreg.serving.app import create_app

    model = Counting(Threshold())
    table = table_with({"v1.2.0": model}, sample=ROWS)
    base = model.calls["predict_proba"]
    with running(create_app(table, batch_ms=batch_ms)) as url:
        answers = concurrently(url, BODIES)
        info = Client(url).get(f"/models/{MODEL}").json()
    for rows, response in zip(BODIES, answers):
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["version"] == "v1.2.0"
        assert body["predictions"] == expected(rows)
        assert body["probabilities"] == [[1 - row[0], row[0]] for row in rows]
    calls = model.calls["predict_proba"] - base
    if batch_ms:
        assert calls < 8 and max(model.rows) > 3, model.rows
        assert info["batching"] == "requests gathered for at most 50 ms"
    else:
        assert calls == 8
    assert model.calls["predict"] == 1  # only the check on the sample rows at load time
    assert info["answer"].startswith("one pass")


def test_a_bad_request_in_a_batch_gets_its_error_and_the_others_their_answers():
    from modelreg.serving.app import create_app

    class Strict(Threshold):
        def predict_proba(self, rows):
            if any(row[0] < 0 for row in rows):
                raise ValueError("negative feature")
            return super().predict_proba(rows)

    table = table_with({"v1.2.0": Strict()}, sample=ROWS)
    bodies = [[[0.9, 0.0]], [[-1.0, 0.0]], [[0.1, 0.0]], [[0.7, 0.1], [0.2, 0.2]]]
    with running(create_app(table, batch_ms=50)) as url:
        answers = concurrently(url, bodies)
    assert [response.status_code for response in answers] == [200, 422, 200, 200]
    assert "v1.2.0 could not predict: negative feature" in answers[1].json()["detail"]
    assert answers[3].json()["predictions"] == ["b", "a"]


def test_a_swap_during_batching_never_mixes_versions():
    from modelreg.serving.app import create_app

    old, new = Threshold(cut=0.5, delay=0.01), Threshold(cut=0.5, delay=0.01)
    new.predict_proba = lambda rows: numpy.array([[0.0, 1.0] for _ in rows])  # v1.3.0 says 'b' for all
    new.predict = lambda rows: numpy.array(["b" for _ in rows])
    table = table_with({"v1.2.0": old, "v1.3.0": new}, sample=ROWS)
    seen: list = []
    stop = threading.Event()
    with running(create_app(table, batch_ms=20)) as url:
        def swapper():
            text = [SAMPLE, PROMOTED]
            i = 0
            while not stop.is_set():
                i += 1
                table.update(text[i % 2])
                time.sleep(0.003)

        thread = threading.Thread(target=swapper)
        thread.start()
        try:
            for _ in range(6):
                seen.extend(concurrently(url, [[[0.1, 0.0]] * 2 for _ in range(6)]))
        finally:
            stop.set()
            thread.join()
    versions = set()
    for response in seen:
        assert response.status_code == 200, response.text
        body = response.json()
        versions.add(body["version"])
        # every row of a response comes from the version the response names
        assert body["predictions"] == (["a", "a"] if body["version"] == "v1.2.0" else ["b", "b"]), body
    assert versions == {"v1.2.0", "v1.3.0"} or len(versions) == 1


def test_two_pass_can_be_asked_for():
    from modelreg.serving.models import ModelTable

    model = Counting(Threshold())
    table = ModelTable([MODEL], "production", "registry.yaml", lambda answer: model, samples=lambda answer: ROWS,
                       two_pass=True)
    table.update(SAMPLE)
    served = table.get(MODEL)
    assert served.answerer.mode == "two passes (modelreg serve --two-pass)"
    served.answerer.answer([[0.9, 0.0]])
    assert model.calls == {"predict": 1, "predict_proba": 1}
