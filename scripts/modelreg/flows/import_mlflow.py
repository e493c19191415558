"""modelreg import-mlflow: bring an MLflow model registry's versions, stages and metrics into this registry.

Each MLflow version N becomes vN.0.0; its files are downloaded into the model's
path, added to DVC (and pushed to the candidates remote), and its run's metrics,
params, commit and description are recorded. Aliases and legacy stages that
name a configured stage (production, staging) become stage assignments with a
history entry saying where they came from. The registry is written once, at
the end, through flows.change like every other write.
"""

from __future__ import annotations

import re
import shutil
from datetime import datetime, timezone
from typing import Callable

from ..adapters.registry_file import Loaded
from ..core import transitions
from ..core.problems import ModelregError
from ..core.registry import Registry


def registry_name(name: str) -> str:
    """An MLflow model name as a registry name: lowercase letters, digits and inner dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug:
        raise ModelregError(f"MLflow model {name!r} has no letters or digits to name it by")
    return slug


def _time(milliseconds: int | None) -> str:
    moment = datetime.fromtimestamp((milliseconds or 0) / 1000, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def import_models(loaded: Loaded, tracking_uri: str, registry_uri: str | None, wanted_names: list[str],
                  push: bool = True, say: Callable[[str], None] = print) -> dict:
    """The registry data with every MLflow version and stage added; the caller writes it through flows.change."""
    import mlflow
    from mlflow.tracking import MlflowClient

    from ..adapters import dvc, git

    root = loaded.repo
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=registry_uri or tracking_uri)
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_registry_uri(registry_uri or tracking_uri)
    wanted = set(wanted_names)
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
                say(f"skipped {name} {version}: already registered")
                continue
            target = root / path
            if target.exists():
                shutil.rmtree(target) if target.is_dir() else target.unlink()
            target.parent.mkdir(parents=True, exist_ok=True)
            mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{source.name}/{mv.version}",
                                                dst_path=str(target))
            out = dvc.add(root, path)
            if push:
                dvc.push(root, path, "candidates")
            run_data = client.get_run(mv.run_id).data if mv.run_id else None
            record = {"md5": out.md5, "sha256": dvc.local_sha256(root / path)[0], "size": out.size or 0,
                      "created": _time(mv.creation_timestamp),
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
            new = transitions.add_version(new, name, version, record, fields)
            aliases = {alias.lower() for alias, number in aliased.items() if str(number) == str(mv.version)}
            legacy = (mv.current_stage or "").lower()  # MLflow 2's stages, still readable
            for stage in stage_names:
                if stage in aliases:
                    assignments.append((stage, version, "alias"))
                elif stage == legacy:
                    assignments.append((stage, version, "stage"))
            say(f"imported {source.name} version {mv.version} as {name} {version} (md5 {record['md5']})")
        for stage, version, kind in assignments:
            new = transitions.set_stage(new, name, stage, version, f"imported from MLflow ({kind} {stage} of "
                                f"{source.name} version {version[1:].split('.')[0]})", by)
    return new
