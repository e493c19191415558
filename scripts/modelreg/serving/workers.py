"""`modelreg serve --workers N`: one follower in the supervisor process feeds N worker processes.

The supervisor (the process `modelreg serve` starts in) reads the registry and pulls, verifies (md5,
sha256, release signature), loads and checks each served version once, as `--workers 1` does. Before it
starts any thread it forks the workers (`WorkerPool`): they inherit the loaded models and the imported
serving stack, so they answer at once; each runs uvicorn on the socket the supervisor bound. Then the
supervisor drops its models (`ModelTable.drop_models`), starts the Follower, and a `Publisher` thread
writes what it accepted, and every model's and the follower's status, to `state.json` in a run directory
it creates (atomically: a new file renamed over the old one). A worker that dies is replaced by a spawned
process running `worker_app` (forking a process that runs threads could copy a held lock).

Each worker's `Watcher` looks at `state.json` every POLL_SECONDS; when the supervisor has accepted a
version the worker does not serve, the worker loads it from the verified cache (hashed again) and swaps
it in by replacing one reference, exactly as `--workers 1` swaps: requests in flight finish on the model
they took, a batch takes its version once, and each response names its version. A spawned worker loads
what the supervisor serves before it takes its first request.

Each worker writes its own state to `workers/PID.json`, so /healthz answered by any worker shows
every live worker (`workers`). prometheus-client's multiprocess mode aggregates /metrics: the run
directory's `metrics/` is PROMETHEUS_MULTIPROC_DIR, counters and histograms add up over every worker
(dead ones included), gauges show the live workers' max. A worker that exits cleans up after itself
(`mark_process_dead`, its state file); the supervisor does the same for a worker that died, and
removes the whole run directory when it stops.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable

from ..core.lookup import Resolved
from ..core.problems import ModelregError
from ..views.terminal import safe
from .models import Background, Served, Status, _answerer, describe

log = logging.getLogger("modelreg.serve")

APP = "modelreg.serving.workers:worker_app"
RUN_DIR_ENV = "MODELREG_SERVE_DIR"  # the run directory, for the workers
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
POLL_SECONDS = 0.1  # how often the supervisor publishes and the workers look
RETRY_SECONDS = 5.0  # a worker that failed to load an accepted version tries it again this often
JANITOR_SECONDS = 1.0  # how often the supervisor looks for workers that died
RESPAWN_SECONDS = 5.0  # after a worker could not be started, the next try waits this long


def default_workers() -> int:
    """The CPUs this process may run on (its affinity), else the machine's count."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not on Linux
        return max(1, os.cpu_count() or 1)


def alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would end the process there: trust the files
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process holds the pid: not ours, but it exists
        return True
    except OSError:
        return False
    return True


def _write(path: Path, data: dict) -> None:
    """Replace `path` with `data` in one step: a reader sees the old file or the new one, never part."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data, sort_keys=True, default=str))
    os.replace(temporary, path)


# ---- the supervisor ---------------------------------------------------------------------------------

def snapshot(table, follower) -> dict:
    """What the supervisor's table serves and how its follower fares, as plain data for the workers."""
    models = {}
    for name in table.names:
        current, status = table.get(name), table.status[name]
        served = None
        if current is not None and current.resolved is not None:
            served = {"version": current.version, "md5": current.md5, "stage": current.stage,
                      "metrics": current.metrics, "signature": current.signature,
                      "resolved": dataclasses.asdict(current.resolved)}
        models[name] = {"served": served, "status": dataclasses.asdict(status)}
    return {"models": models,
            "follower": {"running": follower.running, "stopped_unexpectedly": follower.stopped_unexpectedly,
                         "errors": follower.error_count, "last_poll": follower.last_poll,
                         "last_poll_error": follower.last_poll_error,
                         "last_update_error": follower.last_update_error}}


