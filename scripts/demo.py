"""The whole registry lifecycle, run for real in a scratch copy of this template.

Trains three versions of the example churn model with DVC, registers them,
compares them, promotes through staging to production under the gates, pulls
and verifies the production artifact and predicts with it, shows a refused
promotion, archives the loser, rolls back, and prints the history. The DVC
remotes are two local folders, so nothing leaves this machine.

    python scripts/demo.py [--workdir DIR] [--keep]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent
TEMPLATE_FILES = ["dvc.yaml", "params.yaml", ".gitignore", "models/registry.yaml", "models/registry.schema.json",
                  ".github/CODEOWNERS",
                  "scripts/prepare.py", "scripts/train.py", "scripts/evaluate.py",
                  "models/churn-classifier/sample.json"]
MODEL = "churn-classifier"


class Demo:
    def __init__(self, workdir: Path):
        self.root = workdir / "repo"
        self.remotes = workdir / "remotes"
        bin_dir = str(Path(sys.executable).parent)
        self.env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
                    "DVC_NO_ANALYTICS": "1", "PYTHONUNBUFFERED": "1"}
        self.env.pop("MODELREG_REGISTRY", None)
        self.steps = 0

    def step(self, title: str) -> None:
        self.steps += 1
        print(f"\n=== {self.steps}. {title}", flush=True)

    def say(self, text: str) -> None:
        print(textwrap.fill(text, 100), flush=True)

    def run(self, command: str, expect: int = 0, quiet: bool = False) -> str:
        print(f"$ {command}", flush=True)
        result = subprocess.run(command, shell=True, cwd=self.root, env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        output = result.stdout.rstrip()
        if output and not quiet:
            print(textwrap.indent(output, "  "), flush=True)
        if result.returncode != expect:
            if quiet and output:
                print(textwrap.indent(output, "  "))
            raise SystemExit(f"demo: `{command}` exited {result.returncode}, expected {expect}")
        return output

    def set_params(self, **train: object) -> None:
        import yaml

        path = self.root / "params.yaml"
        params = yaml.safe_load(path.read_text())
        params["train"].update(train)
        path.write_text(yaml.safe_dump(params, sort_keys=False))
        print(f"  params.yaml train: {params['train']}")

    def train_and_register(self, message: str, notes: str) -> str:
        self.run(f"git commit -qam {shlex.quote('Params: ' + message)} || true", quiet=True)
        self.run("dvc repro -q", quiet=True)
        self.run("cat metrics/churn-classifier.json")
        self.run(f"git add -A && git commit -qm {shlex.quote('Train: ' + message)}")
        out = self.run(f"modelreg register {MODEL} --notes {shlex.quote(notes)} --commit --json", quiet=True)
        import json

        result = json.loads(out)
        print(f"  registered {MODEL} {result['version']}: md5 {result['md5']}, {result['size']} bytes, "
              f"metrics {result['metrics']}, pushed to '{result['pushed_to']}'")
        return result["version"]

    def release(self) -> None:
        """What the release workflow runs on main: copy new artifacts to the registry remote, tag them."""
        self.run("modelreg ci release --no-push")

    def setup(self) -> None:
        self.step("A fresh repository from the template, with two local DVC remotes")
        self.root.mkdir(parents=True)
        for name in TEMPLATE_FILES:
            target = self.root / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(TEMPLATE / name, target)
        self.run("git init -q -b main && git config user.name alice && git config user.email alice@example.com")
        self.run("dvc init -q")
        self.run(f"dvc remote add candidates {shlex.quote(str(self.remotes / 'candidates'))}")
        self.run(f"dvc remote add -d registry {shlex.quote(str(self.remotes / 'registry'))}")
        self.run("git add -A && git commit -qm 'Start from the modelreg template'")
        self.run("modelreg validate")

    def lifecycle(self) -> None:
        self.setup()

        self.step("Train v1: a random forest with 60 shallow trees, and register it")
        self.say("`dvc repro` runs prepare -> train -> evaluate; `modelreg register` reads the md5 from dvc.lock, "
                 "the metrics from the metrics file, the params and data lineage from dvc.lock, and pushes the "
                 "artifact to the 'candidates' remote.")
        v1 = self.train_and_register("random forest, 60 trees", "Baseline random forest.")
        self.run("git show --stat --format=%s HEAD")

        self.step(f"Promote {v1} to staging, then production (gates are checked first)")
        self.run(f"modelreg promote {MODEL} {v1} --to staging --reason 'Baseline passes the staging gate' --commit")
        self.run(f"modelreg promote {MODEL} {v1} --to production --reason 'First production model' --commit")
        self.release()

        self.step("Train v2 with more and deeper trees, register it, and compare")
        self.set_params(n_estimators=200, max_depth=10)
        v2 = self.train_and_register("random forest, 200 trees, depth 10", "More and deeper trees.")
        self.run(f"modelreg compare {MODEL}")

        self.step(f"Promote the better one, {v2}: staging, then production (it must beat production)")
        self.run(f"modelreg promote {MODEL} {v2} --to staging --reason '+0.05 AUC on the holdout set' --commit")
        self.run(f"modelreg promote {MODEL} {v2} --to production --reason 'Beats {v1} on AUC and accuracy' "
                 "--commit")
        self.run("git show HEAD -- models/registry.yaml | tail -n 12")
        self.release()

        self.step("Resolve and pull the production artifact, verify it, load it and predict")
        self.run(f"modelreg resolve {MODEL}@production")
        self.run(f"modelreg pull {MODEL}@production -o deploy/model.skops")
        self.run("python -c \"import json, modelreg; model = modelreg.load('churn-classifier'); "
                 "sample = json.load(open('models/churn-classifier/sample.json')); "
                 "print('churn probability:', model.predict_proba(sample['rows'])[:, 1].round(3))\"")
        self.say("The deploy job of the release workflow does the same for every model in production:")
        self.run("modelreg deploy --stage production")

        self.step("Train v3, a weak model: the production gate refuses it, and nothing changes")
        self.set_params(n_estimators=3, max_depth=2)
        v3 = self.train_and_register("random forest, 3 stumps", "Tiny model for a latency experiment.")
        self.run(f"modelreg compare {MODEL} {v2} {v3}")
        before = hashlib.sha256((self.root / "models/registry.yaml").read_bytes()).hexdigest()
        self.run(f"modelreg promote {MODEL} {v3} --to production --reason 'Faster'", expect=1)
        after = hashlib.sha256((self.root / "models/registry.yaml").read_bytes()).hexdigest()
        print(f"  registry.yaml unchanged: {before == after} (sha256 {after[:16]})")
        if before != after:
            raise SystemExit("demo: a refused promotion changed the registry")

        self.step(f"Archive the loser, {v3}")
        self.run(f"modelreg archive {MODEL} {v3} --reason 'Fails the production gate: AUC 0.67' --commit")

        self.step(f"Roll back production to the previous version ({v1})")
        self.run(f"modelreg rollback {MODEL} --reason '{v2} misbehaves on live traffic' --commit")
        self.run(f"modelreg resolve {MODEL}@production --json")

        self.step("The release tags the archive and the rollback; GTO and DVC read the same state")
        self.release()
        self.run(f"gto show {MODEL}")
        self.run(f"dvc artifacts get . {MODEL} --stage production -o /tmp/modelreg-demo-artifact.skops "
                 f"&& md5sum /tmp/modelreg-demo-artifact.skops && rm /tmp/modelreg-demo-artifact.skops")

        self.step("History, the registry, and the audit trail in git")
        self.run(f"modelreg history {MODEL}")
        self.run("modelreg list")
        self.run(f"modelreg show {MODEL}")
        self.run("modelreg validate --dvc --remote candidates")
        self.run("git log --format='%h %s' -- models/registry.yaml")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, help="scratch folder (default: a new temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder to look around")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="modelreg-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    demo = Demo(workdir.resolve())
    try:
        demo.lifecycle()
        print(f"\nDemo finished: {demo.steps} steps ok.")
    finally:
        if args.keep or args.workdir:
            print(f"The scratch repository is in {demo.root}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
