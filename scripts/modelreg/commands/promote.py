"""modelreg promote NAME VERSION --to STAGE --reason TEXT: move a stage, gates first."""

from __future__ import annotations

import argparse

from .. import ops
from ..adapters import git
from ._common import add_registry_option, load, placed, repo_root, require_reason, write_change


def add_parser(sub) -> None:
    parser = sub.add_parser("promote", help="point a stage at a version (checks the stage's gates)")
    parser.add_argument("name")
    parser.add_argument("version")
    parser.add_argument("--to", required=True, metavar="STAGE", dest="stage")
    add_change_options(parser)
    parser.set_defaults(run=run)


def add_change_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--reason", help="why; kept in history (required)")
    parser.add_argument("--by", help="who asks for it (default: $MODELREG_USER, $GITHUB_ACTOR or git user.name)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--commit", action="store_true", help="commit the edit with a descriptive message")
    mode.add_argument("--pr", action="store_true",
                      help="propose it on a new branch as a pull request (needs GITHUB_TOKEN to open it)")
    add_registry_option(parser)


def run(args: argparse.Namespace) -> int:
    reason = require_reason(args.reason)
    loaded = load(args)
    by = args.by_user = args.by or git.user(repo_root(loaded))
    with placed(loaded):
        new = ops.set_stage(loaded.data, args.name, args.stage, args.version, reason, by)
    return write_change(args, loaded, new, f"Promote {args.name} {args.version} to {args.stage}", reason,
                        "promote", args.name, args.version)