class Publisher(Background):
    """In the supervisor: writes the snapshot to state.json whenever it changes, and buries dead workers
    (removes their live gauges with `mark_process_dead`, and their state files)."""

    thread_name = "modelreg-publisher"

    def __init__(self, table, follower, run_dir: Path):
        super().__init__()
        self.table, self.follower, self.run_dir = table, follower, run_dir
        self.metrics_dir, self.workers_dir = run_dir / "metrics", run_dir / "workers"
        self._last: str | None = None
        self._buried: set[int] = set()
        self.seen: set[int] = set()  # workers that came up

    def publish(self, starting: bool = False) -> None:
        """`starting`: the follower is about to start (after the workers are forked): say it runs."""
        data = snapshot(self.table, self.follower)
        if starting:
            data["follower"]["running"] = True
        text = json.dumps(data, sort_keys=True, default=str)
        if text != self._last:
            _write(self.run_dir / "state.json", data)
            self._last = text

    def bury_the_dead(self) -> None:
        from prometheus_client.multiprocess import mark_process_dead

        pids = set()  # metrics/counter_PID.db, metrics/gauge_livemax_PID.db..., workers/PID.json
        for path in [*self.metrics_dir.glob("*.db"), *self.workers_dir.glob("*.json")]:
            try:
                pids.add(int(path.stem.rsplit("_", 1)[-1]))
            except ValueError:
                continue
        self.seen |= {int(path.stem) for path in self.workers_dir.glob("*.started") if path.stem.isdigit()}
        for pid in pids:
            if pid in self._buried or pid == os.getpid() or alive(pid):
                continue
            report = self.workers_dir / f"{pid}.json"
            died = report.exists()  # a worker that exits cleanly removes it itself: this one died
            report.unlink(missing_ok=True)  # first: once its gauges are gone, so is its state
            mark_process_dead(pid, str(self.metrics_dir))  # its counts stay, its live gauges go
            if died:
                log.warning("worker %d died; its live gauges and its state were removed", pid)
            self._buried.add(pid)

    def _run(self) -> None:
        janitor = time.monotonic()
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.publish()
                if time.monotonic() - janitor >= JANITOR_SECONDS:
                    janitor = time.monotonic()
                    self.bury_the_dead()
            except BaseException as error:  # the workers' only news: this thread must not die
                try:
                    log.error("cannot publish the served versions to the workers: %s", describe(error))
                except BaseException:
                    pass


