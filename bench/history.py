"""The release, audit and site on long registry histories (issue 13).

    python bench/history.py                 # 1,000 and 3,000 commits
    python bench/history.py --quick         # 100 and 300 commits
    python bench/history.py --sizes 1000 --runs 5 --before e20442c

Generates a repository whose main has N commits, every one of which changes
models/registry.yaml (50 models; each commit registers a version or moves
staging/production, written the way modelreg's edit writer writes them), with
real git (one `git fast-import`), in a temporary folder. Then it times, each in
a fresh process, with the median of 5 runs (3 for 1,000 commits and more):

- `modelreg ci release --no-push --no-copy`, first run (tags deleted before each run);
- the same again with nothing to do;
- `modelreg audit`;
- `modelreg site -o DIR`.

Each cell is the median wall time and the median CPU time (user + system, of the
process and the git processes it ran): on a shared machine the wall time grows
with the load, the CPU time much less. The load average is printed with each cell.

The processes run with their bytecode cached, as an installed package has it
(pip compiles it): PYTHONDONTWRITEBYTECODE is dropped and PYTHONPYCACHEPREFIX
points into the temporary folder, which is filled before the first timed run, so
no run pays for compiling modelreg's sources and the work tree gets no __pycache__.

"before" is either the code at a git revision (--before REV: `git archive` of it
into a temporary folder, run with the same interpreter and PYTHONPATH pointing
at its scripts/; its runs alternate with this work tree's, one for one, so both
see the same load) or, by default, the figures issue 13 reported for e20442c.

    python bench/history.py --sizes 3000 --keep /tmp/h --commands rerun audit site --before HEAD
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import instructions  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BASE_DATE = 1_780_000_000  # 2026-05-28
REGISTRY = "models/registry.yaml"
PEOPLE = ("alice", "bob", "carol", "dave")

# Issue 13's figures for e20442c (seconds), measured on this machine kind.
ISSUE_BEFORE = {
    ("release, first run", 100): 4.8, ("release, first run", 300): 15.1, ("release, first run", 1000): 79.8,
    ("release, nothing to do", 100): 3.3, ("release, nothing to do", 300): 12.6,
    ("release, nothing to do", 1000): 70.8, ("release, nothing to do", 3000): 398.0,
    ("audit", 100): 3.4, ("audit", 300): 11.9, ("audit", 1000): 66.3,
    ("site", 100): 3.8, ("site", 300): 12.3,
}


class _Model:
    def __init__(self, index: int, rnd: random.Random):
        self.name = f"model-{index:03d}"
        self.rnd = rnd
        self.versions: list[tuple[str, list[str]]] = []
        self.stages: dict[str, str] = {}
        self.history: list[str] = []
        self.minor = 0
        self._text: str | None = None

    def register(self, at: str) -> None:
        self.minor += 1
        name = f"v1.{self.minor}.0"
        rnd = self.rnd
        self.versions.append((name, [
            f"      {name}:", f"        md5: {rnd.getrandbits(128):032x}", f"        size: {rnd.randint(1000, 10**8)}",
            f"        commit: {rnd.getrandbits(160):040x}", f"        created: {at}",
            f"        author: {rnd.choice(PEOPLE)}",
            f"        metrics: {{roc_auc: {0.6 + self.minor / 10000:.4f}, accuracy: {rnd.random():.4f}}}",
            f"        params: {{n_estimators: {rnd.randint(10, 500)}, max_depth: {rnd.randint(2, 20)}}}",
            f"        data: {{path: data/churn.csv, md5: {rnd.getrandbits(128):032x}}}"]))
        self._text = None

    def move(self, stage: str, version: str, at: str, number: int) -> None:
        previous = self.stages.get(stage)
        self.stages[stage] = version
        self.history.append(f"      - {{at: {at}, by: {self.rnd.choice(PEOPLE)}, stage: {stage}, version: {version}, "
                            f"previous: {previous or 'null'}, reason: change {number}}}")
        self._text = None

    def step(self, at: str, number: int) -> None:
        """One change: promote the newest version to staging, staging to production, or register one."""
        latest = self.versions[-1][0]
        choice = self.rnd.random()
        if choice < 0.35 and self.stages.get("staging") != latest:
            self.move("staging", latest, at, number)
        elif choice < 0.6 and self.stages.get("staging") and self.stages.get("production") != self.stages["staging"]:
            self.move("production", self.stages["staging"], at, number)
        else:
            self.register(at)

    def text(self) -> str:
        if self._text is None:
            lines = [f"  {self.name}:", f"    description: Generated model {self.name}.",
                     f"    path: models/{self.name}/model.skops", "    format: skops",
                     '    owners: [alice, "@acme/ml-leads"]', "    metric: {name: roc_auc, goal: max}"]
            if self.stages:
                lines += ["    stages:"] + [f"      {s}: {v}" for s, v in self.stages.items()]
            else:
                lines.append("    stages: {}")
            lines.append("    versions:")
            for _, block in self.versions:
                lines += block
            lines += ["    history:", *self.history] if self.history else ["    history: []"]
            self._text = "\n".join(lines) + "\n"
        return self._text


def iso(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def generate(root: Path, commits: int, models: int = 50, seed: int = 1) -> Path:
    """A git repository at `root` whose main has `commits` commits, each changing the registry."""
    rnd = random.Random(seed)
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    for key, value in (("user.name", "bench"), ("user.email", "bench@example.com"), ("commit.gpgsign", "false")):
        subprocess.run(["git", "config", key, value], cwd=root, check=True)
    all_models = [_Model(i, rnd) for i in range(models)]
    head = "# yaml-language-server: $schema=registry.schema.json\n# Generated by bench/history.py.\nschema: 1\nmodels:\n"
    importer = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=root, stdin=subprocess.PIPE)
    assert importer.stdin is not None

    def commit(number: int, message: str, text: str) -> None:
        data, body = message.encode(), text.encode()
        importer.stdin.write(b"commit refs/heads/main\n" + f"mark :{number + 1}\n".encode()
                             + f"committer bench <bench@example.com> {BASE_DATE + number * 600} +0000\n".encode()
                             + f"data {len(data)}\n".encode() + data + b"\n"
                             + (f"from :{number}\n".encode() if number else b"")
                             + f"M 100644 inline {REGISTRY}\n".encode() + f"data {len(body)}\n".encode() + body
                             + b"\n")

    for model in all_models:
        model.register(iso(BASE_DATE))
    commit(0, "registry with 50 models", head + "".join(m.text() for m in all_models))
    for number in range(1, commits):
        model = all_models[rnd.randrange(models)]
        model.step(iso(BASE_DATE + number * 600 - 60), number)
        commit(number, f"change {number} of {model.name}", head + "".join(m.text() for m in all_models))
    importer.stdin.close()
    if importer.wait() != 0:
        raise SystemExit("git fast-import failed")
    subprocess.run(["git", "reset", "-q", "--hard", "main"], cwd=root, check=True)
    return root


def timed(command: list[str], cwd: Path, env: dict) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and the git processes it ran)."""
    import resource

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed in {cwd}:\n{result.stderr}")
    return elapsed, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def median(samples: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def delete_tags(root: Path) -> None:
    refs = subprocess.run(["git", "for-each-ref", "refs/tags", "--format=delete %(refname)"], cwd=root,
                          capture_output=True, text=True, check=True).stdout
    subprocess.run(["git", "update-ref", "--stdin"], cwd=root, input=refs, text=True, check=True)


def measure(root: Path, trees: dict[str, Path], runs: int, out: Path, commands: list[str],
            fresh_clone: bool = False, counted: dict | None = None) -> dict[str, dict[str, tuple[float, float]]]:
    """Medians of `runs` fresh processes of each command for the code of each tree (label -> its scripts/).

    The trees take turns run by run, so a change of the machine's load falls on all of them alike. Each
    tree's bytecode is compiled into its own cache before the first timed run. fresh_clone: time the rerun,
    the audit and the site in a new clone of `root` (tags and objects packed, as a CI checkout has them).
    counted: filled with (command, label) -> instructions of one more run under valgrind."""
    modelreg = [sys.executable, "-m", "modelreg"]
    release = modelreg + ["ci", "release", "--no-push", "--no-copy"]
    envs = {}
    for label, scripts in trees.items():
        env = {**os.environ, "PYTHONPATH": str(scripts), "MODELREG_USER": "bench",
               "PYTHONPYCACHEPREFIX": str(out.parent / f"pycache-{label}")}
        for variable in [v for v in env if v.startswith(("GITHUB_", "MODELREG_NOTIFY"))
                         or v == "PYTHONDONTWRITEBYTECODE"]:
            del env[variable]
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(scripts / "modelreg")], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        envs[label] = env
    samples: dict[tuple[str, str], list[tuple[float, float]]] = {}

    def take(command: str, argv: list[str], before_each=None) -> None:
        for _ in range(runs):
            for label, env in envs.items():
                if before_each:
                    before_each()
                samples.setdefault((command, label), []).append(timed(argv, root, env))
        for label, env in envs.items():
            if counted is not None:
                if before_each:
                    before_each()
                counted[(command, label)] = instructions.count(argv, root, env)

    if "first" in commands:
        take("release, first run", release, lambda: delete_tags(root))
    elif not subprocess.run(["git", "tag", "-l"], cwd=root, capture_output=True).stdout:
        timed(release, root, envs[next(iter(envs))])  # the tags the other commands read
    if fresh_clone:
        clone = root.parent / f"{root.name}-clone"
        shutil.rmtree(clone, ignore_errors=True)
        subprocess.run(["git", "clone", "-q", "--no-local", str(root), str(clone)], check=True)
        root = clone
    if "rerun" in commands:
        take("release, nothing to do", release)
    if "audit" in commands:
        take("audit", modelreg + ["audit"])
    if "site" in commands:
        take("site", modelreg + ["site", "-o", str(out)])
    result: dict[str, dict[str, tuple[float, float]]] = {}
    for (command, label), values in samples.items():
        result.setdefault(label, {})[command] = median(values)
    return result


