"""modelreg import-sagemaker: bring SageMaker Model Package Groups' packages, bytes, metrics and approvals into this
registry."""

from __future__ import annotations

import argparse

from ._common import add_registry_option, load


def add_parser(sub) -> None:
    parser = sub.add_parser("import-sagemaker", help="import the packages of SageMaker model package groups as "
                            "versions (bytes to DVC, metrics, the newest Approved package as production)")
    parser.add_argument("groups", nargs="+", metavar="GROUP", help="model package group names")
    parser.add_argument("--as", dest="as_name", metavar="MODEL",
                        help="the registry model name for the one GROUP (default: from models/sagemaker.yaml, "
                             "else the group name in lowercase)")
    parser.add_argument("--no-push", action="store_true", help="do not push the artifacts to 'candidates'")
    add_registry_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..flows import change
    from ..flows.import_sagemaker import import_groups
    from ..views.terminal import safe

    loaded = load(args)
    new = change.transition(loaded, lambda data: import_groups(loaded, args.groups, args.as_name,
                                                                push=not args.no_push,
                                                                say=lambda text: print(safe(text))))
    if new == loaded.data:
        print(f"nothing to import: {loaded.display} already has every package")
        return 0
    intent = change.Intent("import", "sagemaker", "", "Import models from SageMaker",
                           f"from the model package groups {', '.join(args.groups)}")
    change.apply(loaded, new, intent)
    print(f"wrote {loaded.display}; commit it with the .dvc files: git add models && git commit")
    return 0
