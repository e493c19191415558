"""`modelreg serve` under a real uvicorn on 127.0.0.1, following a registry through git."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from conftest import git, retrain, run
from serving_support import Load, free_port

pytestmark = pytest.mark.slow
MODEL = "churn-classifier"


def modelreg(root: Path, *args: str) -> subprocess.CompletedProcess:
    return run([sys.executable, "-m", "modelreg", *args], root)


def version_md5(root: Path, version: str) -> str:
    from modelreg.core import yamlread

    data = yamlread.load((root / "models" / "registry.yaml").read_text(), "r")[0]
    return data["models"][MODEL]["versions"][version]["md5"]


def copy_to_registry(root: Path, version: str) -> None:
    from modelreg.adapters import dvc

    dvc.copy(root, version_md5(root, version), "candidates", "registry")


@pytest.fixture
def deployment(trained_repo):
    """An origin with v1.0.0 in production and v1.1.0 registered; the server's own clone of it."""
    base = trained_repo.parent
    origin = base / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(trained_repo), str(origin)], check=True)
    git("remote", "add", "origin", str(origin), cwd=trained_repo)
    modelreg(trained_repo, "promote", MODEL, "v1.0.0", "--to", "production", "--reason", "first", "--commit")
    copy_to_registry(trained_repo, "v1.0.0")
    retrain(trained_repo, "max_depth: 6", "max_depth: 9")
    modelreg(trained_repo, "register", MODEL, "--commit")
    copy_to_registry(trained_repo, "v1.1.0")
    git("push", "-q", "origin", "main", cwd=trained_repo)
    server = base / "server"  # beside the repo: the DVC remotes' relative URLs hold
    subprocess.run(["git", "clone", "-q", str(origin), str(server)], check=True)
    return trained_repo, server


@pytest.fixture
def server(deployment, tmp_path):
    _, clone = deployment
    port = free_port()
    env = {**os.environ, "MODELREG_CACHE": str(tmp_path / "cache"),
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    log = open(tmp_path / "server.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "modelreg", "serve", "--host", "127.0.0.1", "--port",
                                str(port), "--poll-seconds", "0.2", "--workers", "1"], cwd=clone, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        process.kill()
        raise AssertionError((tmp_path / "server.log").read_text())
    yield url, tmp_path / "cache"
    process.terminate()
    process.wait(timeout=20)
    log.close()


ROWS = json.loads((Path(__file__).resolve().parents[2] / "models" / MODEL / "sample.json").read_text())["rows"]


def wait_for(url: str, version: str, timeout: float = 60) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if httpx.get(f"{url}/models/{MODEL}", timeout=5).json()["version"] == version:
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"{version} was not served within {timeout}s: {httpx.get(f'{url}/healthz').json()}")


def test_promotion_swaps_with_no_failed_request_and_a_corrupt_version_is_refused(deployment, server):
    repo, _ = deployment
    url, cache = server
    info = httpx.get(f"{url}/models/{MODEL}").json()
    assert info["version"] == "v1.0.0" and info["stage"] == "production" and info["metrics"]["roc_auc"] > 0.5
    # the demo RandomForest answers with one predict_proba call, checked on its sample rows (if the repo has them)
    assert info["answer"].startswith("one pass (predictions from predict_proba, the forest's trees called directly, verified on "), info["answer"]
    assert info["batching"] == "requests gathered for at most 2 ms"
    with Load(url, ROWS) as load:
        time.sleep(0.5)
        modelreg(repo, "promote", MODEL, "v1.1.0", "--to", "production", "--reason", "deeper trees", "--commit")
        git("push", "-q", "origin", "main", cwd=repo)
        wait_for(url, "v1.1.0")
        time.sleep(0.5)
    statuses = [r[2] for r in load.results]
    versions = [r[3] for r in sorted(load.results, key=lambda r: r[1])]  # in the order answered
    assert len(statuses) > 50 and set(statuses) == {200}, (set(statuses), load.failures[:3])
    assert "v1.0.0" in versions and versions[-1] == "v1.1.0"
    first_new = versions.index("v1.1.0")
    assert versions[first_new:].count("v1.0.0") <= len(load.threads)  # only requests already in flight

    # now roll back to v1.0.0, whose bytes were tampered with in the remote and in the server's cache
    digest = version_md5(repo, "v1.0.0")
    cached = list(cache.glob(f"artifacts/{digest}/*"))
    assert len(cached) == 1  # the server kept the verified copy of what it served first
    for corrupt in [repo.parent / "remotes" / "registry" / "files" / "md5" / digest[:2] / digest[2:], *cached]:
        corrupt.chmod(0o644)
        corrupt.write_bytes(b"not a model")
    with Load(url, ROWS) as load:
        modelreg(repo, "rollback", MODEL, "--reason", "try the old one", "--commit")
        git("push", "-q", "origin", "main", cwd=repo)
        deadline = time.time() + 30
        while time.time() < deadline:
            health = httpx.get(f"{url}/healthz").json()
            if health["models"][MODEL]["last_error"]:
                break
            time.sleep(0.1)
        time.sleep(0.3)
    assert health["status"] == "degraded" and health["models"][MODEL]["version"] == "v1.1.0"
    assert "failed verification" in health["models"][MODEL]["last_error"]
    assert {r[2] for r in load.results} == {200}, load.failures[:3]
    assert {r[3] for r in load.results} == {"v1.1.0"}
    metrics = httpx.get(f"{url}/metrics").text
    assert f'modelreg_requests_total{{model="{MODEL}",outcome="ok",version="v1.1.0"}}' in metrics
    assert f'modelreg_last_update_failed{{model="{MODEL}"}} 1.0' in metrics
    assert "modelreg_request_duration_seconds_bucket" in metrics


