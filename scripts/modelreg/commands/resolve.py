"""modelreg resolve NAME@STAGE: which artifact a stage (or version) means, from a cold start."""

from __future__ import annotations

import argparse

from ..views.terminal import emit_json
from ._common import add_json_option, add_registry_option, resolve_args


def add_parser(sub) -> None:
    parser = sub.add_parser("resolve", help="print the version, md5, size and path a reference means")
    parser.add_argument("reference", help="NAME@production, NAME@v1.2.0, NAME@latest or models:/NAME@STAGE")
    parser.add_argument("--stage", help="the stage, when the reference is a bare NAME")
    add_registry_option(parser)
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    answer, path = resolve_args(args)
    if args.json:
        emit_json(answer.as_dict())
    else:
        stages = f" ({', '.join(answer.stages)})" if answer.stages else ""
        print(f"{answer.name} {answer.version}{stages}\n  md5  {answer.md5}\n  size {answer.size}\n"
              f"  path {answer.path}")
    return 0
