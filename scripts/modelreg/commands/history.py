"""modelreg history NAME: every stage change, oldest first, with who and why."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from ..views.terminal import emit_json, table
from ._common import add_json_option, add_registry_option, load_model


def add_parser(sub) -> None:
    parser = sub.add_parser("history", help="show a model's stage changes")
    parser.add_argument("name")
    add_registry_option(parser)
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    registry, model = load_model(args)
    if args.json:
        emit_json([asdict(entry) for entry in model.history])
        return 0
    if not model.history:
        print(f"{model.name} has no stage changes yet")
        return 0
    table(["at", "stage", "version", "previous", "by", "reason"],
          [[e.at, e.stage, e.version or "(emptied)", e.previous or "-", e.by, e.reason] for e in model.history])
    return 0
