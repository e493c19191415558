"""Serving: predict latency under a local load generator, and the time from a registry change to serving it.

Builds a scratch repository from the template (two trained versions, local DVC
remotes, a bare origin), starts `modelreg serve` in its own clone following
origin/main, then:
- for each --batch-ms value, with one-pass and two-pass answers (--passes), starts
  the server, sends --requests predict requests from --threads client threads
  --repeat times and reports the medians of the client-side p50/p99 latency and
  the throughput;
- promotes and rolls back --swaps times, each time measuring from the push of
  the registry change to the moment GET /models/NAME reports the new version.

    python bench/serve.py [--requests 2000] [--threads 4] [--swaps 4] [--poll-seconds 1]
                          [--batch-ms 2 0] [--passes one|two|both] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
FILES = ["dvc.yaml", "params.yaml", ".gitignore", "models/registry.yaml", "models/registry.schema.json",
         "scripts/prepare.py", "scripts/train.py", "scripts/evaluate.py", "models/churn-classifier/sample.json"]
MODEL = "churn-classifier"


def sh(command: str, cwd: Path, env: dict) -> str:
    result = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{command}: {result.stdout}{result.stderr}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def build(base: Path, env: dict) -> tuple[Path, Path]:
    repo = base / "repo"
    for name in FILES:
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, repo / name)
    for command in ["git init -q -b main && git config user.name bench && git config user.email b@example.com",
                    "dvc init -q", "dvc remote add candidates ../remotes/candidates",
                    "dvc remote add -d registry ../remotes/registry", "git add -A && git commit -qm template",
                    "dvc repro -q && git add -A && git commit -qm train",
                    "modelreg register churn-classifier --commit",
                    "modelreg promote churn-classifier v1.0.0 --to production --reason first --commit",
                    "sed -i 's/max_depth: 6/max_depth: 9/' params.yaml && git commit -qam deeper",
                    "dvc repro -q && git add -A && git commit -qm train",
                    "modelreg register churn-classifier --commit",
                    "modelreg ci release --no-push",  # copies both versions to the registry remote
                    f"git clone -q --bare . {base / 'origin.git'} && git remote add origin {base / 'origin.git'}"]:
        sh(command, repo, env)
    sh(f"git clone -q {base / 'origin.git'} {base / 'server'}", base, env)
    return repo, base / "server"


def start_server(clone: Path, env: dict, poll_seconds: float, extra: list[str]) -> tuple[subprocess.Popen, str]:
    import httpx

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen([str(BIN / "modelreg"), "serve", "--port", str(port), "--poll-seconds",
                               str(poll_seconds), *extra], cwd=clone, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    for _ in range(600):
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return server, url


def stop_server(server: subprocess.Popen) -> None:
    server.terminate()
    server.wait(timeout=20)


def load(url: str, requests: int, threads: int, rows: list) -> tuple[float, float, float, int]:
    """Send `requests` predicts from `threads` client threads: (p50 s, p99 s, requests/s, failures)."""
    import httpx

    latencies: list[float] = []
    failures = [0]
    per_thread = requests // threads

    def client() -> None:
        with httpx.Client(timeout=10) as session:
            for _ in range(per_thread):
                start = time.perf_counter()
                response = session.post(f"{url}/models/{MODEL}/predict", json={"rows": rows})
                latencies.append(time.perf_counter() - start)
                failures[0] += response.status_code != 200

    workers = [threading.Thread(target=client) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    latencies.sort()
    return (latencies[len(latencies) // 2], latencies[max(int(len(latencies) * 0.99) - 1, 0)],
            len(latencies) / elapsed, failures[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--swaps", type=int, default=4)
    parser.add_argument("--poll-seconds", type=float, default=1.0)
    parser.add_argument("--batch-ms", type=float, nargs="+", default=[2.0], metavar="MS",
                        help="serve with each of these --batch-ms values in turn (default 2; 0 is no batching)")
    parser.add_argument("--passes", choices=("one", "two", "both"), default="both",
                        help="one-pass answers (the default server), --two-pass, or both (default)")
    parser.add_argument("--repeat", type=int, default=3, help="load runs per configuration; medians reported")
    args = parser.parse_args()
    import httpx

    base = Path(tempfile.mkdtemp(prefix="modelreg-serve-bench-"))
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1",
           "MODELREG_CACHE": str(base / "cache")}
    server = None
    try:
        repo, clone = build(base, env)
        rows = json.loads((ROOT / "models" / MODEL / "sample.json").read_text())["rows"][:1]
        passes = ["one", "two"] if args.passes == "both" else [args.passes]
        try:
            load_avg = os.getloadavg()
            print(f"machine: {os.cpu_count()} cores, load average {load_avg[0]:.1f} {load_avg[1]:.1f} "
                  f"{load_avg[2]:.1f} at start")
        except OSError:
            pass
        for batch_ms in args.batch_ms:
            for mode in passes:
                extra = ["--batch-ms", f"{batch_ms:g}"] + (["--two-pass"] if mode == "two" else [])
                server, url = start_server(clone, env, args.poll_seconds, extra)
                answer = httpx.get(f"{url}/models/{MODEL}").json().get("answer", "?")
                load(url, min(200, args.requests), args.threads, rows)  # warm up
                runs = [load(url, args.requests, args.threads, rows) for _ in range(args.repeat)]
                stop_server(server)
                server = None
                p50 = statistics.median(run[0] for run in runs)
                p99 = statistics.median(run[1] for run in runs)
                rate = statistics.median(run[2] for run in runs)
                failed = sum(run[3] for run in runs)
                print(f"predict, --batch-ms {batch_ms:g}, {answer}: {args.requests} requests from "
                      f"{args.threads} threads x {args.repeat} runs, {failed} failed; median p50 "
                      f"{p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, {rate:.0f} requests/s "
                      f"(runs: {', '.join(f'{run[2]:.0f}' for run in runs)})")
        if args.swaps:
            server, url = start_server(clone, env, args.poll_seconds, [])
            swaps = []
            for index in range(args.swaps):
                target = "v1.1.0" if index % 2 == 0 else "v1.0.0"
                change = (f"modelreg promote {MODEL} v1.1.0 --to production --reason bench --commit"
                          if target == "v1.1.0" else f"modelreg rollback {MODEL} --reason bench --commit")
                sh(change, repo, env)
                start = time.perf_counter()
                sh("git push -q origin main", repo, env)
                while httpx.get(f"{url}/models/{MODEL}").json()["version"] != target:
                    time.sleep(0.01)
                swaps.append(time.perf_counter() - start)
            print(f"registry change -> serving (poll every {args.poll_seconds:g} s): median "
                  f"{statistics.median(swaps):.2f} s, min {min(swaps):.2f} s, max {max(swaps):.2f} s over "
                  f"{len(swaps)} swaps")
        try:
            print("load average at end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
        except OSError:
            pass
    finally:
        if server:
            stop_server(server)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
