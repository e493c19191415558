"""Registering a new version: the artifact DVC tracks, its lineage and metrics, pushed before it is recorded."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..adapters import registry_file
from ..core import transitions
from ..core.formats import format_for
from ..core.problems import ModelregError, UsageError
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

    if stage and (reason is None or not reason.strip()):
        raise UsageError(f"--reason is required with --stage {stage}: say why {name} goes to {stage}; it is kept "
                         "in history and shown in review (promote asks the same)")
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
    traced = dvcfiles.lineage(dvcfiles.workspace(root), path)
    _refuse_unless_committed(root, out, path, traced)
    metrics = dvcfiles.read_metrics(root, dvcfiles.metrics_files(root, name, path=path))
    sha256 = _identity(root, path, out.md5)
    record: dict[str, Any] = {"md5": out.md5, "sha256": sha256, "size": out.size if out.size is not None else 0,
                              "commit": git.head_commit(root), "created": transitions.now(),
                              "author": git.user(root)}
    if metrics:
        record["metrics"] = metrics
    if traced.params:
        record["params"] = traced.params
    if traced.data:
        record["data"] = traced.data
    fields = _model_fields(path, artifact)
    fmt = (model.format if model else None) or fields.get("format")
    signature, notes_on_signature = input_signature(root, name, path, fmt)
    if signature:
        record["signature"] = signature
    if notes:
        record["notes"] = notes
    current = model.latest_version() if model else None
    name_of_version = version or (bump_version(current, bump or "minor") if current else "v1.0.0")

    def step(data: dict) -> dict:
        new = transitions.add_version(data, name, name_of_version, record, fields)
        if stage:
            new = transitions.set_stage(new, name, stage, name_of_version, reason or "", record["author"])
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
              "format": new["models"][name].get("format"), "pushed_to": remote, "stage": stage,
              "signature_notes": notes_on_signature}
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


def _refuse_unless_committed(root: Path, out, path: str, traced=None) -> None:
    """DVC's record must be up to date, and the code and params of every stage up to the model committed."""
    from ..adapters import dvc, dvcfiles, git

    target = out.stage if out.stage else f"{path}.dvc"
    status = dvc.stage_status(root, target)
    if status:
        raise ModelregError(f"DVC's record of {path} is not up to date ({describe_status(status)}); run dvc repro "
                            f"(or dvc commit) so the registered md5 is the one DVC tracks")
    if not out.stage:
        return
    traced = traced or dvcfiles.lineage(dvcfiles.workspace(root), path)
    param_files = [f for f in traced.param_files if (root / f).exists()]
    dirty = git.dirty(list(dict.fromkeys(traced.code + param_files + ["dvc.yaml"])), cwd=root)
    if dirty:
        raise ModelregError(f"the code that trained {path} has uncommitted changes ({', '.join(dirty)}); "
                            "commit them first so the version records the commit that made it")


_CHANGES = {"changed deps": "input", "changed outs": "output", "changed checksum": "checksum"}


def describe_status(status: dict) -> str:
    """`dvc status` as words: 'train: output models/m.skops modified; prepare: command changed'."""
    parts = []
    for stage, changes in (status.items() if isinstance(status, dict) else ()):
        words = []
        for item in changes if isinstance(changes, list) else [changes]:
            if isinstance(item, dict):
                for kind, paths in item.items():
                    label = _CHANGES.get(kind, kind.replace("changed ", ""))
                    if isinstance(paths, dict):
                        words += [f"{label} {p} {state}" for p, state in paths.items()]
                    else:
                        words.append(f"{label} {paths}")
            else:
                text = str(item)
                words.append(text.replace("changed ", "") + " changed" if text.startswith("changed ") else text)
        parts.append(f"{stage}: {', '.join(words) or 'changed'}")
    return "; ".join(parts) or "changed"


def input_signature(root: Path, name: str, path: str, fmt: str | None) -> tuple[dict | None, list[str]]:
    """The version's input signature: the feature count (and names) a skops model records, names and
    dtypes from the sample input beside it (models/NAME/sample.json). Only skops is loaded, with only
    scikit-learn, NumPy and SciPy types trusted; pickle and joblib are never loaded here."""
    import json

    from ..core import signature

    notes: list[str] = []
    names, rows = None, []
    for sample in dict.fromkeys((root / "models" / name / "sample.json", (root / path).parent / "sample.json")):
        if sample.is_file():
            try:
                names, rows = signature.from_sample(json.loads(sample.read_text("utf-8")))
            except (ValueError, UnicodeDecodeError) as error:
                notes.append(f"{sample.relative_to(root)} is not JSON ({error}); not used for the signature")
            break
    features, model_names = None, None
    target = root / path
    if fmt == "skops" and target.is_file():
        from .artifacts import load_verified

        try:
            loaded = load_verified(target, "skops")
        except Exception as error:  # a model the trusted types cannot load still registers, without a count
            notes.append(f"the model was not loaded to read its features ({str(error)[:200]})")
        else:
            count = getattr(loaded, "n_features_in_", None)
            try:
                features = int(count) if count is not None and not isinstance(count, bool) else None
            except (TypeError, ValueError):
                features = None
            found = getattr(loaded, "feature_names_in_", None)
            model_names = [str(n) for n in found] if found is not None else None
    built, more = signature.build(features=features, names=model_names or names, rows=rows)
    return built, notes + more


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
