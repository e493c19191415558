"""Serving beside MLflow and a bare FastAPI app: the same 200-tree forest, the same bytes, the same client.

Builds a scratch repository from the template with the demo's 200-tree forest (n_estimators 200,
max_depth 10, as `make demo` trains it) registered and released to production, pulls its skops
artifact once (verified by md5), and serves exactly those bytes three ways, each on 127.0.0.1 with
a free port:

- `modelreg serve` in a clone following origin/main, with `--workers N` when the installed
  modelreg has that flag (else 1 worker, and the output says so): answers predictions and
  probabilities from one predict_proba pass (GET /models/NAME says how);
- `mlflow models serve --env-manager local`, from its own virtualenv (bench/peers/.venv, made on
  first use, never the project's), on an MLflow model directory written there by
  mlflow.sklearn.save_model from the same skops bytes, with the project's scikit-learn, skops and
  NumPy versions pinned; it answers predictions only (the pyfunc calls predict, which for a forest
  is argmax of predict_proba: the same model work);
- a floor: a minimal FastAPI app (this file's `floor_app`) under uvicorn from the project's venv,
  predictions and probabilities from one predict_proba pass, no checks.

Every server gets the same number of worker processes. Each server is started --repeat times,
alternating between servers (the order rotates every round); each start measures the cold start
(process start to the first successful prediction), then, for each --threads value, sends --warmup
and then --requests one-row predicts from that many client threads, each thread with its own
persistent http.client connection, and samples the RSS of the server's whole process tree from
/proc during the load. The table has medians over the rounds; the load average is recorded at
every start. JSON goes to bench/out/serve_peers.json.

    python bench/serve_peers.py [--requests 2000] [--warmup 100] [--repeat 3] [--threads 1 4 16]
                                [--workers N] [--servers modelreg mlflow floor] [--modelreg-option=--batch-ms=5]
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from serve import FILES, MODEL, free_port, sh  # bench/serve.py, beside this file

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = Path(sys.executable).parent
PEER_VENV = HERE / "peers" / ".venv"
OUT = HERE / "out" / "serve_peers.json"
FOREST = {"model": "random_forest", "n_estimators": 200, "max_depth": 10}  # the demo's v2 (scripts/demo.py)
ANSWERS = {
    "modelreg": "predictions + probabilities",
    "mlflow": "predictions only",
    "floor": "predictions + probabilities",
}


# --- the floor: a minimal FastAPI app, imported by uvicorn (`serve_peers:floor_app`, --factory) -------------

def floor_app():
    """POST /predict {"rows": [[...]]}: predictions and probabilities from one predict_proba call."""
    import numpy
    import skops.io
    from fastapi import FastAPI, Request, Response

    path = os.environ["SERVE_PEERS_MODEL"]
    model = skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
    classes = numpy.asarray(model.classes_)
    app = FastAPI()

    async def predict(request: Request) -> Response:
        rows = json.loads(await request.body())["rows"]
        probabilities = model.predict_proba(rows)
        body = {"predictions": classes.take(probabilities.argmax(axis=1)).tolist(),
                "probabilities": probabilities.tolist()}
        return Response(json.dumps(body), media_type="application/json")

    predict.__annotations__ = {"request": Request}  # this module's annotations are strings (__future__)
    app.post("/predict")(predict)
    return app


# --- the scratch deployment ---------------------------------------------------------------------------------

def build(base: Path, env: dict) -> Path:
    """The template with the demo's 200-tree forest in production, released; returns the server's clone."""
    import yaml

    repo = base / "repo"
    for name in FILES:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, repo / name)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["train"].update(FOREST)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for command in ["git init -q -b main && git config user.name bench && git config user.email b@example.com",
                    "dvc init -q", "dvc remote add candidates ../remotes/candidates",
                    "dvc remote add -d registry ../remotes/registry", "git add -A && git commit -qm template",
                    "dvc repro -q && git add -A && git commit -qm train",
                    f"modelreg register {MODEL} --commit",
                    f"modelreg promote {MODEL} v1.0.0 --to production --reason bench --commit",
                    "modelreg ci release --no-push",  # copies the version to the registry remote
                    f"git clone -q --bare . {base / 'origin.git'} && git remote add origin {base / 'origin.git'}"]:
        sh(command, repo, env)
    sh(f"git clone -q {base / 'origin.git'} {base / 'server'}", base, env)
    return base / "server"


def artifact(clone: Path, env: dict, target: Path) -> dict:
    """Fetch the production artifact through modelreg (verified by md5; this also fills the server's cache)
    and copy those bytes to `target`, for MLflow and the floor."""
    code = ("import json, modelreg; from modelreg.flows.artifacts import cached_artifact; "
            "from modelreg.adapters import registry_file; "
            f"a = modelreg.resolve_reference('{MODEL}@production'); "
            "p = cached_artifact(registry_file.repo_of(registry_file.find_registry()), a); "
            "print(json.dumps({'md5': a.md5, 'version': a.version, 'path': str(p)}))")
    result = subprocess.run([str(BIN / "python"), "-c", code], cwd=clone, env=env, capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise SystemExit(f"fetching the production artifact failed: {result.stderr[-2000:]}")
    answer = json.loads(result.stdout.strip().splitlines()[-1])
    shutil.copyfile(answer["path"], target)
    digest = hashlib.md5(target.read_bytes()).hexdigest()
    if digest != answer["md5"]:
        raise SystemExit(f"{target}: md5 {digest}, the registry says {answer['md5']}")
    return {**answer, "bytes": target.stat().st_size}


# --- MLflow in its own virtualenv -------------------------------------------------------------------------

def project_versions() -> dict:
    import numpy
    import sklearn
    import skops

    return {"scikit-learn": sklearn.__version__, "skops": skops.__version__, "numpy": numpy.__version__}


def peer_versions(python: Path) -> dict | None:
    code = ("import json, mlflow, sklearn, skops, numpy, uvicorn; print(json.dumps({'mlflow': mlflow.__version__, "
            "'scikit-learn': sklearn.__version__, 'skops': skops.__version__, 'numpy': numpy.__version__, "
            "'uvicorn': uvicorn.__version__}))")
    result = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=False)
    return json.loads(result.stdout) if result.returncode == 0 else None


def peer_python(pins: dict) -> tuple[Path, dict]:
    """bench/peers/.venv with MLflow and the project's scikit-learn, skops and NumPy (made or completed here)."""
    python = PEER_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
    found = peer_versions(python)
    if found is None or any(found.get(name) != version for name, version in pins.items()):
        print(f"installing mlflow and {', '.join(f'{n}=={v}' for n, v in pins.items())} into {PEER_VENV}",
              flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "mlflow>=3",
                        *(f"{name}=={version}" for name, version in pins.items())], check=True, capture_output=True)
        found = peer_versions(python)
    if found is None or any(found.get(name) != version for name, version in pins.items()):
        raise SystemExit(f"{PEER_VENV}: versions {found} do not match the project's {pins}")
    return python, found