def listening_socket(host: str, port: int) -> socket.socket:
    """The one socket every worker accepts on, bound here so that a worker started later shares it.

    Made with proto=IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and
    uvicorn's own `bind_socket` (proto 0) leaves Nagle on, so a response written in two sends waits for
    the client's delayed ACK (~40 ms per request)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as error:
        sock.close()
        raise ModelregError(f"cannot listen on {host}:{port}: {error.strerror or error}; "
                            "choose another --port or stop what uses it") from None
    sock.set_inheritable(True)
    return sock


class WorkerPool:
    """The worker processes, in the supervisor.

    The first N are forked from the supervisor once it has loaded and checked every served version,
    before it starts any thread: they start with the models in memory (shared copy-on-write pages) and
    answer at once, instead of each importing the serving stack and loading every model again. A worker
    that dies is replaced by a spawned process (a fresh interpreter: the supervisor has threads by then,
    and forking a process with threads can copy a lock another thread holds); the replacement loads what
    the supervisor serves from the verified cache before it takes a request, as `worker_app` says."""

    def __init__(self, sock: socket.socket, host: str, port: int):
        self.sock, self.host, self.port = sock, host, port
        self.forked: set[int] = set()
        self.spawned: list[Any] = []
        self.stopping = False
        self.asked = False  # SIGINT or SIGTERM arrived (a plain flag: a handler must take no lock)
        self.previous: dict = {}  # the signal handlers catch_signals replaced
        self.wanted = 0  # workers to keep running
        self.next_spawn = 0.0  # after a failed start, the next try waits (no respawn storm)

    @property
    def running(self) -> int:
        return len(self.forked) + len(self.spawned)

    def fork(self, served: dict[str, Served]) -> int:
        pid = os.fork()
        if pid:
            self.forked.add(pid)
            return pid
        code = 1  # the child: never return into the supervisor's stack
        try:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            import uvicorn

            app = build_worker_app(served)
            config = uvicorn.Config(app, host=self.host, port=self.port, log_level="info",
                                    timeout_graceful_shutdown=10)
            uvicorn.Server(config).run(sockets=[self.sock])  # re-raises the SIGTERM it caught, once done
            code = 0
        except BaseException as error:
            try:
                log.error("worker %d stopped: %s", os.getpid(), describe(error))
            except BaseException:
                pass
        finally:
            try:
                logging.shutdown()
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
        return 0  # not reached

    def spawn(self) -> None:
        import uvicorn
        from uvicorn._subprocess import get_subprocess

        config = uvicorn.Config(APP, factory=True, host=self.host, port=self.port, log_level="info",
                                timeout_graceful_shutdown=10)
        process = get_subprocess(config=config, target=uvicorn.Server(config).run, sockets=[self.sock])
        process.start()
        self.spawned.append(process)

    def reap(self) -> list[int]:
        """Forget the workers that exited; returns their pids."""
        gone = []
        for pid in list(self.forked):
            try:
                done, _ = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done = pid
            if done:
                self.forked.discard(pid)
                gone.append(pid)
        for process in list(self.spawned):
            if not process.is_alive():
                process.join()
                self.spawned.remove(process)
                gone.append(process.pid)
        return gone

    def replace_the_dead(self) -> None:
        for pid in self.reap():
            if not self.stopping:
                log.warning("worker %d exited; starting a new one", pid)
        while not self.stopping and self.running < self.wanted and time.monotonic() >= self.next_spawn:
            try:
                self.spawn()
                self.next_spawn = time.monotonic() + 1.0  # a worker that dies as it starts: one a second
            except Exception as error:  # keep serving with the workers left; try again later
                log.error("cannot start a worker: %s; trying again in %g s", describe(error), RESPAWN_SECONDS)
                self.next_spawn = time.monotonic() + RESPAWN_SECONDS

    def catch_signals(self) -> None:
        """From now on SIGINT and SIGTERM ask `supervise` to stop (set before the first fork, so that no
        signal can end the supervisor between forking and supervising and leave its workers behind)."""
        def stop(signum, frame) -> None:
            self.asked = True

        self.previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGINT, signal.SIGTERM)}

    def restore_signals(self) -> None:
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        self.previous = {}

    def supervise(self) -> None:
        """Keep the workers running until SIGINT or SIGTERM, then stop them (SIGTERM: uvicorn finishes the
        requests in flight) and wait for them."""
        try:
            while not self.asked:
                time.sleep(JANITOR_SECONDS / 4)
                self.replace_the_dead()
        finally:
            self.stop()

    def stop(self, timeout: float = 20.0) -> None:
        """Stop every worker and wait for it (SIGKILL after `timeout`); safe to call again: a worker is
        signalled only while it has not been reaped, so a reused pid is never hit."""
        self.stopping = True
        self.reap()
        for pid in [*self.forked, *(process.pid for process in self.spawned)]:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + timeout
        while self.running and time.monotonic() < deadline:
            time.sleep(0.05)
            self.reap()
        for pid in [*self.forked, *(process.pid for process in self.spawned)]:
            log.error("worker %d did not stop within %g s; killed", pid, timeout)
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in list(self.forked):
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
            self.forked.discard(pid)
        for process in self.spawned:
            process.join(timeout=5)
        self.spawned = []


def one_openmp_thread() -> None:
    """With several workers, every process runs one OpenMP thread (the workers are the parallelism).

    Called before the supervisor's first load and check, which come before the fork: a process forked
    from one that ran an OpenMP thread pool (libgomp: scikit-learn's HistGradientBoosting, k-neighbours...
    predict in parallel) hangs at its first parallel region, and one thread starts no pool. The variable
    covers a runtime loaded later (scikit-learn is imported when the first model loads), threadpoolctl
    one already loaded; spawned replacement workers inherit the variable."""
    if os.environ.get("OMP_NUM_THREADS", "1") != "1":
        log.warning("OMP_NUM_THREADS=%s is set to 1: with several workers each runs one OpenMP thread",
                    safe(os.environ["OMP_NUM_THREADS"]))
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # no scikit-learn: no OpenMP runtime from it
        return
    threadpool_limits(limits=1, user_api="openmp")


def serve_workers(table, follower, workers: int, host: str, port: int, settings: dict) -> bool:
    """Serve with `workers` processes fed by `table` (updated once) and `follower` (not started: it is
    started here, after the workers are forked) until SIGINT or SIGTERM; returns whether any worker came
    up. The run directory is removed at the end."""
    sock = listening_socket(host, port)
    run_dir = Path(tempfile.mkdtemp(prefix="modelreg-serve-"))
    publisher = Publisher(table, follower, run_dir)
    pool = WorkerPool(sock, host, port)
    saved = {key: os.environ.get(key) for key in (RUN_DIR_ENV, MULTIPROC_ENV, MULTIPROC_ENV.lower())}
    try:
        publisher.metrics_dir.mkdir()
        publisher.workers_dir.mkdir()
        _write(run_dir / "config.json", {**settings, "metrics_dir": str(publisher.metrics_dir),
                                         "supervisor": os.getpid()})
        publisher.publish(starting=True)  # before any worker starts: each serves what it says
        os.environ[RUN_DIR_ENV] = str(run_dir)  # the workers inherit these
        os.environ[MULTIPROC_ENV] = str(publisher.metrics_dir)
        os.environ.pop(MULTIPROC_ENV.lower(), None)
        log.info("serving with %d workers on %s:%d; run directory %s", workers, host, port, run_dir)
        pool.catch_signals()
        pool.wanted = workers
        served = table.all()
        for _ in range(workers):  # no thread of this process runs yet (see WorkerPool, one_openmp_thread)
            if hasattr(os, "fork"):
                pool.fork(served)
            else:  # Windows: every worker loads what the supervisor serves, from the verified cache
                pool.spawn()
        del served
        table.drop_models()  # the workers have them; this process only follows from now on
        follower.start()
        publisher.start()
        pool.supervise()
        publisher.bury_the_dead()
        return bool(publisher.seen)
    finally:
        pool.stop()
        pool.restore_signals()
        publisher.stop()
        sock.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(run_dir, ignore_errors=True)


# ---- a worker ---------------------------------------------------------------------------------------

class FollowerView:
    """The supervisor's follower as a worker sees it (through state.json), for /healthz and /metrics."""

    def __init__(self, supervisor: int):
        self.supervisor = supervisor  # the parent process: if it goes, nothing follows the registry
        self.own_errors = 0  # versions this worker failed to load
        self._state: dict = {"running": True}

    def update(self, state: dict) -> None:
        self._state = dict(state)

    @property
    def gone(self) -> bool:
        return os.getppid() != self.supervisor

    @property
    def running(self) -> bool:
        return bool(self._state.get("running")) and not self.gone

    @property
    def stopped_unexpectedly(self) -> bool:
        return bool(self._state.get("stopped_unexpectedly")) or self.gone

    @property
    def error_count(self) -> int:
        return int(self._state.get("errors") or 0) + self.own_errors

    @property
    def last_poll(self) -> float | None:
        return self._state.get("last_poll")

    @property
    def last_poll_error(self) -> str | None:
        return self._state.get("last_poll_error")

    @property
    def last_update_error(self) -> str | None:
        if self.gone:
            return "the supervisor process is gone: nothing follows the registry"
        return self._state.get("last_update_error")


