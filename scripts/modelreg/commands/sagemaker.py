"""modelreg sagemaker sync: mirror the registry into SageMaker's Model Registry (groups, packages, approvals)."""

from __future__ import annotations

import argparse
import json

from ._common import add_json_option, add_registry_option, load


def add_parser(sub) -> None:
    parser = sub.add_parser("sagemaker", help="SageMaker's Model Registry as a mirror of this registry")
    commands = parser.add_subparsers(dest="sagemaker_command", metavar="SAGEMAKER_COMMAND", required=True)
    sync = commands.add_parser("sync", help="create the missing groups and packages and set every approval "
                               "status from the registry (production: Approved, archived: Rejected); a rerun "
                               "writes nothing")
    sync.add_argument("names", nargs="*", metavar="MODEL",
                      help="models to mirror (default: every model in models/sagemaker.yaml)")
    sync.add_argument("--dry-run", action="store_true", help="say what would change; change nothing")
    add_json_option(sync)
    add_registry_option(sync)
    sync.set_defaults(run=run_sync)


def run_sync(args: argparse.Namespace) -> int:
    from ..adapters import actions
    from ..flows.sagemaker_sync import sync
    from ..views.terminal import safe

    loaded = load(args)
    report = sync(loaded, args.names, dry_run=args.dry_run,
                  say=(lambda text: None) if args.json else (lambda text: print(safe(text))))
    if args.json:
        print(json.dumps({"ok": True, "dry_run": report.dry_run, "writes": report.writes,
                          "changes": [{"model": c.model, "text": c.text, "changed_in_sagemaker": c.drift}
                                      for c in report.changes], "notes": report.notes}, indent=2))
    else:
        for note in report.notes:
            print(f"note: {safe(note)}")
        if not report.changes:
            print("nothing to do: SageMaker already mirrors the registry")
        elif report.drift:
            print(f"{len(report.drift)} change(s) made in SageMaker outside the registry were set back")
    actions.add_summary(report.markdown())
    return 0