def mlflow_model(python: Path, skops_file: Path, target: Path, rows: list, env: dict) -> str:
    """mlflow.sklearn.save_model of the model loaded from the same skops bytes (with a signature from the sample)."""
    code = f"""
import numpy, skops.io, mlflow.sklearn
from mlflow.models import infer_signature
path = {str(skops_file)!r}
model = skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))
rows = numpy.asarray({rows!r}, dtype=float)
mlflow.sklearn.save_model(model, {str(target)!r}, signature=infer_signature(rows, model.predict(rows)),
                          serialization_format="skops",
                          skops_trusted_types=skops.io.get_untrusted_types(file=path))
"""
    result = subprocess.run([str(python), "-c", code], env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"mlflow.sklearn.save_model failed: {result.stderr[-2000:]}")
    import yaml

    flavor = yaml.safe_load((target / "MLmodel").read_text())["flavors"]["sklearn"]
    saved = target / flavor["pickled_model"]
    same = saved.read_bytes() == skops_file.read_bytes()
    if not same:  # serve the very bytes the others serve, in MLflow's own skops flavor
        shutil.copyfile(skops_file, saved)
    return f"{flavor.get('serialization_format')} file {saved.name}: " + (
        "MLflow's own dump was already byte-identical" if same else
        "MLflow's own dump differed in bytes and was replaced by the registry's file")


# --- processes: start, measure, stop ----------------------------------------------------------------------

