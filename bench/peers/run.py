"""modelreg beside GTO and an MLflow 3 client, on the same registry content, in one run.

The peers are installed into their own virtualenv (bench/peers/.venv, made on
first use), never into the project's. For each size, the same generated
registry (bench/generate.py: N versions over 50 models, one production and one
staging version each) is expressed three ways - models/registry.yaml, GTO's
git tags (one commit per version, annotated tags), an MLflow sqlite store
(versions and aliases) - and each question is asked in fresh processes
(median of --runs, peak RSS from GNU time):

  which version is in production:  modelreg resolve | gto show NAME#production --version |
                                    dvc artifacts get . NAME --stage production (also downloads) |
                                    MlflowClient.get_model_version_by_alias
  list everything:                  modelreg list --json | gto show --json | search_registered_models

    python bench/peers/run.py [--sizes 1000 10000] [--runs 5] [--gto-max 1000]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from generate import generate  # noqa: E402

VENV = HERE / ".venv"
PEERS = ["gto>=1.10", "dvc>=3.50", "mlflow>=3"]
MODELREG = Path(sys.executable).parent / "modelreg"


def peer_python() -> Path:
    python = VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(python), "-m", "pip", "install", "-q", *PEERS], check=True, capture_output=True)
    return python


def measure(command: str, cwd: Path, runs: int) -> dict:
    times, rss = [], []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(["/usr/bin/time", "-f", "%M", "sh", "-c", command], cwd=cwd, capture_output=True,
                                text=True)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise SystemExit(f"{command} failed: {result.stderr[-1500:]}")
        rss.append(int(result.stderr.strip().splitlines()[-1]) / 1024)
    return {"s": statistics.median(times), "rss": max(rss), "out": result.stdout.strip()[:80]}


def gto_repo(path: Path, text: str, bin_dir: Path) -> None:
    """One commit per version with an annotated tag, and GTO stage tags, written with git fast-import.

    The first commit is a DVC repository whose dvc.yaml declares every model as an artifact (one small
    DVC-tracked file, pushed to a local remote), so `dvc artifacts get --stage` can fetch real bytes.
    """
    from modelreg.adapters import registry_file
    from modelreg.core.registry import Registry

    registry = Registry(registry_file.parse(text, "r")[0])
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    (path / "model.bin").write_bytes(os.urandom(1 << 16))
    artifacts = "".join(f"  {m}:\n    path: model.bin\n    type: model\n" for m in registry.model_names)
    (path / "dvc.yaml").write_text("artifacts:\n" + artifacts)
    for command in ("git config user.name bench && git config user.email b@example.com",
                    "dvc init -q", f"dvc remote add -d store {path.parent / 'dvc-remote'}",
                    "dvc add -q model.bin", "dvc push -q", "git add -A && git commit -qm base"):
        subprocess.run(command, shell=True, cwd=path, env=env, check=True, capture_output=True)
    stream, mark, when, marks = [], 0, 1_790_000_000, {}
    for model in registry.models():
        for version in model.ordered_versions():
            mark += 1
            when += 1
            content = f"{model.name} {version.name}"
            parent = ["from refs/heads/main^0"] if mark == 1 else []
            stream += ["commit refs/heads/main", f"mark :{mark}", f"committer bench <b@example.com> {when} +0000",
                       "data 1", "x", *parent, "M 644 inline artifact.txt", f"data {len(content)}", content,
                       f"tag {model.name}@{version.name}", f"from :{mark}",
                       f"tagger bench <b@example.com> {when} +0000", "data 10", "registered"]
            marks[(model.name, version.name)] = mark
        for counter, entry in enumerate(model.history, start=1):
            when += 1
            stream += [f"tag {model.name}#{entry.stage}#{counter}", f"from :{marks[(model.name, entry.version)]}",
                       f"tagger bench <b@example.com> {when} +0000", "data 8", "assigned"]
    subprocess.run(["git", "fast-import", "--quiet"], cwd=path, input=("\n".join(stream) + "\n").encode(),
                   check=True)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=path, check=True)


def mlflow_store(python: Path, path: Path, text: str) -> str:
    """An MLflow sqlite registry with the same models, versions and aliases (rows cloned from a real one)."""
    from modelreg.adapters import registry_file
    from modelreg.core.registry import Registry

    uri = f"sqlite:///{path}"
    seed = ("from mlflow import MlflowClient; c = MlflowClient(tracking_uri='URI', registry_uri='URI'); "
            "c.create_registered_model('seed'); c.create_model_version('seed', '/tmp/model', run_id=None); "
            "c.set_registered_model_alias('seed', 'production', '1')").replace("URI", uri)
    subprocess.run([str(python), "-c", seed], check=True, capture_output=True)
    registry = Registry(registry_file.parse(text, "r")[0])
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        model_row = dict(db.execute("select * from registered_models where name='seed'").fetchone())
        version_row = dict(db.execute("select * from model_versions where name='seed'").fetchone())
        alias_row = dict(db.execute("select * from registered_model_aliases where name='seed'").fetchone())
        db.execute("delete from registered_model_aliases")
        db.execute("delete from model_versions")
        db.execute("delete from registered_models")

        def insert(table: str, row: dict) -> None:
            db.execute(f"insert into {table} ({', '.join(row)}) values ({', '.join('?' * len(row))})",
                       list(row.values()))

        for model in registry.models():
            insert("registered_models", {**model_row, "name": model.name})
            for version in model.ordered_versions():
                number = int(version.name[1:].split(".")[0])
                insert("model_versions", {**version_row, "name": model.name, "version": number})
            for stage, holder in model.stages.items():
                insert("registered_model_aliases", {**alias_row, "name": model.name, "alias": stage,
                                                    "version": int(holder[1:].split(".")[0])})
    return uri


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--gto-max", type=int, default=1000,
                        help="largest size GTO is run at (it rebuilds its index from every tag on each call)")
    parser.add_argument("--pull-mb", type=int, default=100,
                        help="also time pulling an artifact of this size from S3 (bench/pull_s3.py); 0 skips")
    args = parser.parse_args()
    python = peer_python()
    bin_dir = python.parent
    rows = []
    for size in args.sizes:
        work = Path(tempfile.mkdtemp(prefix=f"modelreg-peers-{size}-"))
        try:
            text = generate(size)
            (work / "registry.yaml").write_text(text)
            gto_dir = work / "gto"
            if size <= args.gto_max:
                gto_repo(gto_dir, text, bin_dir)
            uri = mlflow_store(python, work / "mlflow.db", text)
            name = "model-049"
            q_mlflow = ("from mlflow import MlflowClient; c = MlflowClient(tracking_uri='URI', registry_uri='URI'); "
                        "print(c.get_model_version_by_alias('NAME', 'production').version)").replace(
                "URI", uri).replace("NAME", name)
            l_mlflow = ("from mlflow import MlflowClient; c = MlflowClient(tracking_uri='URI', registry_uri='URI'); "
                        "ms = list(c.search_registered_models(max_results=1000)); "
                        "print(len(ms), sum(len(c.search_model_versions(f\"name='{m.name}'\", max_results=10000)) "
                        "for m in ms))").replace("URI", uri)
            questions = {
                "production version": {
                    "modelreg": f"{MODELREG} resolve {name}@production --registry registry.yaml",
                    "gto": f"cd gto && {bin_dir}/gto show {name}#production --version",
                    "dvc": f"cd gto && rm -f ../got.bin && {bin_dir}/dvc artifacts get . {name} --stage production "
                           f"-o ../got.bin",
                    "mlflow": f"{python} -c {shlex.quote(q_mlflow)}",
                },
                "list everything": {
                    "modelreg": f"{MODELREG} list --json --registry registry.yaml",
                    "gto": f"cd gto && {bin_dir}/gto show --json",
                    "mlflow": f"{python} -c {shlex.quote(l_mlflow)}",
                },
                "validate": {"modelreg": f"{MODELREG} validate --registry registry.yaml"},
            }
            for question, tools in questions.items():
                results = {}
                for tool, command in tools.items():
                    if tool in ("gto", "dvc") and size > args.gto_max:
                        continue
                    results[tool] = measure(command, work, args.runs)
                rows.append((size, question, results))
                base = results["modelreg"]["s"]
                cells = ", ".join(f"{tool} {r['s'] * 1000:.0f} ms / {r['rss']:.0f} MiB ({r['s'] / base:.1f}x)"
                                  for tool, r in results.items())
                print(f"{size:>6} versions, {question}: {cells}", flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print("\n| versions | question | modelreg | GTO | dvc artifacts get | MLflow 3 (sqlite) |\n"
          "|---:|---|---:|---:|---:|---:|")
    for size, question, results in rows:
        def cell(tool: str) -> str:
            if tool not in results:
                return "not run" if tool in ("gto", "dvc") and question == "production version" else "—"
            r = results[tool]
            ratio = "" if tool == "modelreg" else f" ({r['s'] / results['modelreg']['s']:.0f}x)"
            return f"{r['s'] * 1000:,.0f} ms, {r['rss']:.0f} MiB{ratio}"
        print(f"| {size:,} | {question} | {cell('modelreg')} | {cell('gto')} | {cell('dvc')} | {cell('mlflow')} |")
    print(f"\nmedians of {args.runs} fresh processes; {os.cpu_count()} CPUs; GTO only up to {args.gto_max:,} versions")
    if args.pull_mb:
        print("\npulling the production artifact from S3 (moto on 127.0.0.1), same run:\n")
        pulled = subprocess.run([sys.executable, str(HERE.parent / "pull_s3.py"), "--sizes", str(args.pull_mb),
                                 "--runs", str(args.runs)], capture_output=True, text=True, check=True)
        print("\n".join(line for line in pulled.stdout.splitlines() if line.startswith("|")))


if __name__ == "__main__":
    main()
