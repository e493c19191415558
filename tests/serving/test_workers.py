"""`modelreg serve --workers N`: one follower in the supervisor feeds N uvicorn worker processes.

The fast tests drive the pieces in this process: the supervisor's snapshot, a worker's Mirror and
Watcher, the janitor. The last one runs the real command (real processes, real uvicorn on 127.0.0.1,
real skops models pulled from a local DVC remote and verified) with two workers and batching on."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import SAMPLE
from serving_support import MODEL, Client, Load, TinyDeployment, running, serving

PROMOTED = SAMPLE.replace("production: v1.2.0", "production: v1.3.0")


class Model:
    def __init__(self, version: str):
        self.version = version

    def predict(self, rows):
        return [0 for _ in rows]


def supervisor_table(refuse: str | None = None):
    from modelreg.serving.models import ModelTable

    def loader(answer):
        if answer.version == refuse:
            raise ValueError(f"{answer.name} {answer.version} failed verification: expected sha256 x, got y")
        return Model(answer.version)

    table = ModelTable([MODEL], "production", "registry.yaml", loader)
    table.drop_models()  # as the supervisor's table is once the workers are forked
    return table


class Follower:
    """The attributes of serving.models.Follower that the snapshot reads."""

    running, stopped_unexpectedly, error_count, last_poll = True, False, 0, None
    last_poll_error = last_update_error = None


# ---- the pieces, in this process -----------------------------------------------------------------

def test_workers_must_be_a_positive_number(capsys):
    from modelreg.cli import main

    for value in ("0", "-3"):
        assert main(["serve", "--workers", value]) == 2
        assert f"--workers must be a positive number of processes (1 serves in this process), not {value}" \
            in capsys.readouterr().err


def test_the_default_is_every_cpu_this_process_may_use():
    from modelreg.serving.workers import default_workers

    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert default_workers() == expected >= 1


def test_a_worker_mirrors_what_the_supervisor_accepted_and_shows_its_refusal():
    from modelreg.serving.app import create_app
    from modelreg.serving.workers import Mirror, snapshot

    table, follower = supervisor_table(refuse="v1.3.0"), Follower()
    table.update(SAMPLE)
    assert table.get(MODEL).model is None and table.get(MODEL).resolved.version == "v1.2.0"  # checked, not kept
    loads = []
    mirror = Mirror([MODEL], "production", lambda answer: loads.append(answer.md5) or Model(answer.version))
    mirror.apply(json.loads(json.dumps(snapshot(table, follower))))  # as the file carries it
    assert mirror.get(MODEL).model.version == "v1.2.0" and mirror.get(MODEL).metrics["roc_auc"] == 0.842
    assert loads == [table.get(MODEL).md5]

    table.update(PROMOTED)  # the supervisor refuses v1.3.0 and keeps v1.2.0: so does every worker
    mirror.apply(json.loads(json.dumps(snapshot(table, follower))))
    assert mirror.get(MODEL).version == "v1.2.0" and len(loads) == 1
    assert "failed verification" in mirror.status[MODEL].last_error
    with running(create_app(mirror, mirror.follower, peers=lambda: [mirror.report()])) as url, Client(url) as client:
        health = client.get("/healthz")
        assert health.json()["status"] == "degraded" and health.json()["models"][MODEL]["version"] == "v1.2.0"
        assert health.json()["worker"] == os.getpid() == int(health.headers["x-modelreg-worker"])
        assert health.json()["workers"] == [{"pid": os.getpid(), "models": {MODEL: "v1.2.0"}, "last_error": None}]
        answer = client.post(f"/models/{MODEL}/predict", json={"rows": [[1.0]]})
        assert answer.json()["version"] == "v1.2.0" and answer.headers["x-modelreg-worker"] == str(os.getpid())
        assert f'modelreg_last_update_failed{{model="{MODEL}"}} 1.0' in client.get("/metrics").text


def test_a_worker_that_cannot_load_an_accepted_version_keeps_the_old_one_says_so_and_retries(monkeypatch):
    from modelreg.serving import workers
    from modelreg.serving.workers import Mirror, snapshot

    table, follower = supervisor_table(), Follower()
    table.update(SAMPLE)
    failing = {"v1.3.0"}

    def loader(answer):
        if answer.version in failing:
            raise MemoryError()
        return Model(answer.version)

    mirror = Mirror([MODEL], "production", loader)
    mirror.apply(snapshot(table, follower))
    table.update(PROMOTED)  # the supervisor accepted v1.3.0; this worker cannot load it
    mirror.apply(snapshot(table, follower))
    assert mirror.get(MODEL).version == "v1.2.0" and mirror.behind
    assert mirror.status[MODEL].last_error == f"worker {os.getpid()} could not load {MODEL} v1.3.0 " \
                                              f"({table.get(MODEL).md5}): MemoryError"
    assert mirror.report()["last_error"] == mirror.status[MODEL].last_error and mirror.follower.error_count == 1
    failing.clear()
    mirror.apply(snapshot(table, follower))  # the same md5 again: not before RETRY_SECONDS
    assert mirror.get(MODEL).version == "v1.2.0"
    monkeypatch.setattr(workers, "RETRY_SECONDS", 0.0)
    assert mirror.apply(snapshot(table, follower)) == [f"{MODEL} v1.2.0 -> v1.3.0"]
    assert mirror.status[MODEL].last_error is None and not mirror.behind


def test_the_state_file_reaches_the_watcher_and_a_dead_workers_live_gauges_are_removed(tmp_path):
    from modelreg.serving.workers import Mirror, Publisher, Watcher

    table = supervisor_table()
    table.update(SAMPLE)
    (tmp_path / "metrics").mkdir()
    (tmp_path / "workers").mkdir()
    publisher = Publisher(table, Follower(), tmp_path)
    publisher.publish()
    mirror = Mirror([MODEL], "production", lambda answer: Model(answer.version))
    watcher = Watcher(mirror, tmp_path)
    watcher.sync()
    assert mirror.get(MODEL).version == "v1.2.0"
    assert watcher.peers() == [{"pid": os.getpid(), "models": {MODEL: "v1.2.0"}, "last_error": None}]
    table.update(PROMOTED)
    publisher.publish()
    watcher.sync()
    assert mirror.get(MODEL).version == "v1.3.0" and watcher.peers()[0]["models"] == {MODEL: "v1.3.0"}

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    files = {name: tmp_path / "metrics" / f"{name}_{dead.pid}.db"
             for name in ("counter", "histogram", "gauge_livemax", "gauge_livemin")}
    for path in files.values():
        path.write_bytes(b"")
    (tmp_path / "workers" / f"{dead.pid}.json").write_text(json.dumps({"pid": dead.pid, "models": {},
                                                                       "last_error": None}))
    assert [peer["pid"] for peer in watcher.peers()] == [os.getpid()]  # a dead worker is not shown
    publisher.bury_the_dead()
    assert files["counter"].exists() and files["histogram"].exists()  # its requests still count
    assert not files["gauge_livemax"].exists() and not files["gauge_livemin"].exists()
    assert not (tmp_path / "workers" / f"{dead.pid}.json").exists()
    watcher.close(str(tmp_path / "metrics"))
    assert not (tmp_path / "workers" / f"{os.getpid()}.json").exists()


# ---- the real command, two workers, batching on -----------------------------------------------------
# One server for all of it: starting three Python processes that import scikit-learn is most of the cost.

def metric(text: str, line_start: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(line_start))


def healthz(url: str) -> httpx.Response:
    return httpx.get(f"{url}/healthz", headers={"connection": "close"})  # a new connection: any worker


def wait_for_results(load: Load, count: int, after: float = 0.0) -> None:
    """Wait until `count` requests sent after `after` were answered."""
    deadline = time.monotonic() + 60
    while sum(1 for r in list(load.results) if r[0] > after) < count and time.monotonic() < deadline:
        time.sleep(0.02)


def everywhere(url: str, version: str) -> float:
    """Wait until every worker serves `version`; returns when that was seen."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        health = healthz(url).json()
        if len(health["workers"]) == 2 and all(w["models"][MODEL] == version for w in health["workers"]):
            return time.monotonic()
        time.sleep(0.05)
    raise AssertionError(f"{version} did not reach every worker: {health}")


