"""modelreg deploy [--stage production] [--model NAME]: what the deploy job runs.

Pulls each model's stage holder by md5, verifies, loads and smoke-tests it,
and writes what was deployed to the job summary.
"""

from __future__ import annotations

import argparse


def add_parser(sub) -> None:
    parser = sub.add_parser("deploy", help="pull, verify, load and smoke-test what holds a stage (the deploy job)")
    parser.add_argument("--stage", default="production")
    parser.add_argument("--model", default="", help="one model (default: every model with a version in the stage)")
    parser.add_argument("--allow-pickle", action="store_true",
                        help="load pickle and joblib versions (loading them runs code from the file; "
                             "refused by default)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..adapters import actions
    from ..flows.deploy import deploy

    deployed = deploy(args.stage, args.model, allow_pickle=args.allow_pickle)
    for item in deployed:
        print(f"deployed {item.name} {item.version} (md5 {item.md5}): {item.outcome}")
    rows = [f"| {d.name} | {d.version} | `{d.md5}` | {d.outcome} |" for d in deployed]
    actions.add_summary(f"## Deployed ({args.stage})\n\n| model | version | md5 | smoke test |\n|---|---|---|---|\n"
                        + "\n".join(rows or [f"| (no model holds {args.stage}) | | | |"]))
    return 0
