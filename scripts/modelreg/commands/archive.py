"""modelreg archive NAME VERSION --reason TEXT: retire a version, keeping its record."""

from __future__ import annotations

import argparse

from ._common import add_change_options, load, require_reason, requester, write_change


def add_parser(sub) -> None:
    parser = sub.add_parser("archive", help="archive a version (it keeps its record; it can hold no stage)")
    parser.add_argument("name")
    parser.add_argument("version")
    add_change_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..flows import change

    reason = require_reason(args.reason)
    loaded = load(args)
    new, intent = change.archive(loaded, args.name, args.version, reason, requester(args, loaded))
    return write_change(args, loaded, new, intent)
