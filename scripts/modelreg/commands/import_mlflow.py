"""modelreg import-mlflow: bring an MLflow model registry's versions, stages and metrics into this registry.

Each MLflow version N becomes vN.0.0; its files are downloaded into the model's
path, added to DVC (and pushed to the candidates remote), and its run's metrics,
params, commit and description are recorded. Aliases and legacy stages that
name a configured stage (production, staging) become stage assignments with a
history entry saying where they came from. The registry is written once, at
the end, through the same checks as every other write.
"""

from __future__ import annotations

import argparse
import re
import shutil
from datetime import datetime, timezone
from pathlib import Path

from ..problems import ModelregError
from ._common import add_registry_option, load, repo_root


def add_parser(sub) -> None:
    parser = sub.add_parser("import-mlflow", help="import versions, stages/aliases and metrics from MLflow")
    parser.add_argument("--tracking-uri", required=True, help="MLflow tracking URI, e.g. sqlite:///mlflow.db")
    parser.add_argument("--registry-uri", help="MLflow registry URI (default: the tracking URI)")
    parser.add_argument("names", nargs="*", metavar="MODEL", help="MLflow model names (default: all)")
    parser.add_argument("--no-push", action="store_true", help="do not push the artifacts to 'candidates'")
    add_registry_option(parser)
    parser.set_defaults(run=run)


def registry_name(name: str) -> str:
    """An MLflow model name as a registry name: lowercase letters, digits and inner dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug:
        raise ModelregError(f"MLflow model {name!r} has no letters or digits to name it by")
    return slug


def _time(milliseconds: int | None) -> str:
    moment = datetime.fromtimestamp((milliseconds or 0) / 1000, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def run(args: argparse.Namespace) -> int:
    import mlflow
    from mlflow.tracking import MlflowClient

    from .. import ops, store
    from ..adapters import dvc, git
    from ..registry import Registry

    loaded = load(args)
    root = repo_root(loaded)
    client = MlflowClient(tracking_uri=args.tracking_uri, registry_uri=args.registry_uri or args.tracking_uri)
    mlflow.set_tracking_uri(args.tracking_uri)
    mlflow.set_registry_uri(args.registry_uri or args.tracking_uri)
    wanted = set(args.names)
    models = [m for m in client.search_registered_models() if not wanted or m.name in wanted]
    if wanted - {m.name for m in models}:
        raise ModelregError(f"MLflow has no model named {', '.join(sorted(wanted - {m.name for m in models}))}")
    stage_names = Registry(loaded.data).stage_names
    new = loaded.data
    by = git.user(root)
    seen: dict[str, str] = {}
    for source in models:
        name = registry_name(source.name)
        if seen.setdefault(name, source.name) != source.name:
            raise ModelregError(f"MLflow models {seen[name]!r} and {source.name!r} both become {name!r}")
        existing = Registry(new).model(name)
        path = existing.path if existing else f"models/{name}"
        versions = sorted(client.search_model_versions(f"name='{source.name}'"), key=lambda v: int(v.version))
        aliased = dict(client.get_registered_model(source.name).aliases or {})  # alias -> version number
        assignments = []
        for mv in versions:
            version = f"v{int(mv.version)}.0.0"
            if existing and existing.version(version):
                print(f"skipped {name} {version}: already registered")
                continue
            target = root / path
            if target.exists():
                shutil.rmtree(target) if target.is_dir() else target.unlink()
            target.parent.mkdir(parents=True, exist_ok=True)
            mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{source.name}/{mv.version}",
                                                dst_path=str(target))
            out = _dvc_add(root, path)
            if not args.no_push:
                dvc.push(root, path, "candidates")
            run_data = client.get_run(mv.run_id).data if mv.run_id else None
            record = {"md5": out.md5, "size": out.size or 0, "created": _time(mv.creation_timestamp),
                      "author": mv.user_id or "mlflow"}
            commit = (run_data.tags.get("mlflow.source.git.commit") if run_data else None) or ""
            if re.fullmatch(r"[0-9a-f]{40}", commit):
                record["commit"] = commit
            if run_data and run_data.metrics:
                record["metrics"] = dict(run_data.metrics)
            if run_data and run_data.params:
                record["params"] = dict(run_data.params)
            if mv.description:
                record["notes"] = mv.description
            fields = {"path": path, "format": "directory"}
            if source.description:
                fields = {"description": source.description, **fields}
            new = ops.add_version(new, name, version, record, fields)
            aliases = {alias.lower() for alias, number in aliased.items() if str(number) == str(mv.version)}
            legacy = (mv.current_stage or "").lower()  # MLflow 2's stages, still readable
            for stage in stage_names:
                if stage in aliases:
                    assignments.append((stage, version, "alias"))
                elif stage == legacy:
                    assignments.append((stage, version, "stage"))
            print(f"imported {source.name} version {mv.version} as {name} {version} (md5 {record['md5']})")
        for stage, version, kind in assignments:
            new = ops.set_stage(new, name, stage, version, f"imported from MLflow ({kind} {stage} of "
                                f"{source.name} version {version[1:].split('.')[0]})", by)
    store.apply(loaded, new)
    print(f"wrote {loaded.display}; commit it with the .dvc files: git add models && git commit")
    return 0


def _dvc_add(root: Path, path: str):
    from dvc.repo import Repo

    from ..adapters import dvcfiles

    with Repo(str(root)) as repo:
        repo.add(path)
    record = dvcfiles.find_out(root, path)
    if record is None:
        raise ModelregError(f"dvc add {path} left no record")
    return record