def tree(pid: int) -> list[int]:
    """`pid` and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        parent = int(stat[stat.rindex(")") + 2:].split()[1])
        children.setdefault(parent, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of the process tree (with its reaped children's), from /proc/PID/stat."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for member in tree(pid):
        try:
            with open(f"/proc/{member}/stat") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        total += sum(int(value) for value in fields[11:15])  # utime stime cutime cstime
    return total / ticks


def memory(pid: int) -> dict:
    """RSS and PSS (MiB) summed over the process tree, and how many processes it has."""
    rss = pss = 0
    members = []
    for member in tree(pid):
        try:
            with open(f"/proc/{member}/status") as handle:
                status = handle.read()
            own = int(status.split("VmRSS:")[1].split()[0]) if "VmRSS:" in status else 0
            with open(f"/proc/{member}/smaps_rollup") as handle:
                rollup = handle.read()
            pss += int(rollup.split("\nPss:")[1].split()[0]) if "\nPss:" in rollup else 0
            with open(f"/proc/{member}/cmdline", "rb") as handle:
                command = handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except (OSError, IndexError, ValueError):
            continue
        rss += own
        members.append({"pid": member, "rss": round(own / 1024, 1), "command": command[:160]})
    return {"rss": rss / 1024, "pss": pss / 1024, "processes": len(members), "members": members}


class Sampler(threading.Thread):
    """Samples the server tree's memory every `interval` seconds until stopped; keeps the peak RSS sample."""

    def __init__(self, pid: int, interval: float = 0.25):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, {"rss": 0.0, "pss": 0.0, "processes": 0}
        self._done = threading.Event()

    def run(self) -> None:
        while True:
            sample = memory(self.pid)
            if sample["rss"] > self.peak["rss"]:
                self.peak = sample
            if self._done.wait(self.interval):
                return

    def stop(self) -> dict:
        self._done.set()
        self.join()
        sample = memory(self.pid)
        return sample if sample["rss"] > self.peak["rss"] else self.peak


