"""modelreg import-mlflow: bring an MLflow model registry's versions, stages and metrics into this registry."""

from __future__ import annotations

import argparse

from ._common import add_registry_option, load


def add_parser(sub) -> None:
    parser = sub.add_parser("import-mlflow", help="import versions, stages/aliases and metrics from MLflow")
    parser.add_argument("--tracking-uri", required=True, help="MLflow tracking URI, e.g. sqlite:///mlflow.db")
    parser.add_argument("--registry-uri", help="MLflow registry URI (default: the tracking URI)")
    parser.add_argument("names", nargs="*", metavar="MODEL", help="MLflow model names (default: all)")
    parser.add_argument("--no-push", action="store_true", help="do not push the artifacts to 'candidates'")
    add_registry_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..flows import change
    from ..flows.import_mlflow import import_models

    loaded = load(args)
    new = change.transition(loaded, lambda data: import_models(loaded, args.tracking_uri, args.registry_uri,
                                                                args.names, push=not args.no_push))
    intent = change.Intent("import", "mlflow", "", "Import models from MLflow", f"from {args.tracking_uri}")
    change.apply(loaded, new, intent)
    print(f"wrote {loaded.display}; commit it with the .dvc files: git add models && git commit")
    return 0
