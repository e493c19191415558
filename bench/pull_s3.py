"""Pulling an artifact from S3: `modelreg pull` vs a plain boto3 download vs `git checkout && dvc pull`.

Starts moto's S3 server on 127.0.0.1, builds a DVC repository that tracks 20
other 1 MB artifacts next to the measured one, pushes everything, then times
each way of getting the measured artifact in fresh processes (median of
--runs) with the peak RSS of the process.

    python bench/pull_s3.py [--sizes 1 100 1000] [--runs 5]      (sizes in MB)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def measure(command, cwd: Path, env: dict, prepare=None, runs: int = 5) -> dict:
    """Median wall time and peak RSS over fresh processes.

    RSS comes from GNU time wrapped around the command: a child forked from
    this (large) process would report this process's pages as its own peak.
    """
    times, rss = [], []
    shell = command if isinstance(command, str) else " ".join(map(shlex.quote, command))
    for _ in range(runs):
        if prepare:
            prepare()
        start = time.perf_counter()
        result = subprocess.run(["/usr/bin/time", "-f", "%M", "sh", "-c", shell], cwd=cwd, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - start
        if result.returncode != 0:
            raise SystemExit(f"{shell} failed: {result.stderr[-2000:]}")
        times.append(elapsed)
        rss.append(int(result.stderr.strip().splitlines()[-1]) / 1024)
    return {"median_s": statistics.median(times), "peak_rss_mib": max(rss)}


def run(command: list[str], cwd: Path, env: dict) -> None:
    subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 100, 1000])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true", "DVC_NO_ANALYTICS": "1",
           "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_")})
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="registry")
    work = Path(tempfile.mkdtemp(prefix="modelreg-pull-bench-"))
    repo = work / "repo"
    repo.mkdir()
    try:
        run(["git", "init", "-q", "-b", "main"], repo, env)
        run(["git", "config", "user.name", "bench"], repo, env)
        run(["git", "config", "user.email", "bench@example.com"], repo, env)
        run(["dvc", "init", "-q"], repo, env)
        run(["dvc", "remote", "add", "-d", "registry", "s3://registry/store"], repo, env)
        run(["dvc", "remote", "modify", "registry", "endpointurl", endpoint], repo, env)
        (repo / "others").mkdir()
        for index in range(20):
            (repo / "others" / f"artifact-{index:02d}.bin").write_bytes(os.urandom(1 << 20))
            run(["dvc", "add", "-q", f"others/artifact-{index:02d}.bin"], repo, env)
        lines = ["schema: 1", "models:"]
        digests = {}
        for size in args.sizes:
            path = repo / "models" / f"m{size}.bin"
            path.parent.mkdir(exist_ok=True)
            with open(path, "wb") as handle:
                for _ in range(size):
                    handle.write(os.urandom(1 << 20))
            run(["dvc", "add", "-q", f"models/m{size}.bin"], repo, env)
            digest = digests[size] = hashlib.md5(path.read_bytes()).hexdigest()
            lines += [f"  m{size}:", f"    path: models/m{size}.bin", "    format: onnx", "    versions:",
                      f"      v1.0.0: {{md5: '{digest}', size: {path.stat().st_size}, created: 2026-11-26T10:00:00Z}}"]
        (repo / "models" / "registry.yaml").write_text("\n".join(lines) + "\n")
        run(["git", "add", "-A"], repo, env)
        run(["git", "commit", "-qm", "artifacts"], repo, env)
        run(["git", "tag", "release"], repo, env)
        run(["dvc", "push", "-q"], repo, env)

        def clean() -> None:
            shutil.rmtree(repo / ".dvc" / "cache", ignore_errors=True)
            shutil.rmtree(work / "out", ignore_errors=True)
            for item in (repo / "others").glob("*.bin"):
                item.unlink()
            for item in (repo / "models").glob("*.bin"):
                item.unlink()

        print("| artifact | modelreg pull | boto3 download | git checkout && dvc pull | modelreg / boto3 |")
        print("|---:|---:|---:|---:|---:|")
        for size in args.sizes:
            digest = digests[size]
            key = f"store/files/md5/{digest[:2]}/{digest[2:]}"
            ours = measure([str(BIN / "modelreg"), "pull", f"m{size}@v1.0.0", "-o", str(work / "out" / "a.bin")],
                           repo, env, clean, args.runs)
            floor = measure([sys.executable, "-c", "import boto3, sys; boto3.client('s3', endpoint_url=sys.argv[1])"
                             ".download_file('registry', sys.argv[2], sys.argv[3])", endpoint, key,
                             str(work / "a.bin")], repo, env, clean, args.runs)
            dvc_way = measure("git checkout -q release && dvc pull -q", repo, env, clean, args.runs)
            print(f"| {size} MB | {ours['median_s']:.2f} s, {ours['peak_rss_mib']:.0f} MiB | "
                  f"{floor['median_s']:.2f} s, {floor['peak_rss_mib']:.0f} MiB | "
                  f"{dvc_way['median_s']:.2f} s, {dvc_way['peak_rss_mib']:.0f} MiB | "
                  f"{ours['median_s'] / floor['median_s']:.2f}x |", flush=True)
        print(f"\n{args.runs} fresh processes each, medians; moto S3 server on 127.0.0.1; {os.cpu_count()} CPUs")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
