"""modelreg audit [NAME] [--at DATE]: the registry's audit trail, or what each stage held at a time."""

from __future__ import annotations

import argparse
import csv
import sys

from ..core.problems import ModelregError
from ..views.terminal import emit_json, table
from ._common import add_registry_option, load_reading_tags


def add_parser(sub) -> None:
    parser = sub.add_parser("audit", help="who changed which stage, when, why, approved by whom")
    parser.add_argument("name", nargs="?", help="one model (default: all)")
    parser.add_argument("--at", metavar="DATE", help="what each stage held at this time (ISO date or time, UTC)")
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON")
    output.add_argument("--csv", action="store_true", help="print CSV")
    parser.add_argument("--github", action="store_true",
                        help="ask the GitHub API about changes no release tag describes yet (needs GITHUB_TOKEN)")
    add_registry_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..adapters import git
    from ..core.timeline import parse_time, state_at
    from ..flows.audit import gather
    from ..core.registry import Registry

    with load_reading_tags(args) as (loaded, reading):
        registry = Registry(loaded.data)
        names = [args.name] if args.name else registry.model_names
        if args.name and registry.model(args.name) is None:
            raise ModelregError(f"no model named '{args.name}' "
                                f"(models: {', '.join(registry.model_names) or 'none'})")
        moment = parse_time(args.at) if args.at else None
        github = None
        if args.github:
            from ..adapters import github as github_api

            github = github_api.from_env()
        root = git.toplevel(loaded.repo)
        changes = gather(root, loaded.relative_to(root), registry, names, github, reading.result())
    if moment is not None:
        state = state_at(changes, moment)
        rows = [change.row() for _, change in sorted(state.items())]
        headers = ["model", "stage", "version", "at", "requester", "approvers", "pr", "reason"]
    else:
        rows = [change.row() for change in changes]
        headers = ["at", "model", "stage", "version", "previous", "requester", "approvers", "pr", "commit", "reason"]
    if args.json:
        emit_json(rows)
    elif args.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]) if rows else headers, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    else:
        if moment is not None:
            print(f"stages at {moment.isoformat()}:")
        table(headers, [[_cell(row.get(h)) for h in headers] for row in rows])
    return 0


def _cell(value) -> str:
    if value is None:
        return "-"
    return value[:12] if isinstance(value, str) and len(value) == 40 else str(value)
