"""Pulling an artifact from S3: `modelreg pull` vs a plain boto3 download vs `git checkout && dvc pull`.

Starts an S3 server on 127.0.0.1 - moto's, s3rver (npm; installed into
bench/out/node on first use), or both - builds a DVC repository that tracks 20
other 1 MB artifacts next to the measured ones, pushes everything, checks how
the server answers a 1 MB ranged GET of the largest object, then times each
way of getting the measured artifact in fresh processes (median of --runs),
with the CPU time and peak RSS of the process. `dvc pull` is given the
artifact's path: DVC's fastest way to one artifact. The registry records md5
and sha256, as `modelreg register` does, so `modelreg pull` checks both.

    python bench/pull_s3.py [--server moto|s3rver|both] [--sizes 1 100 1000] [--runs 5] [--timeout 900]

(sizes in MB; a run past --timeout seconds, or failing, is reported as such and not repeated)

moto answers a ranged GET in time that grows with the object; s3rver streams
the range from its file, as S3 does, so ranged and parallel readers are judged
fairly against it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

BIN = Path(sys.executable).parent
NODE_PREFIX = Path(__file__).resolve().parent / "out" / "node"
S3RVER = "s3rver@3.7.1"
BUCKET = "registry"
BOTO3_DOWNLOAD = ("import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1])"
                  ".download_file(sys.argv[4], sys.argv[2], sys.argv[3])")  # default TransferConfig


def measure(commands: dict, cwd: Path, env: dict, prepare, runs: int, timeout: float) -> dict:
    """Median wall time, CPU time and peak RSS of each command over fresh processes.

    The commands take turns (in a rotating order) run by run, so a change in the load of this
    shared machine falls on all of them alike. RSS and CPU come from GNU time wrapped around the
    command: a child forked from this (large) process would report this process's pages as its
    own peak. A command that fails or runs past `timeout` seconds stops being run.
    """
    results = {label: {"times": [], "cpu": [], "rss": [], "failed": None} for label in commands}
    labels = list(commands)
    for run_index in range(runs):
        for label in labels[run_index % len(labels):] + labels[:run_index % len(labels)]:
            result = results[label]
            if result["failed"]:
                continue
            command = commands[label]
            shell = command if isinstance(command, str) else " ".join(map(shlex.quote, command))
            prepare()
            start = time.perf_counter()
            process = subprocess.Popen(["/usr/bin/time", "-f", "%U %S %M", "sh", "-c", shell], cwd=cwd, env=env,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                       start_new_session=True)  # its own process group, to stop it whole
            try:
                _, stderr = process.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.communicate()
                result["failed"] = f"> {timeout:.0f} s"
                continue
            elapsed = time.perf_counter() - start
            if process.returncode != 0:
                lines = [line for line in stderr.strip().splitlines() if "exited with non-zero" not in line]
                result["failed"] = f"failed after {elapsed:.0f} s: " + (lines[-2] if len(lines) > 1 else "?")[:200]
                continue
            user, system, rss = stderr.strip().splitlines()[-1].split()
            result["times"].append(elapsed)
            result["cpu"].append(float(user) + float(system))
            result["rss"].append(int(rss) / 1024)
    return {label: {"median_s": statistics.median(r["times"]) if r["times"] else None,
                    "cpu_s": statistics.median(r["cpu"]) if r["cpu"] else None,
                    "peak_rss_mib": max(r["rss"]) if r["rss"] else None, "times": r["times"], "failed": r["failed"]}
            for label, r in results.items()}


def cell(result: dict) -> str:
    if result["median_s"] is None:
        return result["failed"]
    return f"{result['median_s']:.2f} s ({result['cpu_s']:.1f} s CPU), {result['peak_rss_mib']:.0f} MiB"


def run(command: list[str], cwd: Path, env: dict) -> None:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {(done.stdout + done.stderr)[-3000:]}")


def push(repo: Path, env: dict, endpoint: str, sizes: dict[str, int]) -> None:
    """`dvc push` everything, then check the measured objects are there whole.

    Completing a 1 GB multipart upload can take s3rver longer than s3fs's 15 s read timeout on a busy
    machine, so the push runs with a longer one (unset afterwards: the pulls run with the defaults)
    and is run again if it still fails.
    """
    import boto3

    run(["dvc", "remote", "modify", "--local", "registry", "read_timeout", "600"], repo, env)
    for attempt in range(3):
        done = subprocess.run(["dvc", "push", "-q"], cwd=repo, env=env, capture_output=True, text=True, check=False)
        if done.returncode == 0:
            break
        print(f"(dvc push failed, attempt {attempt + 1}: {(done.stdout + done.stderr).strip()[-300:]})", flush=True)
    else:
        raise SystemExit("dvc push failed three times")
    run(["dvc", "remote", "modify", "--local", "--unset", "registry", "read_timeout"], repo, env)
    client = boto3.client("s3", endpoint_url=endpoint)
    for digest, size in sizes.items():
        stored = client.head_object(Bucket=BUCKET, Key=f"store/files/md5/{digest[:2]}/{digest[2:]}")["ContentLength"]
        if stored != size:
            raise SystemExit(f"the server holds {stored} bytes of {digest}, {size} were pushed")


def s3rver_binary() -> Path:
    """s3rver from the npm registry, installed once into bench/out/node (needs node and npm)."""
    binary = NODE_PREFIX / "node_modules" / ".bin" / "s3rver"
    if not binary.exists():
        if not shutil.which("node") or not shutil.which("npm"):
            raise SystemExit("s3rver needs node and npm (Debian: apt-get install nodejs npm)")
        NODE_PREFIX.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--prefix", str(NODE_PREFIX), S3RVER], check=True)
    return binary


@contextmanager
def moto_server():
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        import boto3

        endpoint = f"http://{host}:{port}"
        boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
        yield endpoint
    finally:
        server.stop()


@contextmanager
def s3rver_server(work: Path):
    """s3rver on 127.0.0.1, a port the OS picks, objects in a temporary folder; the bucket made at start."""
    data = work / "s3rver"
    data.mkdir()
    process = subprocess.Popen([str(s3rver_binary()), "--directory", str(data), "--address", "127.0.0.1",
                                "--port", "0", "--silent", "--configure-bucket", BUCKET],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        for line in process.stdout:
            found = re.search(r"listening on \S+:(\d+)", line)
            if found:
                port = int(found.group(1))
                break
        if port is None:
            raise SystemExit(f"s3rver did not start (exit {process.wait()})")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def range_seconds(endpoint: str, key: str, size: int) -> tuple[float, float]:
    """Seconds to GET the first and the last 1 MB of an object: equal when the server streams ranges."""
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint)
    client.head_object(Bucket=BUCKET, Key=key)  # the connection is open before timing
    result = []
    for start in (0, max(0, size - (1 << 20))):
        begin = time.perf_counter()
        client.get_object(Bucket=BUCKET, Key=key, Range=f"bytes={start}-{start + (1 << 20) - 1}")["Body"].read()
        result.append(time.perf_counter() - begin)
    return result[0], result[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=["moto", "s3rver", "both"], default="both")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--timeout", type=float, default=900, help="seconds before a run counts as failed")
    parser.add_argument("--verbose", action="store_true", help="print every run's time")
    args = parser.parse_args()
    servers = ["s3rver", "moto"] if args.server == "both" else [args.server]
    if "s3rver" in servers:
        s3rver_binary()

    # s3rver checks the access key id (S3RVER is its built-in account) and not the v4 signature; moto takes any
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true", "DVC_NO_ANALYTICS": "1",
           "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
    work = Path(tempfile.mkdtemp(prefix="modelreg-pull-bench-"))
    repo = work / "repo"
    repo.mkdir()
    try:
        run(["git", "init", "-q", "-b", "main"], repo, env)
        run(["git", "config", "user.name", "bench"], repo, env)
        run(["git", "config", "user.email", "bench@example.com"], repo, env)
        run(["dvc", "init", "-q"], repo, env)
        run(["dvc", "remote", "add", "-d", "registry", f"s3://{BUCKET}/store"], repo, env)
        (repo / "others").mkdir()
        for index in range(20):
            (repo / "others" / f"artifact-{index:02d}.bin").write_bytes(os.urandom(1 << 20))
            run(["dvc", "add", "-q", f"others/artifact-{index:02d}.bin"], repo, env)
        lines = ["schema: 1", "models:"]
        digests = {}
        for size in args.sizes:
            path = repo / "models" / f"m{size}.bin"
            path.parent.mkdir(exist_ok=True)
            digest, identity = hashlib.md5(), hashlib.sha256()
            with open(path, "wb") as handle:
                for _ in range(size):
                    block = os.urandom(1 << 20)
                    handle.write(block)
                    digest.update(block)
                    identity.update(block)
            run(["dvc", "add", "-q", f"models/m{size}.bin"], repo, env)
            digests[size] = digest.hexdigest()
            record = (f"{{md5: '{digests[size]}', sha256: '{identity.hexdigest()}', size: {path.stat().st_size}, "
                      "created: 2026-11-26T10:00:00Z}")  # as `modelreg register` records it: pull checks both
            lines += [f"  m{size}:", f"    path: models/m{size}.bin", "    format: onnx", "    versions:",
                      f"      v1.0.0: {record}"]
        (repo / "models" / "registry.yaml").write_text("\n".join(lines) + "\n")
        run(["git", "add", "-A"], repo, env)
        run(["git", "commit", "-qm", "artifacts"], repo, env)
        run(["git", "tag", "release"], repo, env)
        cache = work / "cache"  # kept to push to each server; every timed run starts with no cache
        shutil.copytree(repo / ".dvc" / "cache", cache)

        def clean() -> None:
            shutil.rmtree(repo / ".dvc" / "cache", ignore_errors=True)
            shutil.rmtree(work / "out", ignore_errors=True)
            (work / "a.bin").unlink(missing_ok=True)
            for item in (repo / "others").glob("*.bin"):
                item.unlink()
            for item in (repo / "models").glob("*.bin"):
                item.unlink()

        print("| server | artifact | `modelreg pull` | boto3 `download_file` | `git checkout && dvc pull` | "
              "modelreg / fastest other |")
        print("|---|---:|---:|---:|---:|---:|")
        notes = []
        for name in servers:
            with (s3rver_server(work) if name == "s3rver" else moto_server()) as endpoint:
                # the endpoint is per machine: config.local, so the committed tree stays as tagged
                run(["dvc", "remote", "modify", "--local", "registry", "endpointurl", endpoint], repo, env)
                shutil.rmtree(repo / ".dvc" / "cache", ignore_errors=True)
                shutil.copytree(cache, repo / ".dvc" / "cache")
                push(repo, env, endpoint, {digests[size]: size << 20 for size in args.sizes})
                largest = max(args.sizes)
                first, last = range_seconds(endpoint, f"store/files/md5/{digests[largest][:2]}/"
                                            f"{digests[largest][2:]}", largest << 20)
                notes.append(f"{name}: a 1 MB ranged GET of the {largest} MB object takes {first:.3f} s at its "
                             f"start, {last:.3f} s at its end")
                for size in args.sizes:
                    digest = digests[size]
                    key = f"store/files/md5/{digest[:2]}/{digest[2:]}"
                    results = measure({
                        "modelreg": [str(BIN / "modelreg"), "pull", f"m{size}@v1.0.0", "-o",
                                     str(work / "out" / "a.bin")],
                        "boto3": [sys.executable, "-c", BOTO3_DOWNLOAD, endpoint, key, str(work / "a.bin"), BUCKET],
                        "dvc": f"git checkout -q release && dvc pull -q models/m{size}.bin",
                    }, repo, env, clean, args.runs, args.timeout)
                    ours = results["modelreg"]
                    others = [r["median_s"] for r in (results["boto3"], results["dvc"]) if r["median_s"] is not None]
                    ratio = f"{ours['median_s'] / min(others):.2f}x" if ours["median_s"] and others else "-"
                    print(f"| {name} | {size} MB | {cell(ours)} | {cell(results['boto3'])} | {cell(results['dvc'])} "
                          f"| {ratio} |", flush=True)
                    if args.verbose:
                        for label, result in results.items():
                            print(f"    {label}: " + " ".join(f"{t:.2f}" for t in result["times"]), flush=True)
        print()
        for note in notes:
            print(note)
        load = os.getloadavg()
        print(f"{args.runs} fresh processes each, taking turns, medians; servers on 127.0.0.1; {os.cpu_count()} "
              f"CPUs; load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
