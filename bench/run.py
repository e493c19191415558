"""Cold-start timings of `modelreg resolve` and `modelreg validate`.

Generates registries of 100, 1,000 and 10,000 versions over 50 models
(bench/generate.py), then runs each command in a fresh process several times
and reports the median wall time and the peak RSS of the child process, with
the machine's load average (1 minute) before and after each row: on a shared
machine a row measured under load is slower, and says so.

    python bench/run.py [--runs 7] [--sizes 100 1000 10000] [--commands resolve validate] [--json FILE]
    python bench/run.py --before DIR ...   # also the code in DIR (PYTHONPATH), interleaved
    python bench/run.py --instructions ... # also instructions executed (valgrind): load-proof

To time the code of another revision beside this one:

    mkdir -p /tmp/before && git archive REV scripts/modelreg | tar -x -C /tmp/before --strip-components=1
    python bench/run.py --commands validate --sizes 1000 10000 --runs 5 --before /tmp/before
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
import instructions  # noqa: E402


def measure(command: list[str], runs: int, envs: dict[str, dict | None]) -> dict[str, dict]:
    """Per code version (label -> environment), the runs of `command`: interleaved, so that a
    change in the machine's load falls on every version alike."""
    samples: dict[str, list] = {label: [] for label in envs}
    for _ in range(runs):
        for label, env in envs.items():
            start = time.perf_counter()
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
            _, status, usage = os.wait4(process.pid, 0)
            elapsed = time.perf_counter() - start
            if os.waitstatus_to_exitcode(status) != 0:
                raise SystemExit(f"{command} failed: {process.stderr.read().decode()}")
            process.stderr.close()
            # CPU time: the load changes it less than the wall time; RSS: KiB -> MiB on Linux
            samples[label].append((elapsed, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024))
    return {label: {"median_ms": statistics.median(s[0] for s in rows) * 1000,
                    "min_ms": min(s[0] for s in rows) * 1000, "max_ms": max(s[0] for s in rows) * 1000,
                    "cpu_ms": statistics.median(s[1] for s in rows) * 1000,
                    "peak_rss_mib": max(s[2] for s in rows), "runs": runs}
            for label, rows in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--commands", nargs="+", choices=["resolve", "validate"], default=["resolve", "validate"])
    parser.add_argument("--before", type=Path, metavar="DIR",
                        help="also time the code in DIR (a copy of scripts/ as it was), interleaved with this one")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    parser.add_argument("--instructions", action="store_true",
                        help="also count each command's instructions once under valgrind (bench/instructions.py): "
                             "a figure the machine's load does not move")
    args = parser.parse_args()
    if args.instructions and not instructions.available():
        parser.error("--instructions needs valgrind (Debian: apt-get install valgrind)")
    modelreg = shutil.which("modelreg", path=str(Path(sys.executable).parent)) or "modelreg"
    envs: dict[str, dict | None] = {"now": None}
    if args.before:
        envs = {"before": {**os.environ, "PYTHONPATH": str(args.before.resolve())}, "now": None}
    # Both trees' bytecode up to date, as installed code has it: with PYTHONDONTWRITEBYTECODE set (or
    # a read-only tree), a module edited since its .pyc was written is compiled again in every run.
    for tree in [HERE.parent / "scripts", *([args.before] if args.before else [])]:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(tree)], check=True, stdout=subprocess.DEVNULL)
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    results = []
    for size in args.sizes:
        path = out / f"registry-{size}.yaml"
        path.write_text(generate(size))
        last = "model-049@production"
        for name, command in (("resolve", [modelreg, "resolve", last, "--registry", str(path)]),
                              ("validate", [modelreg, "validate", "--registry", str(path)])):
            if name not in args.commands:
                continue
            for env in envs.values():
                subprocess.run(command, check=True, capture_output=True, env=env)  # warm the page cache
            load_before = os.getloadavg()[0]
            measured = measure(command, args.runs, envs)
            load = [load_before, os.getloadavg()[0]]
            for label, stats in measured.items():
                row = {"command": name, "code": label, "versions": size, "bytes": path.stat().st_size, **stats,
                       "load": load}
                if args.instructions:  # through the interpreter: valgrind does not follow a wrapper's exec
                    row["instructions"] = instructions.count([sys.executable, "-m", "modelreg", *command[1:]],
                                                             env=envs[label])
                results.append(row)
                print(f"{name:9} {label:6} {size:>6} versions ({row['bytes'] / 1e6:5.2f} MB): median "
                      f"{row['median_ms']:7.1f} ms (min {row['min_ms']:.1f}, max {row['max_ms']:.1f}), CPU "
                      f"{row['cpu_ms']:.0f} ms, peak RSS {row['peak_rss_mib']:.1f} MiB, load {load[0]:.1f}-{load[1]:.1f}"
                      + (f", {row['instructions'] / 1e6:,.0f} M instructions" if args.instructions else ""),
                      flush=True)
    machine = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
               "system": platform.platform()}
    extra = (" instructions |", "---:|") if args.instructions else ("", "")
    print(f"\n| command | code | versions | median | min | max | CPU | peak RSS | load |{extra[0]}\n"
          f"|---|---|---:|---:|---:|---:|---:|---:|---:|{extra[1]}")
    for row in results:
        print(f"| {row['command']} | {row['code']} | {row['versions']:,} | {row['median_ms']:.0f} ms | "
              f"{row['min_ms']:.0f} ms | {row['max_ms']:.0f} ms | {row['cpu_ms']:.0f} ms | {row['peak_rss_mib']:.0f} MiB | "
              f"{row['load'][0]:.1f}-{row['load'][1]:.1f} |"
              + (f" {row['instructions'] / 1e6:,.0f} M |" if args.instructions else ""))
    print(f"\n{args.runs} fresh processes each; {machine['cpus']} CPUs, Python {machine['python']}, "
          f"{machine['system']}")
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "results": results}, indent=2))


if __name__ == "__main__":
    main()
