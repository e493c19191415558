"""Generate a valid schema-1 registry of N versions over M models, deterministically.

    python bench/generate.py 10000 -o /tmp/registry.yaml [--models 50] [--seed 1]
"""

from __future__ import annotations

import argparse
import random


def generate(n_versions: int, n_models: int = 50, seed: int = 1) -> str:
    rnd = random.Random(seed)
    per = max(2, n_versions // n_models)
    out = ["# yaml-language-server: $schema=registry.schema.json", "schema: 1", "models:"]
    for m in range(n_models):
        name = f"model-{m:03d}"
        prod, staging = f"v{per - 1}.0.0", f"v{per}.0.0"
        out += [f"  {name}:", f"    description: Generated model {m}.",
                f"    path: models/{name}/model.skops", "    format: skops",
                '    owners: [alice, "@acme/ml-leads"]', "    metric: {name: roc_auc, goal: max}",
                "    gates:", "      staging: {roc_auc: {min: 0.5}}",
                "      production: {roc_auc: {min: 0.5}, beat_production: 0.0}",
                "    stages:", f"      staging: {staging}", f"      production: {prod}", "    versions:"]
        for v in range(1, per + 1):
            out += [f"      v{v}.0.0:", f"        md5: {rnd.getrandbits(128):032x}",
                    f"        size: {rnd.randint(1000, 10**8)}", f"        commit: {rnd.getrandbits(160):040x}",
                    "        created: 2026-11-26T10:04:00Z", "        author: alice",
                    f"        metrics: {{roc_auc: {0.5 + v / per / 4:.4f}, accuracy: {rnd.random():.4f}}}",
                    f"        params: {{n_estimators: {rnd.randint(10, 500)}, max_depth: {rnd.randint(2, 20)}}}",
                    f"        data: {{path: data/churn.csv, md5: {rnd.getrandbits(128):032x}}}",
                    "        notes: More trees, new features."]
        out += ["    history:",
                f"      - {{at: 2026-11-26T11:00:00Z, by: alice, stage: production, version: {prod}, "
                "previous: null, reason: first production model}",
                f"      - {{at: 2026-11-26T11:30:00Z, by: alice, stage: staging, version: {staging}, "
                "previous: null, reason: candidate}"]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("versions", type=int)
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(generate(args.versions, args.models, args.seed))


if __name__ == "__main__":
    main()
