"""Artifacts: pulled by md5 and verified, cached by md5 and re-verified, loaded only after that.

Loading follows the format the registry records for the version (else the model's; the file's
suffix only when the registry names none). pickle and joblib run code from the file while they
load, so they load only when the caller opts in with allow_pickle=True: verifying the md5 proves
the bytes are the ones the registry names, not that whoever registered them is to be trusted.
"""

from __future__ import annotations

import os
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
    target = output if output is not None else dvc.inside(root, answer.path)  # registry text is untrusted
    pulled = dvc.pull(root, answer.md5, target, remote=remote, size=answer.size, sha256=answer.sha256)
    _verify_signature(root, answer, pulled, remote)
    return pulled


def _verify_signature(root: Path, answer: Resolved, path: Path, remote: str) -> None:
    """Where the version's stage requires a release signature, verify it (and its signer) before any use."""
    if answer.signing is None:
        return
    from .signing import verify

    verify(root, path, answer.md5, {"signing": answer.signing}, remote=remote)


def _cache_dir() -> Path:
    base = os.environ.get("MODELREG_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "modelreg")
    return Path(base) / "artifacts"


def load(name: str, stage: str | None = "production", version: str | None = None, remote: str = "registry",
         registry: str | None = None, trusted: list[str] | None = None, allow_pickle: bool = False) -> Any:
    """Fetch, verify and load a model. Bytes are checked against the registry's md5 before loading.

    The version's recorded format decides how: skops with only scikit-learn, NumPy and SciPy types
    trusted (plus `trusted`), onnx and directories as the verified path, and pickle or joblib only
    with `allow_pickle=True` (they run code from the file)."""
    ref = Reference(name, version=version) if version else Reference(name, stage=stage)
    answer = resolve_reference(ref, registry)
    check_loadable(answer, allow_pickle)  # before downloading anything
    target = cached_artifact(registry_file.repo_of(registry_file.find_registry(registry)), answer, remote)
    return load_verified(target, answer.format, trusted, allow_pickle=allow_pickle)


def cached_artifact(root: Path, answer: Resolved, remote: str = "registry") -> Path:
    """The artifact in the local cache, keyed by md5: a cached file is re-verified (md5, and sha256 when the
    registry records it) before it is used, anything else (or a directory) is pulled and verified again."""
    from ..adapters import dvc

    target = _cache_dir() / answer.md5 / Path(answer.path).name
    if answer.md5.endswith(".dir") or not (target.is_file() and _cached_matches(target, answer)):
        dvc.pull(root, answer.md5, target, remote=remote, size=answer.size, sha256=answer.sha256)
    _verify_signature(root, answer, target, remote)
    return target


def _cached_matches(target: Path, answer: Resolved) -> bool:
    from ..adapters import dvc

    if answer.sha256 is None:
        return dvc.md5_file(target) == answer.md5
    identity, digest = dvc.local_sha256(target)
    return digest == answer.md5 and identity == answer.sha256


PICKLE_FORMATS = ("pickle", "joblib")
PATH_FORMATS = ("onnx", "directory")  # handed back as the verified path, for the caller's runtime


class PickleRefused(ModelregError):
    def __init__(self, what: str, fmt: str):
        super().__init__(f"{what} is a {fmt} artifact and was not loaded: loading pickle runs code from the "
                         "file; pass allow_pickle=True / --allow-pickle if you trust every version that can "
                         "reach this stage")


def effective_format(fmt: str | None, path: Path) -> str:
    """The registry's format; the suffix's only when the registry records none."""
    return fmt if fmt is not None else FORMATS_BY_SUFFIX.get(path.suffix, "directory")


def check_loadable(answer: Resolved, allow_pickle: bool = False) -> None:
    """Refuse a pickle or joblib version up front, before its bytes are fetched, unless allowed."""
    fmt = effective_format(answer.format, Path(answer.path))
    if fmt in PICKLE_FORMATS and not allow_pickle:
        raise PickleRefused(f"{answer.name} {answer.version}", fmt)


def load_verified(path: Path, fmt: str | None, trusted: list[str] | None = None, *,
                  allow_pickle: bool = False) -> Any:
    """Load a file whose md5 the caller has just verified, as `fmt` (the registry's format) says.

    The file's suffix is consulted only when the registry records no format. pickle and joblib
    are refused unless `allow_pickle`; a format modelreg does not know is refused."""
    fmt = effective_format(fmt, path)
    if fmt in PICKLE_FORMATS and not allow_pickle:
        raise PickleRefused(str(path), fmt)
    if fmt == "skops":
        import skops.io

        untrusted = skops.io.get_untrusted_types(file=path)
        allowed = set(trusted or []) | {t for t in untrusted if t.split(".")[0] in ("sklearn", "numpy", "scipy")}
        refused = [t for t in untrusted if t not in allowed]
        if refused:
            raise ModelregError(f"{path} contains types that are not trusted: {', '.join(refused)}; "
                                "pass trusted=[...] if you know them")
        return skops.io.load(path, trusted=sorted(allowed))
    if fmt == "joblib":  # allowed above
        import joblib

        return joblib.load(path)
    if fmt == "pickle":  # allowed above
        import pickle

        with open(path, "rb") as handle:
            return pickle.load(handle)
    if fmt in PATH_FORMATS:
        return path  # the caller's runtime opens them
    raise ModelregError(f"{path}: format {str(fmt)[:40]!r} is not one modelreg loads "
                        "(pickle, joblib, skops, onnx or directory)")