def swap_under_load(url: str, deployment: TinyDeployment) -> tuple[list, float]:
    """Promote v1.1.0, then the tampered v1.2.0, under a steady load on new connections; returns the
    results and when every worker was seen serving v1.1.0."""
    with Load(url, deployment.rows, threads=4, fresh_connections=True) as load:
        wait_for_results(load, 20)
        deployment.promote("v1.1.0")
        swapped = everywhere(url, "v1.1.0")
        wait_for_results(load, 20, after=swapped)
        deployment.promote("v1.2.0")  # its bytes in the remote are tampered with: refused, v1.1.0 stays
        deadline = time.monotonic() + 60
        while healthz(url).json()["status"] != "degraded" and time.monotonic() < deadline:
            time.sleep(0.05)
        wait_for_results(load, 10, after=time.monotonic())
    return sorted(load.results), swapped


def check_answers(results: list, swapped: float, deployment: TinyDeployment, pids: set[int]) -> None:
    assert len(results) >= 50 and {r[2] for r in results} == {200}, [r for r in results if r[2] != 200][:3]
    # (a) both workers answered
    assert {int(r[4]) for r in results} == pids
    # each answer is exactly one version's answer to all its rows: never half of one and half of another
    for _, _, _, version, _, body in results:
        predictions, probabilities = deployment.answers[version]
        assert body["predictions"] == predictions
        assert max(abs(a - b) for got, want in zip(body["probabilities"], probabilities)
                   for a, b in zip(got, want)) < 1e-9
    assert {r[3] for r in results} == {"v1.0.0", "v1.1.0"}
    # no request sent after every worker had swapped got the old version; no worker ever went back to it
    assert all(r[3] == "v1.1.0" for r in results if r[0] > swapped)
    for pid in pids:
        ends_of_new = [r[1] for r in results if int(r[4]) == pid and r[3] == "v1.1.0"]
        assert not any(r[3] == "v1.0.0" and ends_of_new and r[0] > min(ends_of_new)
                       for r in results if int(r[4]) == pid)


