"""Cold-start timings of `modelreg resolve` and `modelreg validate`.

Generates registries of 100, 1,000 and 10,000 versions over 50 models
(bench/generate.py), then runs each command in a fresh process several times
and reports the median wall time and the peak RSS of the child process.

    python bench/run.py [--runs 7] [--sizes 100 1000 10000] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import generate  # noqa: E402


def measure(command: list[str], runs: int) -> dict:
    times, rss = [], []
    for _ in range(runs):
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{command} failed: {process.stderr.read().decode()}")
        process.stderr.close()
        times.append(elapsed)
        rss.append(usage.ru_maxrss / 1024)  # KiB -> MiB on Linux
    return {"median_ms": statistics.median(times) * 1000, "min_ms": min(times) * 1000,
            "max_ms": max(times) * 1000, "peak_rss_mib": max(rss), "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args()
    modelreg = shutil.which("modelreg", path=str(Path(sys.executable).parent)) or "modelreg"
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    results = []
    for size in args.sizes:
        path = out / f"registry-{size}.yaml"
        path.write_text(generate(size))
        last = "model-049@production"
        for name, command in (("resolve", [modelreg, "resolve", last, "--registry", str(path)]),
                              ("validate", [modelreg, "validate", "--registry", str(path)])):
            subprocess.run(command, check=True, capture_output=True)  # warm the page cache
            row = {"command": name, "versions": size, "bytes": path.stat().st_size, **measure(command, args.runs)}
            results.append(row)
            print(f"{name:9} {size:>6} versions ({row['bytes'] / 1e6:5.2f} MB): median {row['median_ms']:7.1f} ms "
                  f"(min {row['min_ms']:.1f}, max {row['max_ms']:.1f}), peak RSS {row['peak_rss_mib']:.1f} MiB",
                  flush=True)
    machine = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
               "system": platform.platform()}
    print("\n| command | versions | median | min | max | peak RSS |\n|---|---:|---:|---:|---:|---:|")
    for row in results:
        print(f"| {row['command']} | {row['versions']:,} | {row['median_ms']:.0f} ms | {row['min_ms']:.0f} ms | "
              f"{row['max_ms']:.0f} ms | {row['peak_rss_mib']:.0f} MiB |")
    print(f"\n{args.runs} fresh processes each; {machine['cpus']} CPUs, Python {machine['python']}, "
          f"{machine['system']}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "results": results}, indent=2))


if __name__ == "__main__":
    main()
