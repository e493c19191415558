"""Serve limits under a real uvicorn: request bodies are bounded before anything parses them, and feature
values are plain finite numbers (NaN and infinity only with --allow-non-finite)."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from conftest import SAMPLE
from serving_support import Client, running

MODEL = "churn-classifier"
ROW = [0.5, -1.25, 3.0, 7]


class Model:
    def __init__(self):
        self.seen = []

    def predict(self, rows):
        self.seen.append(rows)
        return [row[0] for row in rows]  # echoes: a NaN feature gives a NaN prediction


@pytest.fixture
def serve():
    from modelreg.serving.app import create_app
    from modelreg.serving.models import ModelTable

    model = Model()
    table = ModelTable([MODEL], "production", "registry.yaml", lambda answer: model)
    assert table.update(SAMPLE)

    def start(**options):
        return running(create_app(table, **options))
    start.model = model
    return start


def predict(client: httpx.Client, body: bytes | str, **kwargs) -> httpx.Response:
    return client.post(f"/models/{MODEL}/predict", content=body,
                       headers={"content-type": "application/json"}, **kwargs)


def test_a_body_over_the_default_limit_is_refused_quickly_and_the_server_still_answers(serve):
    big = json.dumps({"rows": [ROW] * 240_000}).encode()
    assert len(big) > 5_000_000
    with serve() as url, Client(url) as client:
        started = time.monotonic()
        response = predict(client, big)
        assert response.status_code == 413 and time.monotonic() - started < 5
        assert "4194304 bytes" in response.json()["detail"]
        assert predict(client, json.dumps({"rows": [ROW]})).status_code == 200

        def chunks():  # no Content-Length: the limit is counted while reading
            for start in range(0, len(big), 64 * 1024):
                yield big[start:start + 64 * 1024]

        response = predict(client, chunks())
        assert response.status_code == 413
        assert predict(client, json.dumps({"rows": [ROW]})).json()["predictions"] == [0.5]
    assert serve.model.seen == [[ROW], [ROW]]  # the model never saw the big bodies


def test_a_configured_limit(serve):
    body = json.dumps({"rows": [ROW]}).encode()
    with serve(max_body_bytes=len(body)) as url, Client(url) as client:
        assert predict(client, body).status_code == 200  # exactly at the limit
        assert predict(client, body + b" ").status_code == 413
        assert predict(client, iter([body[:10], body[10:], b" "])).status_code == 413  # chunked, one byte over
        assert predict(client, iter([body[:10], body[10:]])).status_code == 200
        assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("value, words", [
    ("NaN", "row 1, column 2: NaN is not a finite number"),
    ("Infinity", "row 1, column 2: Infinity is not a finite number"),
    ("-Infinity", "row 1, column 2: -Infinity is not a finite number"),
    ("1e999", "row 1, column 2: Infinity is not a finite number"),
    ("true", "row 1, column 2: a boolean (true) is not a number"),
    ('"a"', 'row 1, column 2: a string ("a") is not a number'),
    ("[1, 2]", "row 1, column 2: a list is not a number"),
    ('{"a": 1}', "row 1, column 2: an object is not a number"),
    ("null", "row 1, column 2: null is not a number"),
    ("1" + "0" * 400, "row 1, column 2: the integer is too large"),
])
def test_feature_values_that_are_not_finite_numbers_are_refused(serve, value, words):
    body = f'{{"rows": [[1, 2, 3, 4], [1, 2, {value}, 4]]}}'
    with serve() as url, Client(url) as client:
        response = predict(client, body)
        assert response.status_code == 422 and response.json()["detail"].startswith(words), response.text
        metrics = client.get("/metrics").text
        assert f'modelreg_requests_total{{model="{MODEL}",outcome="bad_request",version="v1.2.0"}} 1.0' in metrics
    assert serve.model.seen == []


@pytest.mark.parametrize("body, words", [
    ('{"rows": [[1, 2], [1]]}', "row 1 has 1 features but row 0 has 2"),
    ('{"rows": [[1], 2]}', "row 1 is int, not a list of features"),
    ('{"rows": []}', 'send {"rows"'),
    ("[[1, 2]]", 'send {"rows"'),
    ("{", "the body is not JSON"),
    ('{"rows": ' + "[" * 100_000 + "]" * 100_000 + "}", "the body nests too deeply"),
])
def test_malformed_requests(serve, body, words):
    with serve() as url, Client(url) as client:
        response = predict(client, body)
        assert response.status_code == 422 and words in response.json()["detail"], response.text


def test_allow_non_finite_accepts_nan_and_infinity_only(serve):
    with serve(allow_non_finite=True) as url, Client(url) as client:
        response = predict(client, '{"rows": [[NaN, 1], [Infinity, 2], [-Infinity, 3]]}')
        assert response.status_code == 200, response.text
        assert response.json()["predictions"] == [None, None, None]  # JSON has no NaN: sent as null
        assert predict(client, '{"rows": [[true, 1]]}').status_code == 422
        assert predict(client, '{"rows": [["a", 1]]}').status_code == 422


def test_the_serve_options(monkeypatch):
    from modelreg.cli import build_parser
    from modelreg.commands.serve import max_body_bytes
    from modelreg.core.problems import UsageError

    def parse(*argv):
        return build_parser("serve").parse_args(["serve", *argv])

    monkeypatch.delenv("MODELREG_MAX_BODY_BYTES", raising=False)
    args = parse()
    assert max_body_bytes(args) == 4 * 1024 * 1024 and not args.allow_non_finite and not args.allow_pickle
    monkeypatch.setenv("MODELREG_MAX_BODY_BYTES", "1000")
    assert max_body_bytes(parse()) == 1000
    assert max_body_bytes(parse("--max-body-bytes", "50")) == 50  # the flag wins
    monkeypatch.setenv("MODELREG_MAX_BODY_BYTES", "lots")
    with pytest.raises(UsageError, match="MODELREG_MAX_BODY_BYTES"):
        max_body_bytes(parse())
    with pytest.raises(UsageError, match="positive"):
        max_body_bytes(parse("--max-body-bytes", "0"))
    args = parse("--allow-non-finite", "--allow-pickle")
    assert args.allow_non_finite and args.allow_pickle