def check_the_refusal_is_shown_by_every_worker(url: str, pids: set[int]) -> None:
    seen = set()
    deadline = time.monotonic() + 30
    while seen != pids and time.monotonic() < deadline:
        health = healthz(url)
        body = health.json()
        assert health.status_code == 200 and body["status"] == "degraded", body
        assert "failed verification" in body["models"][MODEL]["last_error"]
        assert body["models"][MODEL]["version"] == "v1.1.0" and body["worker"] in pids
        assert [w["models"][MODEL] for w in body["workers"]] == ["v1.1.0", "v1.1.0"]
        seen.add(int(health.headers["x-modelreg-worker"]))
    assert seen == pids


def check_metrics_add_up(url: str, results: list, deployment: TinyDeployment, pids: set[int]) -> None:
    """(b) /metrics counts every worker's requests, whichever worker answers the scrape."""
    old, new = deployment.versions["v1.0.0"][0], deployment.versions["v1.1.0"][0]
    scrapers = set()
    for _ in range(100):
        scrape = httpx.get(f"{url}/metrics", headers={"connection": "close"})
        text = scrape.text
        for version in ("v1.0.0", "v1.1.0"):
            count = sum(1 for r in results if r[3] == version)
            assert metric(text, f'modelreg_requests_total{{model="{MODEL}",outcome="ok",version="{version}"}}') \
                == count, (version, scrape.headers["x-modelreg-worker"])
            assert metric(text, f'modelreg_request_duration_seconds_count{{model="{MODEL}",version="{version}"}}') \
                == count
        assert f'modelreg_model_info{{md5="{new}",model="{MODEL}",version="v1.1.0"}} 1.0' in text
        assert f'modelreg_model_info{{md5="{old}",model="{MODEL}",version="v1.0.0"}} 0.0' in text
        assert f'modelreg_last_update_failed{{model="{MODEL}"}} 1.0' in text and "modelreg_follower_up 1.0" in text
        scrapers.add(int(scrape.headers["x-modelreg-worker"]))
        if scrapers == pids:
            break
    assert scrapers == pids