class Mirror:
    """A worker's table: the versions the supervisor accepted, loaded in this process.

    Reads never wait: `get` returns the Served object current when it is called, and a swap replaces
    one reference. The status of a model is the supervisor's (its update failed, its last check...),
    plus this worker's own failure to load an accepted version, if any."""

    def __init__(self, names: list[str], stage: str, loader: Callable[[Resolved], Any],
                 samples: Callable[[Resolved], list | None] | None = None, two_pass: bool = False,
                 supervisor: int | None = None, direct_trees: bool = True):
        self.names, self.stage, self.loader, self.samples, self.two_pass = names, stage, loader, samples, two_pass
        self.direct_trees = direct_trees
        self._served: dict[str, Served] = {}
        self.status: dict[str, Status] = {name: Status() for name in names}
        self.own_errors: dict[str, str] = {}  # this worker could not load the accepted version
        self._tried: dict[str, tuple[str, float]] = {}  # md5 and time of the last failed load
        self.follower = FollowerView(os.getppid() if supervisor is None else supervisor)
        self.listeners: list[Callable[[], None]] = []  # told after each apply (the gauges)
        self._lock = threading.Lock()

    def get(self, name: str) -> Served | None:
        return self._served.get(name)

    def seed(self, served: dict[str, Served]) -> None:
        """Serve versions already loaded and checked (a worker forked from the supervisor has them)."""
        self._served = {name: current for name, current in served.items()
                        if name in self.names and current.model is not None}
        for name, current in self._served.items():
            log.info("worker %d serves %s %s (md5 %s), loaded before it was forked", os.getpid(), safe(name),
                     safe(current.version), safe(current.md5))

    @property
    def behind(self) -> bool:
        """Some accepted version could not be loaded here yet (to be tried again)."""
        return bool(self.own_errors)

    def apply(self, state: dict) -> list[str]:
        """Load and swap in what the supervisor serves; returns what changed. Never raises for a model."""
        changed = []
        with self._lock:
            models = state.get("models") or {}
            for name in self.names:
                entry = models.get(name) or {}
                status = Status(**(entry.get("status") or {}))
                accepted = entry.get("served")
                current = self._served.get(name)
                if accepted is None or (current is not None and current.md5 == accepted["md5"]):
                    self.own_errors.pop(name, None)
                elif self._may_try(name, accepted["md5"]):
                    try:
                        self._load(name, accepted)
                    except (Exception, SystemExit) as error:  # as in the supervisor: never take the worker down
                        self.own_errors[name] = (f"worker {os.getpid()} could not load {name} {accepted['version']} "
                                                 f"({accepted['md5']}): {describe(error)}")
                        self._tried[name] = (accepted["md5"], time.monotonic())
                        self.follower.own_errors += 1
                        log.error("%s; still serving %s", self.own_errors[name],
                                  safe(current.version) if current else "nothing")
                    else:
                        self.own_errors.pop(name, None)
                        self._tried.pop(name, None)
                        changed.append(f"{name} {current.version if current else '-'} -> {accepted['version']}")
                own = self.own_errors.get(name)
                if own:
                    status.last_error = f"{status.last_error}; {own}" if status.last_error else own
                self.status = {**self.status, name: status}
            self.follower.update(state.get("follower") or {})
        for listener in self.listeners:
            listener()
        return changed

    def _may_try(self, name: str, md5: str) -> bool:
        tried = self._tried.get(name)
        return tried is None or tried[0] != md5 or time.monotonic() - tried[1] >= RETRY_SECONDS

    def _load(self, name: str, accepted: dict) -> None:
        fields = dict(accepted["resolved"])
        resolved = Resolved(**{**fields, "stages": tuple(fields.get("stages") or ())})
        model = self.loader(resolved)  # from the cache the supervisor filled: hashed again before use
        answerer = _answerer(model, self.samples, resolved, self.two_pass, self.direct_trees)
        served = Served(name, accepted["version"], accepted["md5"], accepted.get("stage") or self.stage,
                        dict(accepted.get("metrics") or {}), model, answerer=answerer,
                        signature=accepted.get("signature"), resolved=resolved)
        self._served = {**self._served, name: served}  # one reference: a request sees the old or the new
        log.info("worker %d now serves %s %s (md5 %s)", os.getpid(), safe(name), safe(served.version),
                 safe(served.md5))

    def report(self) -> dict:
        """This worker's state, for the others' /healthz."""
        return {"pid": os.getpid(),
                "models": {name: (current.version if (current := self._served.get(name)) else None)
                           for name in self.names},
                "last_error": "; ".join(self.own_errors[name] for name in self.names if name in self.own_errors)
                or None}


