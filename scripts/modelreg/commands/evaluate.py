"""modelreg evaluate NAME VERSION: reproduce a version's metrics with the base's evaluation code.

`modelreg evaluate --changed --base REV --head REV -o FILE` is what the PR
workflow's isolated evaluation job runs: every version the change registers or
moves into a stage, written as JSON for the check job.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ._common import add_registry_option


def add_parser(sub) -> None:
    parser = sub.add_parser("evaluate", help="re-run the base's evaluation on a candidate; compare with its metrics")
    parser.add_argument("name", nargs="?")
    parser.add_argument("version", nargs="?")
    parser.add_argument("--changed", action="store_true",
                        help="every version the change (--base..--head) registers or moves into a stage")
    parser.add_argument("--base", default="HEAD", metavar="REV",
                        help="whose evaluation code and policy to use (default HEAD)")
    parser.add_argument("--head", metavar="REV", help="the registry to evaluate, from git (default: the working tree)")
    parser.add_argument("--stage", action="append", default=[], help="also check this stage's gates (repeatable)")
    parser.add_argument("--remote", default="candidates", help="DVC remote with the candidate (default candidates)")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds the evaluation may run (default 3600)")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the results as JSON")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--report-only", action="store_true",
                        help="exit 0 whatever the results (the CI job: the check job decides)")
    add_registry_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..adapters import git, registry_file
    from ..core.diff import STAGE_ASSIGNED, VERSION_REGISTERED, diff
    from ..core.problems import UsageError
    from ..flows.evaluate import evaluate
    from ..views.terminal import emit_json, safe, table

    if not args.changed and not (args.name and args.version):
        raise UsageError("name a model and a version, or pass --changed with --base and --head")
    path = registry_file.find_registry(args.registry).resolve()
    root = git.toplevel(path.parent)
    relative = path.relative_to(root).as_posix()
    head = git.run(["rev-parse", "--verify", f"{args.head}^{{commit}}"], root).strip() if args.head else None
    head_data = (registry_file.from_text(path, relative, git.show_file(head, relative, root) or "").data
                 if args.head else registry_file.load(path, check=False).data)
    base_data = registry_file.at_revision(root, args.base, relative)
    wanted: dict[tuple[str, str], list[str]] = {}
    if args.changed:
        events, _ = diff(base_data, head_data)
        for event in events:
            if event.kind == VERSION_REGISTERED:
                wanted.setdefault((event.model, event.version), [])
            elif event.kind == STAGE_ASSIGNED:
                wanted.setdefault((event.model, event.version), []).append(event.stage)
    else:
        wanted[(args.name, args.version)] = []
    results = [evaluate(root, args.base, head_data, name, version, list(dict.fromkeys([*stages, *args.stage])),
                        base_data=base_data, remote=args.remote, timeout=args.timeout, head=head)
               for (name, version), stages in wanted.items()]
    payload = [r.as_dict() for r in results]
    if args.output:
        Path(args.output).write_text(json.dumps(payload, indent=2) + "\n", "utf-8")
    if args.json:
        emit_json(payload)
    else:
        for result in results:
            print(safe(result.summary()))
            if result.metrics:
                table(["metric", "registered", "reproduced", "delta", "tolerance", "ok"],
                      [[m.name, m.registered, m.reproduced, "-" if m.delta is None else f"{m.delta:+.4g}",
                        m.tolerance, "yes" if m.ok else "NO"] for m in result.metrics])
    return 0 if args.report_only or all(r.ok for r in results) else 1