class Server:
    """One server process group: started with its own session, always stopped with the whole group."""

    def __init__(self, name: str, command: list[str], cwd: Path, env: dict, port: int, path: str, body: bytes):
        self.name, self.command, self.cwd, self.env = name, command, cwd, env
        self.port, self.path, self.body = port, path, body
        self.process: subprocess.Popen | None = None
        self.cold_cpu = 0.0  # CPU seconds the tree had used at its first successful prediction
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()

    def start(self, timeout: float = 300.0) -> float:
        """Start the process; seconds from the start to the first successful prediction."""
        started = time.perf_counter()
        self.process = subprocess.Popen(self.command, cwd=self.cwd, env=self.env, stdout=self.log,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        while time.perf_counter() - started < timeout:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}: {self.tail()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("POST", self.path, self.body, {"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                connection.close()
                if response.status == 200:
                    elapsed = time.perf_counter() - started
                    self.cold_cpu = cpu_seconds(self.process.pid)
                    return elapsed
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} did not answer a prediction within {timeout:.0f} s: {self.tail()}")

    def tail(self) -> str:
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process is None:
            return
        members = tree(self.process.pid)
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.process.wait(timeout=wait)
                break
            except subprocess.TimeoutExpired:
                continue
        for member in members[1:]:  # a process of this server still in its group (the group is ours)
            try:
                if os.getpgid(member) == self.process.pid:
                    os.kill(member, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process = None
        self.log.close()


# --- the client -------------------------------------------------------------------------------------------

def load(port: int, path: str, body: bytes, requests: int, threads: int) -> dict:
    """`requests` predicts from `threads` threads, one persistent http.client connection each."""
    per_thread = max(requests // threads, 1)
    latencies: list[list[float]] = [[] for _ in range(threads)]
    failures = [0] * threads
    barrier = threading.Barrier(threads + 1)
    headers = {"Content-Type": "application/json", "Content-Length": str(len(body))}

    def connect() -> http.client.HTTPConnection:
        # http.client writes the headers and the body in two sends: without TCP_NODELAY (which urllib3 and
        # httpx set) Nagle holds the body until the server's delayed ACK, ~40 ms added to every request
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.connect()
        connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    def client(index: int) -> None:
        connection = connect()
        mine, perf = latencies[index], time.perf_counter
        barrier.wait()
        for _ in range(per_thread):
            start = perf()
            try:
                connection.request("POST", path, body, headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = connect()
            mine.append(perf() - start)
            failures[index] += not ok
        connection.close()

    workers = [threading.Thread(target=client, args=(index,), daemon=True) for index in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    every = sorted(latency for mine in latencies for latency in mine)
    return {"p50": every[len(every) // 2], "p99": every[max(math.ceil(len(every) * 0.99) - 1, 0)],
            "rps": len(every) / elapsed, "failed": sum(failures), "requests": len(every)}


def load_average() -> list[float]:
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return []


# --- main -------------------------------------------------------------------------------------------------

def modelreg_workers_flag(env: dict) -> bool:
    result = subprocess.run([str(BIN / "modelreg"), "serve", "--help"], env=env, capture_output=True, text=True,
                            check=False)
    return "--workers" in result.stdout


def session(server: Server, round_: int, args) -> dict:
    """One start of a server: its cold start, then a warm-up and a measured load per client-thread count."""
    before = load_average()
    cold = server.start()
    pid, port, path, body = server.process.pid, server.port, server.path, server.body
    run = {"round": round_, "cold_start_s": cold, "cold_start_cpu_s": server.cold_cpu, "idle": memory(pid),
           "load_before": before, "threads": {}}
    if server.name == "modelreg":  # how it says it answers
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", f"/models/{MODEL}")
        described = json.loads(connection.getresponse().read())
        connection.close()
        run["described"] = f"{described.get('answer')}; batching {described.get('batching')}"
    for threads in args.threads:
        load(port, path, body, args.warmup, threads)
        sampler = Sampler(pid)
        sampler.start()
        cpu = cpu_seconds(pid)
        measured = load(port, path, body, args.requests, threads)
        measured["cpu_ms"] = (cpu_seconds(pid) - cpu) * 1000 / measured["requests"]
        measured["memory"] = sampler.stop()
        run["threads"][threads] = measured
        print(f"round {round_} {server.name:8} {threads:>2} threads: p50 {measured['p50'] * 1000:6.1f} ms, "
              f"p99 {measured['p99'] * 1000:6.1f} ms, {measured['rps']:6.0f} req/s, "
              f"server CPU {measured['cpu_ms']:.1f} ms/request, {measured['failed']} failed, "
              f"RSS {measured['memory']['rss']:.0f} MiB ({measured['memory']['processes']} processes)", flush=True)
    run["load_after"] = load_average()
    print(f"round {round_} {server.name:8} cold start {cold:.2f} s ({server.cold_cpu:.2f} s of CPU), idle RSS "
          f"{run['idle']['rss']:.0f} MiB; load average {' '.join(map(str, before))} -> "
          f"{' '.join(map(str, run['load_after']))}", flush=True)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="measured requests per run (default 2000)")
    parser.add_argument("--warmup", type=int, default=100, help="unmeasured requests before each run (default 100)")
    parser.add_argument("--repeat", type=int, default=3, help="rounds, alternating servers; medians reported")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4, 16], help="client threads (default 1 4 16)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                        help="server worker processes, the same for every server (default: CPU count)")
    parser.add_argument("--servers", nargs="+", choices=list(ANSWERS), default=list(ANSWERS))
    parser.add_argument("--poll-seconds", type=float, default=30.0,
                        help="modelreg serve's registry poll interval (default 30, its own default)")
    parser.add_argument("--modelreg-option", action="append", default=[], metavar="OPTION",
                        help="pass this option on to modelreg serve (repeatable), e.g. --modelreg-option=--batch-ms=5")
    parser.add_argument("--json", type=Path, default=OUT, help=f"where to write the JSON (default {OUT})")
    args = parser.parse_args()

    def interrupted(signum, frame):  # so that `finally` stops every server (also when SIGINT is ignored)
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    base = Path(tempfile.mkdtemp(prefix="modelreg-serve-peers-"))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1",
           "MODELREG_CACHE": str(base / "cache")}
    servers: list[Server] = []
    try:
        print(f"building the scratch deployment in {base} ...", flush=True)
        clone = build(base, env)
        sample = json.loads((ROOT / "models" / MODEL / "sample.json").read_text())["rows"]
        row = sample[:1]
        skops_file = base / "model.skops"
        served = artifact(clone, env, skops_file)
        versions = {"project": project_versions()}

        workers = args.workers
        has_flag = modelreg_workers_flag(env)
        modelreg_workers = workers if has_flag else 1
        peer_workers = modelreg_workers
        notes = [(f"modelreg serve {'has' if has_flag else 'has no'} --workers: modelreg ran with "
                  f"{modelreg_workers} worker process(es){'' if has_flag else ' (fallback)'}; MLflow and the floor "
                  f"with the same {peer_workers}"),
                 ("modelreg serve has no predictions-only option: it answered predictions + probabilities "
                  "(one predict_proba pass) throughout")]

        commands: dict[str, tuple[list[str], Path, dict, str, bytes]] = {}
        if "modelreg" in args.servers:
            extra = ["--workers", str(modelreg_workers)] if has_flag else []
            command = [str(BIN / "modelreg"), "serve", MODEL, "--host", "127.0.0.1", "--port", "{port}",
                       "--poll-seconds", f"{args.poll_seconds:g}", *extra, *args.modelreg_option]
            commands["modelreg"] = (command, clone, env, f"/models/{MODEL}/predict", json.dumps({"rows": row}).encode())
        if "mlflow" in args.servers:
            pins = versions["project"]
            python, versions["mlflow venv"] = peer_python(pins)
            peer_env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}",
                        "MLFLOW_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "1", "MLFLOW_TRACKING_URI":
                        f"file://{base / 'mlruns'}"}
            peer_env.pop("VIRTUAL_ENV", None)
            mlflow_dir = base / "mlflow-model"
            notes.append("MLflow model: " + mlflow_model(python, skops_file, mlflow_dir, sample, peer_env))
            commands["mlflow"] = ([str(python.parent / "mlflow"), "models", "serve", "-m", str(mlflow_dir),
                                   "--env-manager", "local", "-h", "127.0.0.1", "-p", "{port}",
                                   "-w", str(peer_workers)], base, peer_env, "/invocations",
                                  json.dumps({"inputs": row}).encode())
        if "floor" in args.servers:
            floor_env = {**env, "SERVE_PEERS_MODEL": str(skops_file)}
            commands["floor"] = ([str(BIN / "python"), "-m", "uvicorn", "--factory", "--app-dir", str(HERE),
                                  "serve_peers:floor_app", "--host", "127.0.0.1", "--port", "{port}",
                                  "--workers", str(peer_workers), "--log-level", "warning"], base, floor_env,
                                 "/predict", json.dumps({"rows": row}).encode())

        print(f"model: {MODEL} {served['version']}, RandomForestClassifier {FOREST['n_estimators']} trees, max_depth "
              f"{FOREST['max_depth']}, {served['bytes']:,} bytes of skops, md5 {served['md5']} (the same file for "
              f"every server)")
        print("versions: " + "; ".join(f"{side}: " + ", ".join(f"{k} {v}" for k, v in found.items())
                                       for side, found in versions.items()))
        for note in notes:
            print(note)
        print(f"machine: {os.cpu_count()} CPUs; load average {' '.join(map(str, load_average()))} at start", flush=True)

        names = list(commands)
        results: dict[str, list[dict]] = {name: [] for name in names}
        info: dict[str, str] = {}
        loads = [{"when": "start", "load": load_average()}]
        for round_ in range(args.repeat):
            order = names[round_ % len(names):] + names[:round_ % len(names)]
            for name in order:
                command, cwd, server_env, path, body = commands[name]
                port = free_port()
                server = Server(name, [part.replace("{port}", str(port)) for part in command], cwd, server_env,
                                port, path, body)
                servers.append(server)
                try:
                    results[name].append(session(server, round_ + 1, args))
                    if name == "modelreg" and name not in info:
                        info[name] = results[name][-1].pop("described", "")
                    results[name][-1].pop("described", None)
                finally:
                    server.stop()
                    servers.remove(server)
                loads.append({"when": f"after round {round_ + 1} {name}", "load": load_average()})

        summary = summarise(results, args.threads)
        table = markdown(summary, args, {"modelreg": modelreg_workers, "mlflow": peer_workers, "floor": peer_workers},
                         served, versions, loads)
        print()
        print(table)
        targets = check_targets(summary, 4 if 4 in args.threads else args.threads[0])
        for line in targets:
            print(line)
        report = {"args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
                  "model": {**served, **FOREST}, "versions": versions, "notes": notes,
                  "answers": {name: ANSWERS[name] for name in names}, "modelreg_answer": info.get("modelreg"),
                  "workers": {"modelreg": modelreg_workers, "mlflow": peer_workers, "floor": peer_workers},
                  "cpus": os.cpu_count(), "load_average": loads, "summary": summary, "runs": results,
                  "targets": targets, "table": table}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2, default=str))
        print(f"\nJSON: {args.json}")
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(base, ignore_errors=True)


