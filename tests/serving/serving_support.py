"""A real uvicorn on 127.0.0.1 in a thread, for tests that build the app themselves; and `modelreg serve`
as a real process over a small real registry (TinyDeployment, serving)."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running(app):
    """Serve `app` until the block ends; yields its base URL."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, name="test-uvicorn", daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise AssertionError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=20)


class Client(httpx.Client):
    """An httpx client on a base URL."""

    def __init__(self, url: str, **kwargs):
        super().__init__(base_url=url, timeout=kwargs.pop("timeout", 10), **kwargs)


# ---- `modelreg serve` as a real process over a small real registry (no DVC pipeline to run) ----

MODEL = "churn-classifier"
HISTORY = "      - {{at: '2026-01-0{day}T00:00:00Z', by: alice, stage: production, version: {version}, " \
          "previous: {previous}, reason: test}}\n"


class TinyDeployment:
    """A git repository whose registry names real skops RandomForests, stored in a local DVC remote in
    its content-addressed layout: what `modelreg serve` pulls, verifies and loads, built in a second
    instead of by a DVC pipeline. v1.0.0 holds production; v1.1.0 (deeper trees) answers differently;
    v1.2.0 is registered but its bytes in the remote are tampered with."""

    def __init__(self, base: Path):
        import hashlib

        import skops.io
        from sklearn.datasets import make_classification
        from sklearn.ensemble import RandomForestClassifier

        self.root, remote = base / "repo", base / "remotes" / "registry"
        (self.root / "models" / MODEL).mkdir(parents=True)
        (self.root / ".dvc").mkdir()
        (self.root / ".dvc" / "config").write_text(
            f"[core]\n    remote = registry\n['remote \"registry\"']\n    url = {remote}\n")
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=self.root, check=True)
        features, labels = make_classification(n_samples=300, n_features=4, random_state=7)
        self.rows = features[:20].tolist()
        self.answers, self.versions = {}, {}
        for version, depth in (("v1.0.0", 2), ("v1.1.0", 6), ("v1.2.0", 4)):
            model = RandomForestClassifier(n_estimators=8, max_depth=depth, random_state=1).fit(features, labels)
            data = skops.io.dumps(model)
            md5 = hashlib.md5(data).hexdigest()
            stored = remote / "files" / "md5" / md5[:2] / md5[2:]
            stored.parent.mkdir(parents=True, exist_ok=True)
            stored.write_bytes(data if version != "v1.2.0" else b"not a model")
            self.versions[version] = (md5, len(data))
            self.answers[version] = (model.predict(self.rows).tolist(), model.predict_proba(self.rows).tolist())
        (self.root / "models" / MODEL / "sample.json").write_text(json.dumps({"rows": self.rows[:5]}))
        self.history = []
        self.promote("v1.0.0")

    def promote(self, version: str) -> None:
        """Write the registry with `version` holding production (the file source picks it up)."""
        self.history.append(version)
        lines = ["schema: 1\nmodels:\n", f"  {MODEL}:\n", f"    path: models/{MODEL}/model.skops\n",
                 "    format: skops\n    owners: [alice]\n    metric: {name: roc_auc, goal: max}\n",
                 f"    stages: {{production: {version}}}\n", "    versions:\n"]
        for name, (md5, size) in self.versions.items():
            lines.append(f"      {name}: {{md5: {md5}, size: {size}, created: '2026-01-01T00:00:00Z', "
                         "metrics: {roc_auc: 0.9}}\n")
        lines.append("    history:\n")
        for day, name in enumerate(self.history, start=1):
            lines.append(HISTORY.format(day=day, version=name, previous=self.history[day - 2] if day > 1 else "null"))
        path = self.root / "models" / "registry.yaml"
        temporary = path.with_name("registry.yaml.tmp")
        temporary.write_text("".join(lines))
        temporary.replace(path)  # the server never reads half a file


@contextlib.contextmanager
def serving(root: Path, tmp: Path, *args: str, workers: int | None = None, timeout: float = 180):
    """`modelreg serve --source file` in `root` as a process, with its own cache and TMPDIR; yields
    (process, url) once /healthz is ok and lists `workers` workers (when several); terminated at the end."""
    port = free_port()
    (tmp / "tmp").mkdir(exist_ok=True)
    env = {**os.environ, "MODELREG_CACHE": str(tmp / "cache"), "TMPDIR": str(tmp / "tmp"),
           "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    log_path = tmp / "server.log"
    command = [sys.executable, "-m", "modelreg", "serve", "--source", "file", "--host", "127.0.0.1",
               "--port", str(port), "--poll-seconds", "0.1", *args]
    if workers is not None:
        command += ["--workers", str(workers)]
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    try:
        while True:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not come up:\n{log_path.read_text()}")
            try:
                health = httpx.get(f"{url}/healthz", timeout=2)
                if health.status_code == 200 and len(health.json().get("workers", [None])) == (workers or 1):
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        yield process, url
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Load:
    """Client threads sending predict requests until stopped, recording (started, ended, status, version,
    worker pid, body) per request and the bodies of failed answers. fresh_connections: each request on a
    new connection, so the kernel hands them to every worker of a multi-worker server."""

    def __init__(self, url: str, rows: list, threads: int = 4, fresh_connections: bool = False):
        self.url, self.rows, self.stop, self.results, self.failures = url, rows, threading.Event(), [], []
        self.limits = httpx.Limits(max_keepalive_connections=0) if fresh_connections else httpx.Limits()
        self.threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self) -> None:
        with httpx.Client(timeout=30, limits=self.limits) as client:
            while not self.stop.is_set():
                started = time.monotonic()
                try:
                    response = client.post(f"{self.url}/models/{MODEL}/predict", json={"rows": self.rows})
                    body = response.json() if response.status_code == 200 else {"error": response.text[:500]}
                    if response.status_code != 200:
                        self.failures.append(body["error"])
                    self.results.append((started, time.monotonic(), response.status_code, body.get("version"),
                                         response.headers.get("x-modelreg-worker"), body))
                except httpx.HTTPError as error:
                    self.results.append((started, time.monotonic(), repr(error), None, None, {}))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join()
