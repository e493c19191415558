"""modelreg sign: sign released artifacts (the release job runs `modelreg sign --released`)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ._common import add_registry_option, load


def add_parser(sub) -> None:
    parser = sub.add_parser("sign", help="sign artifacts in the registry remote (keyless in Actions, or --key)")
    parser.add_argument("name", nargs="?")
    parser.add_argument("version", nargs="?")
    parser.add_argument("--released", action="store_true",
                        help="every version the registry remote holds that has no signature yet")
    parser.add_argument("--key", metavar="PRIVATE.pem", help="an elliptic-curve private key (default: keyless "
                        "Sigstore signing with the workflow's OIDC identity, in GitHub Actions)")
    parser.add_argument("--remote", default="registry", help="DVC remote holding released artifacts")
    add_registry_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..adapters import dvc
    from ..core.problems import UsageError
    from ..core.registry import Registry
    from ..flows.signing import bundle_name, sign
    from ..views.terminal import safe

    if not args.released and not (args.name and args.version):
        raise UsageError("name a model and a version, or pass --released")
    loaded = load(args)
    registry = Registry(loaded.data)
    if args.released:
        versions = [(m, v) for m in registry.models() for v in m.ordered_versions()]
        present = dvc.remote_status(loaded.repo, args.remote, {v.md5: v.size for _, v in versions})
        versions = [(m, v) for m, v in versions if not present.get(v.md5)
                    and dvc.get_side_file(loaded.repo, args.remote, bundle_name(v.md5)) is None]
    else:
        model = registry.model(args.name)
        version = model.version(args.version) if model else None
        if version is None:
            raise UsageError(f"no version {args.version} of {args.name} in {loaded.display}")
        versions = [(model, version)]
    for model, version in versions:
        digest = sign(loaded.repo, version.md5, version.sha256, version.size, remote=args.remote,
                      private_key=Path(args.key) if args.key else None)
        print(safe(f"signed {model.name} {version.name} (md5 {version.md5}): bundle sha256 {digest}"))
    if not versions:
        print("every released artifact is signed")
    return 0