def old_scripts(revision: str, into: Path) -> Path:
    """The package as it was at `revision`, unpacked (no checkout of this work tree)."""
    archive = subprocess.run(["git", "archive", revision, "scripts"], cwd=ROOT, capture_output=True, check=True).stdout
    shutil.rmtree(into, ignore_errors=True)  # a --keep folder has the one of the last run
    into.mkdir(parents=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into / "scripts"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="100 and 300 commits")
    parser.add_argument("--sizes", type=int, nargs="+", help="commit counts (default 1000 3000)")
    parser.add_argument("--runs", type=int, help="runs per cell (default 5; 3 from 1,000 commits)")
    parser.add_argument("--before", metavar="REV", help="also measure the code at this git revision (or in this "
                        "folder: a scripts/ folder that holds modelreg/)")
    parser.add_argument("--keep", metavar="DIR", help="generate into DIR and keep it (and reuse what is there)")
    parser.add_argument("--commands", nargs="+", default=["first", "rerun", "audit", "site"],
                        choices=["first", "rerun", "audit", "site"], help="what to time (default: all)")
    parser.add_argument("--fresh-clone", action="store_true",
                        help="time the rerun, audit and site in a fresh clone (packed tags, as in CI) instead of "
                             "the repository the first run tagged (loose tags)")
    parser.add_argument("--instructions", action="store_true",
                        help="also count each command's instructions once under valgrind (bench/instructions.py)")
    args = parser.parse_args()
    if args.instructions and not instructions.available():
        parser.error("--instructions needs valgrind (Debian: apt-get install valgrind)")
    counted: dict | None = {} if args.instructions else None
    sizes = args.sizes or ([100, 300] if args.quick else [1000, 3000])
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="modelreg-history-"))
    rows = []
    try:
        before_scripts = None if not args.before else Path(args.before).resolve() \
            if (Path(args.before) / "modelreg").is_dir() else old_scripts(args.before, base / "before")
        for size in sizes:
            runs = args.runs or (3 if size >= 1000 else 5)
            root = base / f"repo-{size}"
            if not (root / ".git").is_dir():
                generate(root, size)
            trees = {"after": ROOT / "scripts", **({"before": before_scripts} if before_scripts else {})}
            this_size: dict | None = {} if counted is not None else None
            measured = measure(root, trees, runs, base / f"site-{size}", args.commands, args.fresh_clone, this_size)
            for (command, label), number in (this_size or {}).items():
                counted[(command, size, label)] = number
            after, before = measured["after"], measured.get("before", {})
            load = os.getloadavg()[0]
            for command, (seconds, cpu) in after.items():
                old = before[command][0] if command in before else ISSUE_BEFORE.get((command, size))
                old_cpu = before[command][1] if command in before else None
                rows.append((command, size, old, old_cpu, seconds, cpu, runs, load))
                print(f"{command:24} {size:>6,} commits  before {_s(old):>9}"
                      + (f" (CPU {_s(old_cpu)})" if old_cpu is not None else "")
                      + f"  after {_s(seconds):>9} (CPU {_s(cpu)})  load {load:.1f}", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    source = f"measured at {args.before}" if args.before else "issue 13's figures for e20442c"
    print(f"\nbefore: {source}; after: this work tree; medians of fresh processes\n")
    print("| command | commits | before (wall) | before (CPU) | after (wall) | after (CPU) | speed-up (wall) | runs "
          "| load |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for command, size, old, old_cpu, new, cpu, runs, load in sorted(rows, key=lambda r: (r[0], r[1])):
        speedup = f"{old / new:,.1f}x" if old else "—"
        print(f"| {command} | {size:,} | {_s(old)} | {_s(old_cpu)} | {_s(new)} | {_s(cpu)} | {speedup} | {runs} "
              f"| {load:.1f} |")
    if counted:
        print("\ninstructions executed by the modelreg process (valgrind; its git processes not counted):\n")
        labels = list(dict.fromkeys(label for _, _, label in counted))
        print("| command | commits | " + " | ".join(labels) + " |\n|---|---:|" + "---:|" * len(labels))
        for command, size in dict.fromkeys((c, s) for c, s, _ in counted):
            print(f"| {command} | {size:,} | " + " | ".join(
                f"{counted[(command, size, label)] / 1e6:,.0f} M" if (command, size, label) in counted else "—"
                for label in labels) + " |")
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def _s(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1000:,.0f} ms" if seconds < 1 else f"{seconds:,.1f} s"


if __name__ == "__main__":
    main()
