"""modelreg rollback NAME [--to VERSION] --reason TEXT: return a stage to its previous version."""

from __future__ import annotations

import argparse

from .. import ops
from ..adapters import git
from ..registry import PRODUCTION
from ._common import load, placed, repo_root, require_reason, write_change
from .promote import add_change_options


def add_parser(sub) -> None:
    parser = sub.add_parser("rollback", help="put the previous version back into a stage (default: production)")
    parser.add_argument("name")
    parser.add_argument("--to", metavar="VERSION", dest="version",
                        help="version to return to (default: the previous holder in history)")
    parser.add_argument("--stage", default=PRODUCTION)
    add_change_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    reason = require_reason(args.reason)
    loaded = load(args)
    by = args.by_user = args.by or git.user(repo_root(loaded))
    with placed(loaded):
        version = args.version or ops.rollback_target(loaded.data, args.name, args.stage)
        new = ops.set_stage(loaded.data, args.name, args.stage, version, f"Rollback: {reason}", by)
    return write_change(args, loaded, new, f"Roll back {args.name} {args.stage} to {version}", reason, "rollback",
                        args.name, version)