def summarise(results: dict[str, list[dict]], thread_counts: list[int]) -> dict:
    summary = {}
    for name, runs in results.items():
        if not runs:
            continue
        entry = {"cold_start_s": statistics.median(run["cold_start_s"] for run in runs),
                 "cold_starts_s": [run["cold_start_s"] for run in runs],
                 "cold_start_cpu_s": statistics.median(run["cold_start_cpu_s"] for run in runs),
                 "idle_rss_mib": statistics.median(run["idle"]["rss"] for run in runs), "threads": {}}
        for threads in thread_counts:
            measured = [run["threads"][threads] for run in runs]
            entry["threads"][threads] = {
                "p50_ms": statistics.median(m["p50"] for m in measured) * 1000,
                "p99_ms": statistics.median(m["p99"] for m in measured) * 1000,
                "rps": statistics.median(m["rps"] for m in measured),
                "rps_runs": [m["rps"] for m in measured],
                "cpu_ms": statistics.median(m["cpu_ms"] for m in measured),
                "rss_mib": statistics.median(m["memory"]["rss"] for m in measured),
                "pss_mib": statistics.median(m["memory"]["pss"] for m in measured),
                "processes": max(m["memory"]["processes"] for m in measured),
                "failed": sum(m["failed"] for m in measured)}
        summary[name] = entry
    return summary


