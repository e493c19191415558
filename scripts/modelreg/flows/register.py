"""Registering a new version: the artifact DVC tracks, its lineage and metrics, pushed before it is recorded."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..adapters import registry_file
from ..core import transitions
from ..core.formats import format_for
from ..core.problems import ModelregError
from ..core.registry import Registry, bump as bump_version
from . import change


def register(name: str, *, version: str | None = None, bump: str | None = None, notes: str | None = None,
             stage: str | None = None, reason: str | None = None, remote: str | None = "candidates",
             commit: bool = False, registry: str | os.PathLike | None = None) -> dict:
    """Register the artifact DVC tracks for `name` as a new version.

    Refuses (ModelregError, nothing changed) when DVC's record is missing or
    stale, the training code or params have uncommitted changes, or the same
    bytes are already registered. Pushes to `remote` before the registry is
    written, so no version is recorded whose bytes are not stored.
    """
    from ..adapters import dvcfiles, git

    loaded = registry_file.load(registry_file.find_registry(str(registry) if registry else None))
    root = loaded.repo
    model = Registry(loaded.data).model(name)
    artifact = dvcfiles.artifact(root, name)
    if model is None and artifact is None:
        raise ModelregError(f"'{name}' is neither in {loaded.display} nor in the artifacts: section of "
                            "dvc.yaml; declare it in dvc.yaml (artifacts: {name: {path: ..., type: model}})")
    path = model.path if model else artifact["path"]
    if model and artifact and artifact.get("path") and artifact["path"].rstrip("/") != path.rstrip("/"):
        raise ModelregError(f"dvc.yaml says artifact {name} is {artifact['path']} but the registry says {path}; "
                            "make them agree")
    out = dvcfiles.find_out(root, path)
    if out is None:
        raise ModelregError(f"DVC has no record of {path}: run the pipeline (dvc repro) or dvc add it first")
    _refuse_unless_committed(root, out, path)
    lock = dvcfiles.read_lock(root).get(out.stage) if out.stage else None
    metrics = dvcfiles.read_metrics(root, dvcfiles.metrics_files(root, name))
    params: dict[str, Any] = {}
    for values in (lock.params.values() if lock else ()):
        params.update(values)
    sha256 = _identity(root, path, out.md5)
    record: dict[str, Any] = {"md5": out.md5, "sha256": sha256, "size": out.size if out.size is not None else 0,
                              "commit": git.head_commit(root), "created": transitions.now(),
                              "author": git.user(root)}
    if metrics:
        record["metrics"] = metrics
    if params:
        record["params"] = params
    data = _data_lineage(root, lock)
    if data:
        record["data"] = data
    if notes:
        record["notes"] = notes
    current = model.latest_version() if model else None
    name_of_version = version or (bump_version(current, bump or "minor") if current else "v1.0.0")
    fields = _model_fields(path, artifact)
    def step(data: dict) -> dict:
        new = transitions.add_version(data, name, name_of_version, record, fields)
        if stage:
            new = transitions.set_stage(new, name, stage, name_of_version,
                                        reason or notes or f"registered {name_of_version}", record["author"])
        return new

    new = change.transition(loaded, step)
    intent = change.Intent("register", name, name_of_version, f"Register {name} {name_of_version}", notes or "",
                           record["author"])

    def push() -> None:
        if remote:
            from ..adapters import dvc

            dvc.push(root, path, remote)

    outcome = change.apply(loaded, new, intent, mode=change.COMMIT if commit else change.WRITE, before_write=push,
                           also_commit=("dvc.lock",) if (root / "dvc.lock").exists() else ())
    result = {"name": name, "version": name_of_version, **record, "path": path,
              "format": new["models"][name].get("format"), "pushed_to": remote, "stage": stage}
    if outcome.commit:
        result["commit_sha"] = outcome.commit
    return result


def _identity(root: Path, path: str, md5: str) -> str:
    """The artifact's sha256, from the workspace bytes DVC recorded (a file's md5 is checked against DVC's)."""
    from ..adapters import dvc

    target = root / path
    if not target.exists():
        raise ModelregError(f"{path} is not in the workspace: run dvc checkout (or dvc pull) so modelreg can hash "
                            "the bytes it registers")
    sha256, md5_here = dvc.local_sha256(target)
    if md5_here is not None and md5_here != md5:
        raise ModelregError(f"{path} in the workspace (md5 {md5_here}) is not what DVC recorded ({md5}); run "
                            "dvc checkout or dvc repro, then register")
    return sha256


def _refuse_unless_committed(root: Path, out, path: str) -> None:
    from ..adapters import dvc, dvcfiles, git

    target = out.stage if out.stage else f"{path}.dvc"
    status = dvc.stage_status(root, target)
    if status:
        changed = "; ".join(f"{stage}: {changes}" for stage, changes in status.items())
        raise ModelregError(f"DVC's record of {path} is not up to date ({changed}); run dvc repro "
                            f"(or dvc commit) so the registered md5 is the one DVC tracks")
    if not out.stage:
        return
    lock = dvcfiles.read_lock(root)
    outputs = dvcfiles.outputs(lock)
    stage = lock[out.stage]
    code = [d["path"] for d in stage.deps if d["path"].rstrip("/") not in outputs
            and not (root / (d["path"] + ".dvc")).exists()]
    dirty = git.dirty(code + list(stage.params) + ["dvc.yaml"], cwd=root)
    if dirty:
        raise ModelregError(f"the code that trained {path} has uncommitted changes ({', '.join(dirty)}); "
                            "commit them first so the version records the commit that made it")


def _data_lineage(root: Path, lock) -> dict | None:
    """The training data: the first dependency that DVC tracks as data rather than code in git."""
    if lock is None:
        return None
    from ..adapters import dvcfiles

    outputs = dvcfiles.outputs(dvcfiles.read_lock(root))
    for dep in lock.deps:
        dep_path = dep["path"].rstrip("/")
        if dep.get("md5") and (dep_path in outputs or (root / (dep_path + ".dvc")).exists()):
            return {"path": dep_path, "md5": dep["md5"]}
    return None


def _model_fields(path: str, artifact: dict | None) -> dict:
    meta = (artifact or {}).get("meta") or {}
    fields: dict[str, Any] = {}
    if (artifact or {}).get("desc"):
        fields["description"] = artifact["desc"]
    fields["path"] = path
    fields["format"] = meta.get("format") or format_for(path)
    if meta.get("owners"):
        fields["owners"] = list(meta["owners"])
    if meta.get("metric"):
        fields["metric"] = {"name": meta["metric"], "goal": meta.get("goal", "max")}
    return fields
