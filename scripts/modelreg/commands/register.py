"""modelreg register NAME: record the artifact DVC tracks as a new version and push it to candidates."""

from __future__ import annotations

import argparse
import sys

from ._common import add_json_option, add_registry_option


def add_parser(sub) -> None:
    parser = sub.add_parser("register", help="register the model DVC tracks as a new version")
    parser.add_argument("name")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--version", help="version to register, vX.Y.Z")
    group.add_argument("--bump", choices=("major", "minor", "patch"),
                       help="bump the newest version (default: minor; the first version is v1.0.0)")
    parser.add_argument("--notes", help="what changed, for reviewers")
    parser.add_argument("--stage", help="also put the new version into this stage (e.g. staging)")
    parser.add_argument("--reason", help="why the new version goes to --stage (required with --stage; kept in history)")
    parser.add_argument("--remote", default="candidates", help="DVC remote to push to (default: candidates)")
    parser.add_argument("--no-push", action="store_true", help="do not push the artifact (tests, dry runs)")
    parser.add_argument("--commit", action="store_true", help="commit registry.yaml and dvc.lock")
    add_registry_option(parser)
    add_json_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..flows.register import register
    from ..views.terminal import emit_json

    result = register(args.name, version=args.version, bump=args.bump, notes=args.notes, stage=args.stage,
                      reason=args.reason, remote=None if args.no_push else args.remote, commit=args.commit,
                      registry=args.registry)
    if args.json:
        emit_json(result)
    else:
        print(f"registered {result['name']} {result['version']} (md5 {result['md5']}, {result['size']} bytes)")
        if result.get("pushed_to"):
            print(f"pushed the artifact to DVC remote '{result['pushed_to']}'")
        if result.get("stage"):
            print(f"{result['stage']} -> {result['version']}")
        if result.get("signature"):
            from ..core.signature import describe

            print(f"input signature: {describe(result['signature'])}")
        for note in result.get("signature_notes") or ():
            print(f"note: {note}", file=sys.stderr)
        if result.get("commit_sha"):
            print(f"committed {result['commit_sha'][:12]}")
    # No pickle warning here: registering reads md5s and hashes bytes, it never loads the model.
    # Loading is refused where it happens (pull, deploy, serve) unless --allow-pickle.
    return 0