def markdown(summary: dict, args, workers: dict, served: dict, versions: dict, loads: list[dict]) -> str:
    mlflow = versions.get("mlflow venv", {}).get("mlflow", "")
    labels = {"modelreg": "`modelreg serve`", "mlflow": f"`mlflow models serve` {mlflow}".rstrip(),
              "floor": "floor (bare FastAPI)"}
    lines = [("| server | answers | workers | client threads | p50 | p99 | requests/s (runs) | server CPU / request "
              "| RSS under load (PSS) | cold start (CPU) |"),
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, entry in summary.items():
        for index, threads in enumerate(args.threads):
            t, first = entry["threads"][threads], index == 0
            runs = ", ".join(f"{rate:.0f}" for rate in t["rps_runs"])
            cold = f"{entry['cold_start_s']:.2f} s ({entry['cold_start_cpu_s']:.1f} s)" if first else ""
            failed = f", {t['failed']} failed" if t["failed"] else ""
            lines.append(f"| {labels[name] if first else ''} | {ANSWERS[name] if first else ''} | "
                         f"{workers[name] if first else ''} | {threads} | {t['p50_ms']:.1f} ms | "
                         f"{t['p99_ms']:.1f} ms | **{t['rps']:.0f}** ({runs}{failed}) | {t['cpu_ms']:.1f} ms | "
                         f"{t['rss_mib']:.0f} MiB ({t['pss_mib']:.0f}) | {cold} |")
    seen = [item["load"][0] for item in loads if item["load"]]
    lines.append("")
    lines.append(f"One-row requests; medians of {args.repeat} alternating rounds of {args.requests:,} requests after "
                 f"{args.warmup} warm-up, per client-thread count; CPU and RSS summed over the server's process "
                 f"tree; {os.cpu_count()} CPUs, 1-minute load average {min(seen):.1f}–{max(seen):.1f} while "
                 f"measured; skops md5 {served['md5']} for every server.")
    return "\n".join(lines)


def check_targets(summary: dict, threads: int) -> list[str]:
    if "modelreg" not in summary or "mlflow" not in summary:
        return []
    ours, theirs = summary["modelreg"]["threads"][threads], summary["mlflow"]["threads"][threads]
    checks = [
        (f"throughput at {threads} threads >= 2x MLflow", ours["rps"] >= 2 * theirs["rps"],
         f"{ours['rps']:.0f} vs {theirs['rps']:.0f} req/s ({ours['rps'] / theirs['rps']:.2f}x)"),
        (f"p99 at {threads} threads <= half of MLflow's", ours["p99_ms"] <= theirs["p99_ms"] / 2,
         f"{ours['p99_ms']:.1f} vs {theirs['p99_ms']:.1f} ms ({ours['p99_ms'] / theirs['p99_ms']:.2f}x)"),
        ("memory <= MLflow's", ours["rss_mib"] <= theirs["rss_mib"],
         f"{ours['rss_mib']:.0f} vs {theirs['rss_mib']:.0f} MiB RSS"),
        ("cold start < 3 s", summary["modelreg"]["cold_start_s"] < 3, f"{summary['modelreg']['cold_start_s']:.2f} s"),
    ]
    return [f"target {what}: {'met' if ok else 'MISSED'} ({detail})" for what, ok, detail in checks]


if __name__ == "__main__":
    main()
