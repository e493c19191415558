"""modelreg promote NAME VERSION --to STAGE --reason TEXT: move a stage, gates first."""

from __future__ import annotations

import argparse

from ._common import add_change_options, load, require_reason, requester, write_change


def add_parser(sub) -> None:
    parser = sub.add_parser("promote", help="point a stage at a version (checks the stage's gates)")
    parser.add_argument("name")
    parser.add_argument("version")
    parser.add_argument("--to", required=True, metavar="STAGE", dest="stage")
    add_change_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..flows import change

    reason = require_reason(args.reason)
    loaded = load(args)
    new, intent = change.promote(loaded, args.name, args.version, args.stage, reason, requester(args, loaded))
    return write_change(args, loaded, new, intent)
