"""modelreg pull NAME@STAGE [-o PATH]: fetch exactly that artifact by md5, verified."""

from __future__ import annotations

import argparse
from pathlib import Path

from ..views.terminal import emit_json
from ._common import add_json_option, add_registry_option, resolve_args


def add_parser(sub) -> None:
    parser = sub.add_parser("pull", help="download a model version by its md5 from a DVC remote and verify it")
    parser.add_argument("reference", help="NAME@production, NAME@v1.2.0, models:/NAME@STAGE")
    parser.add_argument("--stage")
    parser.add_argument("-o", "--output", metavar="PATH", help="where to put it (default: the model's path)")
    parser.add_argument("--remote", default="registry", help="DVC remote to read (default: registry)")
    add_registry_option(parser)
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..adapters import registry_file
    from ..flows.artifacts import pull

    answer, path = resolve_args(args)
    target = pull(answer, Path(args.output) if args.output else None, remote=args.remote,
                  root=registry_file.repo_of(path))
    if args.json:
        emit_json({**answer.as_dict(), "output": str(target), "remote": args.remote, "verified": True})
    else:
        print(f"pulled {answer.name} {answer.version} from '{args.remote}' to {target} (md5 {answer.md5} verified)")
    return 0
