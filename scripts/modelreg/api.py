"""The Python API: register, pull and load, as the CLI and training scripts use them."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from . import ops, store
from .lookup import Reference, Resolved, parse_reference, resolve
from .problems import ModelregError, Refusal
from .registry import Registry, bump as bump_version

FORMATS_BY_SUFFIX = {".skops": "skops", ".pkl": "pickle", ".pickle": "pickle", ".joblib": "joblib",
                     ".onnx": "onnx"}


def _root_of(registry_path: Path) -> Path:
    return registry_path.resolve().parent.parent


def register(name: str, *, version: str | None = None, bump: str | None = None, notes: str | None = None,
             stage: str | None = None, reason: str | None = None, remote: str | None = "candidates",
             commit: bool = False, registry: str | os.PathLike | None = None) -> dict:
    """Register the artifact DVC tracks for `name` as a new version.

    Refuses (ModelregError, nothing changed) when DVC's record is missing or
    stale, the training code or params have uncommitted changes, or the same
    bytes are already registered. Pushes to `remote` before the registry is
    written, so no version is recorded whose bytes are not stored.
    """
    from .adapters import dvcfiles, git

    loaded = store.load(store.find_registry(str(registry) if registry else None))
    root = _root_of(loaded.path)
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
    record: dict[str, Any] = {"md5": out.md5, "size": out.size if out.size is not None else 0,
                              "commit": git.head_commit(root), "created": ops.now(),
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
    try:
        new = ops.add_version(loaded.data, name, name_of_version, record, fields)
        if stage:
            new = ops.set_stage(new, name, stage, name_of_version,
                                reason or notes or f"registered {name_of_version}", record["author"])
    except Refusal as refusal:
        raise refusal.at(loaded.display, loaded.root) from None
    text, _ = store.apply(loaded, new, dry_run=True)
    if remote:
        from .adapters import dvc

        dvc.push(root, path, remote)
    store.write_atomic(loaded.path, text)
    result = {"name": name, "version": name_of_version, **record, "path": path,
              "format": new["models"][name].get("format"), "pushed_to": remote, "stage": stage}
    if commit:
        paths = [str(loaded.path.resolve().relative_to(root))]
        if (root / "dvc.lock").exists():
            paths.append("dvc.lock")
        result["commit_sha"] = git.commit(paths, f"Register {name} {name_of_version}\n\n{notes or ''}".strip(),
                                          cwd=root)
    return result


def _refuse_unless_committed(root: Path, out, path: str) -> None:
    from .adapters import dvc, dvcfiles, git

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
    from .adapters import dvcfiles

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
    fields["format"] = meta.get("format") or FORMATS_BY_SUFFIX.get(Path(path).suffix, "directory")
    if meta.get("owners"):
        fields["owners"] = list(meta["owners"])
    if meta.get("metric"):
        fields["metric"] = {"name": meta["metric"], "goal": meta.get("goal", "max")}
    return fields


def pull(answer: Resolved, output: Path | None = None, remote: str = "registry", root: Path | None = None) -> Path:
    from .adapters import dvc

    root = root or _root_of(store.find_registry())
    target = output if output is not None else root / answer.path
    return dvc.pull(root, answer.md5, target, remote=remote, size=answer.size)


def resolve_reference(reference: str | Reference, registry: str | None = None) -> Resolved:
    ref = reference if isinstance(reference, Reference) else parse_reference(reference)
    path = store.find_registry(registry)
    return resolve(store.read_text(path), ref, store.display_name(path))


def _cache_dir() -> Path:
    base = os.environ.get("MODELREG_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "modelreg")
    return Path(base) / "artifacts"


def load(name: str, stage: str | None = "production", version: str | None = None, remote: str = "registry",
         registry: str | None = None, trusted: list[str] | None = None) -> Any:
    """Fetch, verify and load a model. Bytes are checked against the registry's md5 before loading."""
    ref = Reference(name, version=version) if version else Reference(name, stage=stage)
    answer = resolve_reference(ref, registry)
    target = cached_artifact(_root_of(store.find_registry(registry)), answer, remote)
    return load_verified(target, answer.format, trusted)


def cached_artifact(root: Path, answer: Resolved, remote: str = "registry") -> Path:
    """The artifact in the local cache, keyed by md5: a cached file is re-verified before it is used,
    anything else (or a directory) is pulled and verified again."""
    from .adapters import dvc

    target = _cache_dir() / answer.md5 / Path(answer.path).name
    if answer.md5.endswith(".dir") or not (target.exists() and dvc.md5_file(target) == answer.md5):
        dvc.pull(root, answer.md5, target, remote=remote, size=answer.size)
    return target


def load_verified(path: Path, fmt: str | None, trusted: list[str] | None = None) -> Any:
    """Load a file whose md5 the caller has just verified."""
    fmt = fmt or FORMATS_BY_SUFFIX.get(path.suffix)
    if fmt == "skops":
        import skops.io

        untrusted = skops.io.get_untrusted_types(file=path)
        allowed = set(trusted or []) | {t for t in untrusted if t.split(".")[0] in ("sklearn", "numpy", "scipy")}
        refused = [t for t in untrusted if t not in allowed]
        if refused:
            raise ModelregError(f"{path} contains types that are not trusted: {', '.join(refused)}; "
                                "pass trusted=[...] if you know them")
        return skops.io.load(path, trusted=sorted(allowed))
    if fmt in ("pickle", "joblib"):
        warnings.warn(f"loading {fmt} runs code from the file; its md5 was verified against the registry, "
                      "but prefer skops for models", stacklevel=2)
        if fmt == "joblib":
            import joblib

            return joblib.load(path)
        import pickle

        with open(path, "rb") as handle:
            return pickle.load(handle)
    return path  # onnx and directories: the caller's runtime opens them
