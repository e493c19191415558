"""Artifacts: pulled by md5 and verified, cached by md5 and re-verified, loaded only after that."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

from ..adapters import registry_file
from ..core.formats import FORMATS_BY_SUFFIX
from ..core.lookup import Reference, Resolved, parse_reference, resolve
from ..core.problems import ModelregError


def resolve_reference(reference: str | Reference, registry: str | None = None) -> Resolved:
    ref = reference if isinstance(reference, Reference) else parse_reference(reference)
    path = registry_file.find_registry(registry)
    return resolve(registry_file.read_text(path), ref, registry_file.display_name(path))


def pull(answer: Resolved, output: Path | None = None, remote: str = "registry", root: Path | None = None) -> Path:
    from ..adapters import dvc

    root = root or registry_file.repo_of(registry_file.find_registry())
    target = output if output is not None else root / answer.path
    return dvc.pull(root, answer.md5, target, remote=remote, size=answer.size)


def _cache_dir() -> Path:
    base = os.environ.get("MODELREG_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "modelreg")
    return Path(base) / "artifacts"


def load(name: str, stage: str | None = "production", version: str | None = None, remote: str = "registry",
         registry: str | None = None, trusted: list[str] | None = None) -> Any:
    """Fetch, verify and load a model. Bytes are checked against the registry's md5 before loading."""
    ref = Reference(name, version=version) if version else Reference(name, stage=stage)
    answer = resolve_reference(ref, registry)
    target = cached_artifact(registry_file.repo_of(registry_file.find_registry(registry)), answer, remote)
    return load_verified(target, answer.format, trusted)


def cached_artifact(root: Path, answer: Resolved, remote: str = "registry") -> Path:
    """The artifact in the local cache, keyed by md5: a cached file is re-verified before it is used,
    anything else (or a directory) is pulled and verified again."""
    from ..adapters import dvc

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
