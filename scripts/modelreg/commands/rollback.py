"""modelreg rollback NAME [--to VERSION] --reason TEXT: return a stage to its previous version."""

from __future__ import annotations

import argparse

from ..core.registry import PRODUCTION
from ._common import add_change_options, load, require_reason, requester, write_change


def add_parser(sub) -> None:
    parser = sub.add_parser("rollback", help="put the previous version back into a stage (default: production)")
    parser.add_argument("name")
    parser.add_argument("--to", metavar="VERSION", dest="version",
                        help="version to return to (default: the previous holder in history)")
    parser.add_argument("--stage", default=PRODUCTION)
    add_change_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..flows import change

    reason = require_reason(args.reason)
    loaded = load(args)
    new, intent = change.rollback(loaded, args.name, reason, requester(args, loaded), args.version, args.stage)
    return write_change(args, loaded, new, intent)