def test_bad_requests(server):
    url, _ = server
    assert httpx.post(f"{url}/models/{MODEL}/predict", json={"rows": "x"}).status_code == 422
    assert httpx.post(f"{url}/models/{MODEL}/predict", json={"rows": [[1, 2]]}).status_code == 422  # wrong width
    assert httpx.post(f"{url}/models/other/predict", json={"rows": ROWS}).status_code == 404
    assert httpx.get(f"{url}/models/other").status_code == 404
    good = httpx.post(f"{url}/models/{MODEL}/predict", json={"rows": ROWS}).json()
    assert len(good["predictions"]) == len(ROWS) and len(good["probabilities"][0]) == 2


def test_limits_on_the_served_model(server):
    url, _ = server
    predict = f"{url}/models/{MODEL}/predict"
    big = json.dumps({"rows": ROWS * (5_000_000 // len(json.dumps(ROWS)) + 1)}).encode()
    assert len(big) > 5_000_000
    started = time.monotonic()
    response = httpx.post(predict, content=big, headers={"content-type": "application/json"}, timeout=10)
    assert response.status_code == 413 and time.monotonic() - started < 5, response.text
    assert httpx.post(predict, json={"rows": ROWS}).status_code == 200  # and it still answers
    for value, words in (("NaN", "NaN is not a finite number"), ("Infinity", "Infinity is not a finite number"),
                         ("true", "a boolean (true) is not a number"), ('"a"', 'a string ("a") is not a number'),
                         ("[1.0]", "a list is not a number")):
        features = [json.dumps(v) for v in ROWS[0]]
        features[3] = value
        body = '{"rows": [%s, [%s]]}' % (json.dumps(ROWS[0]), ", ".join(features))
        response = httpx.post(predict, content=body, headers={"content-type": "application/json"})
        assert response.status_code == 422 and response.json()["detail"].startswith(f"row 1, column 3: {words}")
    assert httpx.get(f"{url}/healthz").json()["status"] == "ok"


def test_github_contents_source_polls_with_etags(httpserver):
    import base64
    import hashlib

    from modelreg.serving.sources import GitHubSource

    content = {"text": "schema: 1\nmodels: {}\n"}
    seen = []

    def contents(request):
        from werkzeug.wrappers import Response

        etag = '"' + hashlib.sha1(content["text"].encode()).hexdigest() + '"'
        seen.append((request.headers.get("If-None-Match"), request.headers.get("Authorization")))
        if request.headers.get("If-None-Match") == etag:
            return Response(status=304, headers={"ETag": etag})
        body = {"type": "file", "encoding": "base64", "path": "models/registry.yaml",
                "content": base64.b64encode(content["text"].encode()).decode()}
        return Response(json.dumps(body), headers={"ETag": etag}, content_type="application/json")

    httpserver.expect_request("/repos/o/r/contents/models/registry.yaml").respond_with_handler(contents)
    source = GitHubSource(httpserver.url_for("/"), "o/r", "models/registry.yaml", "main", token="t")
    assert source.poll() == content["text"]
    assert source.poll() is None and source.poll() is None  # 304s: no rate limit spent
    content["text"] = "schema: 1\nmodels: {a: {}}\n"
    assert source.poll() == content["text"]
    assert [s[0] is None for s in seen] == [True, False, False, False] and seen[0][1] == "Bearer t"


def test_file_source_and_follower_keep_serving_through_a_bad_update(tmp_path):
    from modelreg.serving.models import Follower, ModelTable
    from modelreg.serving.sources import FileSource

    from conftest import SAMPLE

    path = tmp_path / "registry.yaml"
    path.write_text(SAMPLE)
    source = FileSource(path)
    loaded = []

    def loader(answer):
        if answer.version == "v1.0.0":
            raise ValueError("bytes failed verification")
        loaded.append(answer.version)
        return object()

    table = ModelTable(["churn-classifier"], "production", "registry.yaml", loader)
    follower = Follower(table, source, interval=60, retry_every=2)
    assert follower.poll_once() == ["churn-classifier - -> v1.2.0"]
    assert follower.poll_once() == []  # unchanged file: nothing read twice
    path.write_text(SAMPLE.replace("production: v1.2.0", "production: v1.0.0"))
    assert follower.poll_once() == []  # the new version fails to load ...
    assert table.get("churn-classifier").version == "v1.2.0"  # ... and the old one keeps serving
    assert "failed verification" in table.status["churn-classifier"].last_error
    follower.poll_once()  # unchanged, but a failure is retried every `retry_every` polls
    assert loaded == ["v1.2.0"] and table.status["churn-classifier"].failed_md5 is not None
    path.write_text("not: [valid")
    assert follower.poll_once() == [] and table.get("churn-classifier").version == "v1.2.0"