class Watcher(Background):
    """In a worker: applies state.json to the Mirror when it changes (and retries a failed load now and
    then), and keeps workers/PID.json up to date for the other workers' /healthz."""

    thread_name = "modelreg-watcher"

    def __init__(self, mirror: Mirror, run_dir: Path):
        super().__init__()
        self.mirror, self.run_dir = mirror, run_dir
        self.state_path, self.workers_dir = run_dir / "state.json", run_dir / "workers"
        self.own_path = self.workers_dir / f"{os.getpid()}.json"
        self._seen: tuple | None = None
        self._reported: dict | None = None
        self._retried = time.monotonic()

    def sync(self) -> None:
        """Apply state.json if it changed (or a failed load is due again) and report this worker."""
        info = self.state_path.stat()
        seen = (info.st_ino, info.st_mtime_ns, info.st_size)
        due = self.mirror.behind and time.monotonic() - self._retried >= RETRY_SECONDS
        if seen != self._seen or due:
            self._retried = time.monotonic()
            self.mirror.apply(json.loads(self.state_path.read_text()))
            self._seen = seen
        report = self.mirror.report()
        if report != self._reported:
            _write(self.own_path, report)
            self._reported = report

    def peers(self) -> list[dict]:
        """Every live worker's report, this one's included, by pid."""
        found = []
        for path in self.workers_dir.glob("*.json"):
            try:
                report = json.loads(path.read_text())
            except (OSError, ValueError):  # it went away while being read
                continue
            if isinstance(report, dict) and isinstance(report.get("pid"), int) and alive(report["pid"]):
                found.append(report)
        return sorted(found, key=lambda report: report["pid"])

    def _run(self) -> None:
        while not self._stop.wait(POLL_SECONDS):
            try:
                self.sync()
            except BaseException as error:  # this worker's only way to new versions: it must not die
                try:
                    log.error("worker %d cannot apply the supervisor's state: %s", os.getpid(), describe(error))
                except BaseException:
                    pass

    def close(self, metrics_dir: str | None = None) -> None:
        """At this worker's exit: stop watching, withdraw its state and its live gauges."""
        self.stop()
        self.own_path.unlink(missing_ok=True)
        if metrics_dir:
            from prometheus_client.multiprocess import mark_process_dead

            mark_process_dead(os.getpid(), metrics_dir)


