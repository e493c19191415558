"""modelreg archive NAME VERSION --reason TEXT: retire a version, keeping its record."""

from __future__ import annotations

import argparse

from .. import ops
from ..adapters import git
from ._common import load, placed, repo_root, require_reason, write_change
from .promote import add_change_options


def add_parser(sub) -> None:
    parser = sub.add_parser("archive", help="archive a version (it keeps its record; it can hold no stage)")
    parser.add_argument("name")
    parser.add_argument("version")
    add_change_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    reason = require_reason(args.reason)
    loaded = load(args)
    args.by_user = args.by or git.user(repo_root(loaded))
    with placed(loaded):
        new = ops.archive(loaded.data, args.name, args.version, reason)
    return write_change(args, loaded, new, f"Archive {args.name} {args.version}", reason, "archive", args.name,
                        args.version)
