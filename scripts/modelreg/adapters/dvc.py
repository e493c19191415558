"""Moving model bytes with DVC's own Python API. Imported only by commands that move bytes."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from ..problems import ModelregError

CANDIDATES = "candidates"
REGISTRY = "registry"
_CHUNK = 1 << 20


@contextmanager
def open_repo(root: Path) -> Iterator:
    from dvc.exceptions import NotDvcRepoError
    from dvc.repo import Repo

    try:
        repo = Repo(str(root))
    except NotDvcRepoError:
        raise ModelregError(f"{root} is not a DVC repository (run dvc init)") from None
    try:
        yield repo
    finally:
        repo.close()


def _errors():
    from dvc.exceptions import DvcException

    return DvcException


def stage_status(root: Path, stage: str) -> dict:
    """`dvc status STAGE --with-deps`: an empty dict when the stage and its inputs are committed."""
    with open_repo(root) as repo:
        try:
            return repo.status(targets=[stage], with_deps=True)
        except _errors() as error:
            raise ModelregError(f"dvc status {stage} failed: {error}") from None


def push(root: Path, path: str, remote: str) -> None:
    with open_repo(root) as repo:
        try:
            repo.push(targets=[path], remote=remote)
        except _errors() as error:
            raise ModelregError(f"could not push {path} to the DVC remote '{remote}': {error}; nothing was "
                                "registered", ) from None


def md5_file(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _hash_info(md5: str):
    from dvc_data.hashfile.hash_info import HashInfo

    return HashInfo("md5", md5)


def _remote_odb(repo, remote: str):
    from dvc.config import NoRemoteError, RemoteNotFoundError

    try:
        return repo.cloud.get_remote_odb(remote, "pull")
    except (NoRemoteError, RemoteNotFoundError) as error:
        raise ModelregError(f"DVC remote '{remote}' is not configured: {error}") from None


def fetch(repo, md5: str, remote: str) -> None:
    """Bring the object (and, for a directory, its files) into the local DVC cache."""
    odb = _remote_odb(repo, remote)
    try:
        result = repo.cloud.pull([_hash_info(md5)], odb=odb)
    except _errors() as error:
        raise ModelregError(f"could not fetch {md5} from DVC remote '{remote}': {error}") from None
    cache = repo.cache.local
    if result.failed or not cache.exists(md5):
        raise ModelregError(f"the DVC remote '{remote}' does not have the artifact {md5}; was it pushed "
                            f"(modelreg register pushes to '{CANDIDATES}', the release copies to '{REGISTRY}')?")


def _verify(path: Path, expected: str, what: str) -> None:
    actual = md5_file(path)
    if actual != expected:
        raise ModelregError(f"{what} failed verification: expected md5 {expected}, got {actual}; the bytes in "
                            "the remote or cache are not what the registry recorded, so nothing was written")


def _materialize(repo, md5: str, staging: Path) -> None:
    """Copy the verified object from the cache to `staging` (a file or a directory)."""
    cache = repo.cache.local
    source = Path(cache.oid_to_path(md5))
    if not md5.endswith(".dir"):
        _verify(source, md5, "the artifact")
        shutil.copyfile(source, staging)
        return
    _verify(source, md5[:-4], "the directory listing")
    from dvc_data.hashfile.tree import Tree

    tree = Tree.load(cache, _hash_info(md5))
    staging.mkdir()
    for key, _, info in tree:
        target = staging.joinpath(*key)
        member = Path(cache.oid_to_path(info.value))
        _verify(member, info.value, f"file {'/'.join(key)} of the artifact")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(member, target)


def pull(root: Path, md5: str, destination: Path, remote: str = REGISTRY) -> Path:
    """Fetch exactly `md5` from `remote` and place it at `destination`, verified, or change nothing."""
    destination = destination.absolute()
    destination.parent.mkdir(parents=True, exist_ok=True)
    with open_repo(root) as repo:
        fetch(repo, md5, remote)
        work = Path(tempfile.mkdtemp(prefix=".modelreg-pull-", dir=destination.parent))
        try:
            staging = work / "artifact"
            try:
                _materialize(repo, md5, staging)
            except ModelregError:
                _drop_cached(repo, md5)  # a bad cache copy must not poison the next try
                fetch(repo, md5, remote)
                shutil.rmtree(staging, ignore_errors=True)
                if staging.exists():
                    staging.unlink()
                _materialize(repo, md5, staging)
            if destination.is_dir() and not md5.endswith(".dir"):
                raise ModelregError(f"{destination} is a directory; give a file path with -o")
            if destination.exists():
                if destination.is_dir():
                    shutil.rmtree(destination)
                else:
                    destination.unlink()
            os.replace(staging, destination)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return destination


def _drop_cached(repo, md5: str) -> None:
    path = Path(repo.cache.local.oid_to_path(md5))
    if path.exists():
        path.chmod(0o644)
        path.unlink()


def _present(odb, md5: str) -> bool:
    if not odb.exists(md5):
        return False
    if not md5.endswith(".dir"):
        return True
    from dvc_data.hashfile.tree import Tree

    return all(odb.exists(info.value) for _, _, info in Tree.load(odb, _hash_info(md5)))


def remote_status(root: Path, remote: str, objects: dict[str, int]) -> dict[str, str]:
    """For each md5 -> expected size: '' when the remote has it with that size, else what is wrong."""
    result = {}
    with open_repo(root) as repo:
        odb = _remote_odb(repo, remote)
        for md5, size in objects.items():
            try:
                if not odb.exists(md5):
                    result[md5] = f"missing from DVC remote '{remote}'"
                    continue
                if md5.endswith(".dir"):
                    from dvc_data.hashfile.tree import Tree

                    tree = Tree.load(odb, _hash_info(md5))
                    missing = [info.value for _, _, info in tree if not odb.exists(info.value)]
                    total = sum(meta.size or 0 for _, meta, _ in tree)
                    result[md5] = (f"{len(missing)} file(s) of the directory missing from '{remote}'" if missing
                                   else "" if total == size else f"size {total} in '{remote}', registry says {size}")
                else:
                    actual = odb.fs.size(odb.oid_to_path(md5))
                    result[md5] = "" if actual == size else f"size {actual} in '{remote}', registry says {size}"
            except _errors() as error:
                result[md5] = f"cannot check DVC remote '{remote}': {error}"
            except OSError as error:
                result[md5] = f"cannot check DVC remote '{remote}': {error}"
    return result


def copy(root: Path, md5: str, source: str, target: str) -> bool:
    """Copy one artifact between remotes through the local cache, verifying it on the way.

    Returns False when `target` already had it (reruns are no-ops).
    """
    with open_repo(root) as repo:
        target_odb = _remote_odb(repo, target)
        if _present(target_odb, md5):
            return False
        fetch(repo, md5, source)
        staging = Path(tempfile.mkdtemp(prefix=".modelreg-copy-", dir=repo.site_cache_dir))
        try:
            _materialize(repo, md5, staging / "artifact")  # verifies every byte against md5
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        try:
            result = repo.cloud.push([_hash_info(md5)], odb=target_odb)
        except _errors() as error:
            raise ModelregError(f"could not copy {md5} to DVC remote '{target}': {error}") from None
        if result.failed:
            raise ModelregError(f"could not copy {md5} to DVC remote '{target}'")
    return True