def check_a_dead_worker_is_buried(url: str, run_dir, pids: set[int], answered: int) -> None:
    """(d) a worker that dies: its live gauges and its state go, its counts stay."""
    victim = min(pids)
    assert list(run_dir.glob(f"metrics/gauge_live*_{victim}.db")) and (run_dir / "workers" / f"{victim}.json").exists()
    os.kill(victim, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (list(run_dir.glob(f"metrics/gauge_live*_{victim}.db"))
                                           or (run_dir / "workers" / f"{victim}.json").exists()):
        time.sleep(0.1)
    assert not list(run_dir.glob(f"metrics/gauge_live*_{victim}.db"))
    assert not (run_dir / "workers" / f"{victim}.json").exists()
    health = healthz(url).json()
    assert victim not in {worker["pid"] for worker in health["workers"]}, health
    text = httpx.get(f"{url}/metrics").text
    assert metric(text, f'modelreg_requests_total{{model="{MODEL}",outcome="ok"') == answered


def check_a_dead_worker_is_replaced(url: str, pids: set[int], log_path) -> None:
    """(e) a new worker takes the dead one's place and serves the version the supervisor serves now (it was
    started after the swap, so it loaded v1.1.0 from the cache, not the v1.0.0 the first workers were born with)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        workers = healthz(url).json()["workers"]
        if len(workers) == 2:
            break
        time.sleep(0.2)
    assert len(workers) == 2, workers
    newcomer = {worker["pid"] for worker in workers} - pids
    assert len(newcomer) == 1 and workers[[w["pid"] for w in workers].index(min(newcomer))]["models"] == \
        {MODEL: "v1.1.0"}, workers
    log = log_path.read_text()
    assert f"worker {min(newcomer)} now serves {MODEL} v1.1.0" in log


def check_the_first_workers_were_forked_with_the_model(pids: set[int], log_path) -> None:
    """(f) the first workers answered with the supervisor's loaded model: none of them loaded v1.0.0."""
    log = log_path.read_text()
    for pid in pids:
        assert f"worker {pid} serves {MODEL} v1.0.0" in log and "loaded before it was forked" in log
        assert f"worker {pid} now serves {MODEL} v1.0.0" not in log


@pytest.mark.slow
def test_two_workers_with_batching_swap_under_load_add_up_their_metrics_and_leave_nothing_behind(tmp_path):
    deployment = TinyDeployment(tmp_path)
    with serving(deployment.root, tmp_path, "--batch-ms", "5", workers=2) as (process, url):
        health = healthz(url).json()
        pids = {worker["pid"] for worker in health["workers"]}
        assert len(pids) == 2 and process.pid not in pids and health["status"] == "ok"
        run_dirs = list((tmp_path / "tmp").glob("modelreg-serve-*"))
        assert len(run_dirs) == 1 and (run_dirs[0] / "metrics").is_dir()

        results, swapped = swap_under_load(url, deployment)  # (c), answered by both workers (a)
        check_answers(results, swapped, deployment, pids)
        check_the_refusal_is_shown_by_every_worker(url, pids)
        check_metrics_add_up(url, results, deployment, pids)  # (b)
        check_a_dead_worker_is_buried(url, run_dirs[0], pids, len(results))  # (d)
        check_a_dead_worker_is_replaced(url, pids, tmp_path / "server.log")  # (e)
        check_the_first_workers_were_forked_with_the_model(pids, tmp_path / "server.log")  # (f)

    # the server stopped (SIGTERM): the run directory, and the multiprocess directory in it, are gone
    assert process.returncode == 0, (tmp_path / "server.log").read_text()[-3000:]
    assert not run_dirs[0].exists() and not list((tmp_path / "tmp").glob("modelreg-serve-*"))


def running_pid(pid: int) -> bool:
    """The process exists and is not a zombie (a container's init may never reap an orphan)."""
    try:
        state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_workers_stop_when_the_supervisor_is_killed(tmp_path):
    """A supervisor killed with SIGKILL cannot stop its workers: Linux does (PR_SET_PDEATHSIG), so no
    orphan keeps the port and answers with versions nothing follows any more."""
    deployment = TinyDeployment(tmp_path)
    with serving(deployment.root, tmp_path, workers=2) as (process, url):
        pids = {worker["pid"] for worker in healthz(url).json()["workers"]}
        assert len(pids) == 2 and all(running_pid(pid) for pid in pids)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(running_pid(pid) for pid in pids):
            time.sleep(0.1)
        assert not any(running_pid(pid) for pid in pids)
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/healthz", timeout=5)


def test_the_shared_socket_is_tcp_so_every_connection_gets_tcp_nodelay():
    """uvicorn's bind_socket makes a proto-0 socket, and asyncio sets TCP_NODELAY only on sockets that say
    they are TCP: a response written in two sends then waited ~40 ms for the client's delayed ACK."""
    import asyncio
    import socket

    from modelreg.serving.workers import listening_socket

    async def nodelay_of_an_accepted_connection(sock) -> int:
        accepted = asyncio.get_running_loop().create_future()

        class Probe(asyncio.Protocol):
            def connection_made(self, transport):
                accepted.set_result(transport.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP,
                                                                                  socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Probe, sock=sock)
        _, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        try:
            return await asyncio.wait_for(accepted, 10)
        finally:
            writer.close()
            server.close()

    ours = listening_socket("127.0.0.1", 0)
    assert ours.proto == socket.IPPROTO_TCP and ours.get_inheritable()
    assert asyncio.run(nodelay_of_an_accepted_connection(ours)) != 0
    plain = socket.socket(socket.AF_INET)  # what uvicorn's bind_socket makes
    plain.bind(("127.0.0.1", 0))
    plain.listen()
    assert asyncio.run(nodelay_of_an_accepted_connection(plain)) == 0  # why the proto matters


def test_a_port_in_use_is_refused_with_what_to_do():
    import socket

    from modelreg.core.problems import ModelregError
    from modelreg.serving.workers import listening_socket

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    port = busy.getsockname()[1]
    try:
        with pytest.raises(ModelregError, match=rf"cannot listen on 127\.0\.0\.1:{port}: .*choose another --port"):
            listening_socket("127.0.0.1", port)
    finally:
        busy.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forked workers need fork")
def test_a_model_that_predicts_with_openmp_does_not_hang_the_forked_workers():
    """libgomp cannot be forked once it ran a thread pool: with several workers every process runs one OpenMP
    thread (one_openmp_thread, before the first check), so a worker forked after it can predict. Without it
    the forked child hangs: what the test would see if serve stopped calling it."""
    script = Path(__file__).with_name("fork_after_check.py")

    def child_status(mode: str) -> int:
        env = {**os.environ, "OMP_NUM_THREADS": "2"}  # a pool of 2 threads, however many CPUs there are
        done = subprocess.run([sys.executable, str(script), mode, "15"], capture_output=True, text=True, timeout=300,
                              env=env)
        assert done.returncode == 0, done.stderr[-3000:]
        return int(done.stdout.split()[-1])

    assert child_status("serve") == 0
    hung = child_status("plain")
    assert os.WIFSIGNALED(hung) and os.WTERMSIG(hung) == signal.SIGALRM  # the hang the first check avoids