def stop_with_the_supervisor(supervisor: int) -> None:
    """Have Linux send this worker SIGTERM when the supervisor dies (prctl PR_SET_PDEATHSIG), so that a
    supervisor killed with SIGKILL leaves no worker holding the port and answering with versions
    nothing follows any more. Elsewhere the workers only report the follower as stopped."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM))  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != supervisor:  # it died before the request was made
        os.kill(os.getpid(), signal.SIGTERM)


def worker_app():
    """uvicorn's factory in a spawned worker process: the app over a Mirror of the supervisor's table."""
    return build_worker_app(None)


def build_worker_app(served: dict[str, Served] | None):
    """A worker's app. `served`: the supervisor's loaded versions, in a worker forked from it (they are
    served as they are, not loaded again); None in a spawned worker, which loads them from the cache."""
    from .app import create_app
    from .models import artifact_loader, sample_reader

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s[%(process)d] %(levelname)s %(message)s")
    run_dir = Path(os.environ[RUN_DIR_ENV])
    config = json.loads((run_dir / "config.json").read_text())
    stop_with_the_supervisor(config["supervisor"])
    root = Path(config["root"])
    mirror = Mirror(config["names"], config["stage"],
                    artifact_loader(root, config["remote"], config["allow_pickle"]),
                    samples=sample_reader(root), two_pass=config["two_pass"],
                    supervisor=config["supervisor"], direct_trees=config.get("direct_trees", True))
    if served:
        mirror.seed(served)
    watcher = Watcher(mirror, run_dir)
    watcher.sync()  # what the supervisor serves is loaded before this worker takes a request
    (watcher.workers_dir / f"{os.getpid()}.started").touch()  # for the supervisor: a worker came up
    app = create_app(mirror, mirror.follower, max_body_bytes=config["max_body_bytes"],
                     allow_non_finite=config["allow_non_finite"], batch_ms=config["batch_ms"],
                     multiprocess_dir=config["metrics_dir"], peers=watcher.peers,
                     on_shutdown=lambda: watcher.close(config["metrics_dir"]))
    mirror.listeners.append(app.state.refresh_metrics)
    app.state.refresh_metrics()
    watcher.start()
    return app
