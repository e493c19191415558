"""Deploy step: pull exactly the artifact that holds a stage, verified, and smoke-test it.

For each model with a version in STAGE (or just --model): pull it by md5 from
the registry remote into deploy/NAME/, verify it, load it, predict on the
sample input kept beside the model (models/NAME/sample.json), and write what
was deployed to the job summary.

    python -m modelreg.deploy [--stage production] [--model NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import api, store
from .lookup import Reference
from .problems import ModelregError
from .registry import Registry


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="production")
    parser.add_argument("--model", default="")
    args = parser.parse_args()
    rows = []
    try:
        registry = Registry(store.load().data)
        names = [args.model] if args.model else [m.name for m in registry.models() if args.stage in m.stages]
        for name in names:
            answer = api.resolve_reference(Reference(name, stage=args.stage))
            target = api.pull(answer, Path("deploy") / name / Path(answer.path).name)
            model = api.load_verified(target, answer.format)
            sample = Path(answer.path).parent / "sample.json"
            outcome = "loaded; no sample input to predict on"
            if sample.exists() and hasattr(model, "predict"):
                predictions = model.predict(json.loads(sample.read_text())["rows"])
                outcome = f"{len(predictions)} predictions on {sample}"
            print(f"deployed {name} {answer.version} (md5 {answer.md5}): {outcome}")
            rows.append(f"| {name} | {answer.version} | `{answer.md5}` | {outcome} |")
    except ModelregError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(f"## Deployed ({args.stage})\n\n| model | version | md5 | smoke test |\n|---|---|---|---|\n")
            handle.write("\n".join(rows or [f"| (no model holds {args.stage}) | | | |"]) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
