"""modelreg import-gto: bring GTO's versions, stage assignments and deprecations (git tags) into the registry."""

from __future__ import annotations

import argparse
import sys

from ._common import add_registry_option, load


def add_parser(sub) -> None:
    parser = sub.add_parser("import-gto", help="import versions, stages and deprecations from GTO's git tags",
                            description="Reads GTO's tags (NAME@vX.Y.Z, NAME#STAGE#N, NAME@vX.Y.Z!, "
                                        "NAME@deprecated) and the artifacts of artifacts.yaml / dvc.yaml, and "
                                        "writes the same registry into models/registry.yaml. The tags stay as "
                                        "they are; running it again changes nothing.")
    parser.add_argument("names", nargs="*", metavar="NAME", help="GTO artifacts to import (default: every model)")
    parser.add_argument("--stage", action="append", default=[], metavar="GTO=STAGE",
                        help="map a GTO stage to a registry stage, e.g. prod=production (repeatable; "
                             "GTO= leaves that stage out)")
    parser.add_argument("--remote", default="registry",
                        help="DVC remote holding the versions' bytes, to hash them (default: registry); a version "
                             "whose file is in the workspace is hashed there")
    parser.add_argument("--commit", action="store_true", help="commit the registry with a descriptive message")
    add_registry_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..flows import change
    from ..flows.import_gto import run as import_gto, stage_mapping

    mapping = stage_mapping(args.stage)
    loaded = load(args)
    result = import_gto(loaded, args.names, mapping, remote=args.remote,
                        mode=change.COMMIT if args.commit else change.WRITE,
                        say=lambda line: print(line, file=sys.stderr))
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    if not result.changed:
        print(f"nothing to import: {loaded.display} already has every version, stage change and deprecation "
              "GTO's tags record")
        return 0
    for line in result.done:
        print(line)
    print(f"wrote {loaded.display}")
    if result.commit:
        print(f"committed {result.commit[:12]}: Import models from GTO tags")
    else:
        print("review it with `git diff`, then commit it (or pass --commit)")
    print("GTO's tags stay as they are: gto show reads the same registry; from now on change it with modelreg "
          "(docs/adoption.md)")
    return 0
