"""Moving model bytes with DVC's own Python API. Imported only by commands that move bytes."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from itertools import islice
from pathlib import Path, PurePosixPath
from typing import Iterator

from ..core.digests import folder_sha256
from ..core.paths import folds_to_git
from ..core.problems import ModelregError, escaped

CANDIDATES = "candidates"
REGISTRY = "registry"
_CHUNK = 1 << 20  # one write, one hash update: the kernel copies 8 MB writes into the page cache 4x slower
_BLOCK = 8 << 20  # one read from a remote other than S3
_PART = 16 << 20  # one ranged GET from S3: fewer GETs cost less CPU (each costs botocore milliseconds)
_THREADS = 4  # ranged GETs in flight; memory stays at _THREADS + 1 parts whatever the artifact's size
_PIECE = 256 << 10  # one read from the socket: urllib3 allocates what it reads, so keep it small and reused
_ATTEMPTS = 3  # a part whose transfer breaks off is asked for again from where it stopped, this many times in all


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


def stage_status(root: Path, stage: str) -> dict:
    """`dvc status STAGE --with-deps`: an empty dict when the stage and its inputs are committed."""
    with open_repo(root) as repo:
        try:
            return repo.status(targets=[stage], with_deps=True)
        except _errors() as error:
            raise ModelregError(f"dvc status {stage} failed: {_describe(error)}") from None


def add(root: Path, path: str):
    """`dvc add` a file or folder; returns DVC's record of it (md5, size)."""
    from . import dvcfiles

    with open_repo(root) as repo:
        repo.add(path)
    record = dvcfiles.find_out(root, path)
    if record is None:
        raise ModelregError(f"dvc add {path} left no record")
    return record


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


def _errors() -> tuple:
    """What moving bytes can raise: DVC's errors, OS errors, and whatever the storage client
    underneath raises (botocore, aiohttp, s3fs...), which has no common base but Exception.
    Used only around calls into storage, so a failure there becomes a clear refusal."""
    return (Exception,)


def _exists(odb, oid: str) -> bool:
    """Whether the remote has the object. s3fs's exists() answers False when the endpoint cannot be
    reached; info() raises, so "missing" and "unreachable" stay two different answers."""
    try:
        odb.fs.info(odb.oid_to_path(oid))
        return True
    except FileNotFoundError:
        return False


def remote_odb(root: Path, remote: str):
    """The object store of a remote, straight from DVC's config: no Repo (its index, SCM and locks)
    is needed to read objects by hash, and opening one costs a large part of a small pull."""
    from dvc.config import Config, ConfigError
    from dvc.fs import get_cloud_fs
    from dvc_data.hashfile.db import get_odb

    try:
        config = Config(dvc_dir=str(root / ".dvc"))
        cls, options, path = get_cloud_fs(config, name=remote)
    except ConfigError as error:
        raise ModelregError(f"DVC remote '{remote}' is not configured in {root / '.dvc'}: {error}") from None
    if options.get("version_aware") or options.get("worktree"):
        raise ModelregError(f"DVC remote '{remote}' is version-aware or a worktree remote; modelreg needs a "
                            "content-addressed remote")
    filesystem = cls(**options)
    return get_odb(filesystem, filesystem.join(path, "files", "md5"), hash_name="md5")


def _describe(error: BaseException) -> str:
    """The error and its root cause in one line (DVC often wraps the storage error that says what happened)."""
    causes, seen = [], set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        if text not in causes:
            causes.append(text)
        error = error.__cause__ or error.__context__
    return ": ".join(causes[:3])


def _mismatch(what: str, remote: str, expected: str, actual: str) -> str:
    return (f"{what} in DVC remote '{remote}' failed verification: expected md5 {expected}, got {actual}; "
            "the stored bytes are not what the registry recorded, so nothing was written")


def _s3_settings(config: dict) -> tuple[str | None, dict, dict, dict]:
    """(profile, client arguments, client Config arguments, GET arguments) for a DVC remote on S3.

    The part of dvc-s3's translation of the remote's settings for s3fs that a GET needs: credentials
    or profile, endpoint, region, TLS, timeouts, anonymous access, SSE-C key. Read from the settings
    rather than from dvc-s3, whose translation imports s3fs, aiobotocore and aiohttp: that costs a
    pull more CPU than downloading 100 MB. tests/adapters/test_dvc_download.py checks that the two
    translations agree.
    """
    import base64

    from botocore import UNSIGNED

    for option, variable in (("credentialpath", "AWS_SHARED_CREDENTIALS_FILE"), ("configpath", "AWS_CONFIG_FILE")):
        if config.get(option):
            os.environ.setdefault(variable, config[option])  # as dvc-s3 does
    client = {"aws_access_key_id": config.get("access_key_id"),
              "aws_secret_access_key": config.get("secret_access_key"),
              "aws_session_token": config.get("session_token"), "use_ssl": config.get("use_ssl", True),
              "region_name": config.get("region"), "endpoint_url": config.get("endpointurl"),
              "verify": config.get("ssl_verify")}
    settings = {"connect_timeout": config.get("connect_timeout", 5),  # s3fs's defaults
                "read_timeout": config.get("read_timeout", 15)}
    if config.get("allow_anonymous_login"):
        settings["signature_version"] = UNSIGNED
        client.update(aws_access_key_id=None, aws_secret_access_key=None, aws_session_token=None)
    key = base64.b64decode(config["sse_customer_key"]) if config.get("sse_customer_key") else None
    get = {"SSECustomerAlgorithm": config.get("sse_customer_algorithm") or ("AES256" if key else None),
           "SSECustomerKey": key}
    return (config.get("profile"), {name: value for name, value in client.items() if value is not None}, settings,
            {name: value for name, value in get.items() if value is not None})


class _S3Reader:
    """Reads the objects of a DVC remote on S3 with botocore: parallel ranged GETs on threads.

    The client is set up from the remote's settings as `dvc pull` sets up s3fs (see _s3_settings),
    so it reads what `dvc pull` reads. Threads and urllib3 cost less CPU per byte than s3fs's event
    loop and aiohttp, and keep the next parts downloading while the caller hashes and writes the
    current one.
    """

    def __init__(self, config: dict):
        import botocore.session
        from botocore.config import Config

        profile, client, settings, self.extra = _s3_settings(config)
        self.client = botocore.session.Session(profile=profile).create_client(
            "s3", config=Config(**settings, max_pool_connections=_THREADS + 1), **client)

    def size(self, path: str) -> int | None:
        """The object's size, or None when it is missing (an unreachable endpoint raises)."""
        from botocore.exceptions import ClientError

        bucket, _, key = path.partition("/")
        try:
            return self.client.head_object(Bucket=bucket, Key=key, **self.extra)["ContentLength"]
        except ClientError as error:
            if str(error.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def part(self, path: str, start: int, view: memoryview, whole: bool) -> memoryview:
        """Fill `view` with the object's bytes from `start` on (the whole object with one plain GET when
        `whole`); a transfer that breaks off is asked for again from where it stopped."""
        from botocore.exceptions import BotoCoreError

        bucket, _, key = path.partition("/")
        done, end = 0, start + len(view)
        for attempt in range(_ATTEMPTS):
            try:
                ranged = {} if whole and not done else {"Range": f"bytes={start + done}-{end - 1}"}
                response = self.client.get_object(Bucket=bucket, Key=key, **ranged, **self.extra)
                body = response["Body"]
                try:
                    if ranged and not str(response.get("ContentRange", "")).startswith(f"bytes {start + done}-"):
                        raise OSError(f"asked for bytes {start + done}-{end - 1}, the server answered "
                                      f"{response.get('ContentRange') or 'with the whole object'}")
                    while done < len(view):
                        count = body.readinto(view[done:done + _PIECE])
                        if not count:
                            raise OSError(f"the object ended after {start + done} bytes, {end} were expected")
                        done += count
                    if body.read(1):
                        raise OSError(f"the object is longer than the {end} bytes expected")
                finally:
                    body.close()
                return view
            except (BotoCoreError, OSError):
                if attempt + 1 == _ATTEMPTS:
                    raise
                time.sleep(0.2 * 2 ** attempt)
        raise AssertionError("unreachable")

    def read(self, path: str, size: int) -> Iterator[memoryview]:
        """The object's bytes in order, one part at a time.

        _THREADS parts download at once and one more is queued; a part's buffer is reused for a later
        part as soon as the caller asks for the next one, so the caller must be done with a part by
        then. Memory stays at _THREADS + 1 parts, allocated once.
        """
        if size <= _PART:  # one GET, no threads
            if size:
                yield self.part(path, 0, memoryview(bytearray(size)), whole=True)
            return
        from collections import deque

        def fetch(start: int, buffer: bytearray) -> tuple[bytearray, memoryview]:
            return buffer, self.part(path, start, memoryview(buffer)[:min(_PART, size - start)], whole=False)

        starts = iter(range(0, size, _PART))
        pool = ThreadPoolExecutor(_THREADS, thread_name_prefix="modelreg-get")
        pending = deque(pool.submit(fetch, start, bytearray(_PART)) for start in islice(starts, _THREADS + 1))
        try:
            while pending:
                buffer, view = pending.popleft().result()
                yield view
                following = next(starts, None)
                if following is not None:
                    pending.append(pool.submit(fetch, following, buffer))
        finally:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=False, cancel_futures=True)


class _Source:
    """Where the bytes of one remote's objects come from: the S3 reader, or DVC's filesystem for other remotes."""

    def __init__(self, odb):
        self.odb = odb
        self.s3 = None
        try:
            from dvc_s3 import S3FileSystem
        except ImportError:
            S3FileSystem = ()
        if isinstance(odb.fs, S3FileSystem):
            self.s3 = _S3Reader(odb.fs.config)

    def size(self, oid: str, recorded: int | None) -> tuple[bool, int | None]:
        """(whether the remote has the object, its size when known)."""
        if self.s3 is not None:
            size = self.s3.size(self.odb.oid_to_path(oid))
            return size is not None, size
        return _exists(self.odb, oid), recorded

    def read(self, oid: str, size: int | None) -> Iterator[bytes | memoryview]:
        path = self.odb.oid_to_path(oid)
        if self.s3 is not None:
            yield from self.s3.read(path, size)
            return
        with self.odb.fs.open(path, mode="rb", block_size=_BLOCK) as source:
            yield from iter(lambda: source.read(_BLOCK), b"")


def _download(source: _Source, oid: str, target: Path, remote: str, what: str, size: int | None = None) -> str:
    """Fetch one object to `target`, check its md5 before anyone can use it, and return its sha256.

    A .dir listing is stored under its md5 with a ".dir" suffix; the bytes hash to the md5 without it.
    """
    from dvc.fs.callbacks import TqdmCallback

    try:
        present, size = source.size(oid, size)
    except _errors() as error:
        raise ModelregError(f"cannot reach DVC remote '{remote}': {_describe(error)}; nothing was written") from None
    if not present:
        raise ModelregError(f"{what} ({oid}) is missing from DVC remote '{remote}'; was it pushed "
                            f"(modelreg register pushes to '{CANDIDATES}', the release copies to '{REGISTRY}')?")
    digest, identity = hashlib.md5(), hashlib.sha256()
    helper = None
    try:
        # one pass, nothing read twice: each part is hashed and written as it arrives while the next ones
        # download; md5 of a large part runs on a second thread beside sha256 and the write (hashlib
        # releases the GIL); memory stays at a few parts whatever the size
        with TqdmCallback(size=size, bytes=True, desc=f"{what} {oid[:8]}",
                          disable=not size or size < 8 << 20) as callback, open(target, "wb") as sink:
            parts = source.read(oid, size)
            try:
                for part in parts:
                    view = memoryview(part)
                    if len(view) > _CHUNK:
                        helper = helper or ThreadPoolExecutor(1, thread_name_prefix="modelreg-md5")
                        hashing = helper.submit(digest.update, view)
                    else:
                        digest.update(view)
                        hashing = None
                    for offset in range(0, len(view), _CHUNK):
                        identity.update(view[offset:offset + _CHUNK])
                        sink.write(view[offset:offset + _CHUNK])
                    if hashing is not None:
                        hashing.result()  # before the reader may reuse the part's buffer
                    callback.relative_update(len(view))
            finally:
                parts.close()
    except _errors() as error:
        raise ModelregError(f"could not download {what} from DVC remote '{remote}': {_describe(error)}; nothing "
                            "was written") from None
    finally:
        if helper is not None:
            helper.shutdown()
    expected, actual = oid.removesuffix(".dir"), digest.hexdigest()
    if actual != expected:
        raise ModelregError(_mismatch(what, remote, expected, actual))
    return identity.hexdigest()


def _listing(path: Path) -> list[tuple[str, str]]:
    """(md5, relative path) of each file of a DVC .dir object, refusing paths that escape the folder."""
    try:
        entries = json.loads(path.read_text("utf-8"))
        pairs = [(entry["md5"], entry["relpath"]) for entry in entries]
    except (ValueError, KeyError, TypeError) as error:
        raise ModelregError(f"the directory listing is not a DVC .dir object: {error}") from None
    for _, relpath in pairs:
        parts = PurePosixPath(relpath).parts
        if not parts or PurePosixPath(relpath).is_absolute() or ".." in parts:
            raise ModelregError(f"the directory listing names an unsafe path {relpath!r}; refusing it")
    return pairs


def _fetch_verified(odb, md5: str, staging: Path, remote: str, size: int | None, sha256: str | None = None) -> str:
    """Place the artifact `md5` at `staging` (a file, or a folder for a .dir), every byte verified.

    Returns the artifact's sha256 identity; with `sha256` given (the registry's record), bytes whose md5
    matches but whose sha256 does not (an md5 collision) are refused.
    """
    try:
        source = _Source(odb)
    except _errors() as error:
        raise ModelregError(f"cannot reach DVC remote '{remote}': {_describe(error)}; nothing was written") from None
    if not md5.endswith(".dir"):
        identity = _download(source, md5, staging, remote, "the artifact", size)
    else:
        listing = staging.with_name(staging.name + ".dir.json")
        _download(source, md5, listing, remote, "the directory listing")
        staging.mkdir()
        files = []
        for oid, relpath in _listing(listing):
            target = staging.joinpath(*PurePosixPath(relpath).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            # the listing's names reach the progress bar and the errors: escaped for the terminal
            what = f"file {escaped(relpath)} of the artifact"
            files.append((relpath, _download(source, oid, target, remote, what)))
        identity = folder_sha256(files)
    if sha256 is not None and identity != sha256:
        raise ModelregError(f"the artifact {md5} in DVC remote '{remote}' failed verification: its md5 matches but "
                            f"its sha256 is {identity}, the registry recorded {sha256}; these are not the reviewed "
                            "bytes (an md5 collision), so nothing was written")
    return identity


@contextmanager
def _workspace(near: Path) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix=".modelreg-", dir=near))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


MARKER = ".modelreg-pulled"  # beside a pulled folder: modelreg wrote it, so a later pull may replace it


def inside(root: Path, relative: str) -> Path:
    """Where a registry path lands in the repository, refusing anything that would leave it.

    The schema already refuses absolute paths, `..` and `.git/`; this is the
    second wall, at the sink: it also refuses a path whose folders are symlinks
    pointing out of the repository.
    """
    base = root.resolve()
    target = base.joinpath(*PurePosixPath(relative).parts)
    parent = target.parent.resolve()
    if PurePosixPath(relative).is_absolute() or ".." in PurePosixPath(relative).parts or \
            (parent != base and base not in parent.parents):
        raise ModelregError(f"the registry path {relative!r} leads outside the repository ({parent}); refusing to "
                            "write there; fix the path in the registry, or pull with -o to a place you choose")
    if target.name in (".git", ".dvc") or any(folds_to_git(part) for part in PurePosixPath(relative).parts):
        raise ModelregError(f"the registry path {relative!r} points into git's or DVC's own files; refusing it")
    return parent / target.name


def _replaceable_folder(destination: Path) -> bool:
    """A folder may be replaced when it is empty, or when modelreg pulled it there."""
    marker = destination.parent / f"{MARKER}-{destination.name}"
    return not any(destination.iterdir()) or marker.is_file()


def pull(root: Path, md5: str, destination: Path, remote: str = REGISTRY, size: int | None = None,
         sha256: str | None = None) -> Path:
    """Fetch exactly `md5` from `remote` and place it at `destination`, verified, or change nothing.

    The bytes go to a temporary name beside the destination and are renamed
    into place only after every md5 matched, so a reader never sees a partial
    or unverified artifact. A folder artifact replaces an existing folder only
    when that folder is empty or modelreg pulled it; nothing else is deleted.
    """
    destination = destination.absolute()
    if destination.is_symlink():
        raise ModelregError(f"{destination} is a symbolic link; refusing to write through it")
    if destination.is_dir() and not md5.endswith(".dir"):
        raise ModelregError(f"{destination} is a directory; give a file path with -o")
    if destination.is_dir() and not _replaceable_folder(destination):
        raise ModelregError(f"{destination} is a folder with files modelreg did not put there; refusing to replace "
                            "it: move it away, or pull with -o to another place")
    if destination.exists() and not destination.is_dir() and md5.endswith(".dir"):
        raise ModelregError(f"{destination} is a file; a directory artifact needs a folder path")
    if not (root / ".dvc").is_dir():
        raise ModelregError(f"{root} is not a DVC repository (no .dvc folder): run modelreg where the registry's "
                            "DVC configuration is")
    destination.parent.mkdir(parents=True, exist_ok=True)
    with _workspace(destination.parent) as work:
        staging = work / "artifact"
        _fetch_verified(remote_odb(root, remote), md5, staging, remote, size, sha256)
        if destination.is_dir():
            os.replace(destination, work / "replaced")  # out of the way in one step; deleted with the workspace
        os.replace(staging, destination)
        if md5.endswith(".dir"):
            (destination.parent / f"{MARKER}-{destination.name}").write_text(md5 + "\n")
    return destination


def _present(odb, md5: str) -> bool:
    if not _exists(odb, md5):
        return False
    if not md5.endswith(".dir"):
        return True
    from dvc_data.hashfile.tree import Tree

    return all(_exists(odb, info.value) for _, _, info in Tree.load(odb, _hash_info(md5)))


def remote_status(root: Path, remote: str, objects: dict[str, int]) -> dict[str, str]:
    """For each md5 -> expected size: '' when the remote has it with that size, else what is wrong."""
    result = {}
    odb = remote_odb(root, remote)
    for md5, size in objects.items():
        try:
            if not _exists(odb, md5):
                result[md5] = f"missing from DVC remote '{remote}'"
                continue
            if md5.endswith(".dir"):
                from dvc_data.hashfile.tree import Tree

                tree = Tree.load(odb, _hash_info(md5))
                missing = [info.value for _, _, info in tree if not _exists(odb, info.value)]
                total = 0 if missing else sum(odb.fs.size(odb.oid_to_path(info.value)) for _, _, info in tree)
                result[md5] = (f"{len(missing)} file(s) of the directory missing from '{remote}'" if missing
                               else "" if total == size else f"size {total} in '{remote}', registry says {size}")
            else:
                actual = odb.fs.size(odb.oid_to_path(md5))
                result[md5] = "" if actual == size else f"size {actual} in '{remote}', registry says {size}"
        except _errors() as error:
            result[md5] = f"cannot check DVC remote '{remote}': {_describe(error)}"
    return result


def copy(root: Path, md5: str, source: str, target: str, sha256: str | None = None) -> bool:
    """Copy one artifact between remotes, verifying every byte on the way.

    Returns False when `target` already has it (reruns are no-ops). Objects are
    uploaded files first and the .dir listing last, so a listing in the target
    always means its files are there.
    """
    from dvc_objects.fs.local import LocalFileSystem

    with _workspace(Path(tempfile.gettempdir())) as work:
        target_odb = remote_odb(root, target)
        try:
            if _present(target_odb, md5):
                return False
        except _errors() as error:
            raise ModelregError(f"cannot reach DVC remote '{target}': {_describe(error)}; nothing was copied, run "
                                "again when it is reachable") from None
        staging = work / "artifact"
        _fetch_verified(remote_odb(root, source), md5, staging, source, None, sha256)
        uploads: list[tuple[Path, str]] = []
        if md5.endswith(".dir"):
            for oid, relpath in _listing(staging.with_name("artifact.dir.json")):
                uploads.append((staging.joinpath(*PurePosixPath(relpath).parts), oid))
            uploads.append((staging.with_name("artifact.dir.json"), md5))
        else:
            uploads.append((staging, md5))
        try:
            for path, oid in uploads:
                target_odb.add(str(path), LocalFileSystem(), oid)
        except _errors() as error:
            raise ModelregError(f"could not copy {md5} to DVC remote '{target}': {_describe(error)}; run again "
                                "to finish") from None
    return True


def digest(root: Path, md5: str, remote: str, size: int | None = None) -> str:
    """The sha256 identity of the artifact `md5` as `remote` holds it (md5 verified on the way)."""
    with _workspace(Path(tempfile.gettempdir())) as work:
        return _fetch_verified(remote_odb(root, remote), md5, work / "artifact", remote, size)


def local_sha256(path: Path) -> tuple[str, str | None]:
    """(sha256 identity, md5) of a workspace file or folder; the md5 only for a file (DVC's for a folder is
    the md5 of its listing, which DVC itself checks)."""
    def file_digests(file: Path) -> tuple[str, str]:
        identity, digest = hashlib.sha256(), hashlib.md5()
        with open(file, "rb") as handle:
            for chunk in iter(lambda: handle.read(_BLOCK), b""):
                identity.update(chunk)
                digest.update(chunk)
        return identity.hexdigest(), digest.hexdigest()

    if path.is_dir():
        files = [(f.relative_to(path).as_posix(), file_digests(f)[0]) for f in sorted(path.rglob("*")) if f.is_file()]
        return folder_sha256(files), None
    return file_digests(path)


SIDE_FOLDER = "modelreg"  # beside DVC's files/ in a remote: signatures and other per-artifact records


def put_side_file(root: Path, remote: str, name: str, data: bytes) -> None:
    """Store a small file (a signature bundle) in `remote` under modelreg/NAME."""
    odb = remote_odb(root, remote)
    path = odb.fs.join(odb.fs.parent(odb.fs.parent(odb.path)), SIDE_FOLDER, name)  # beside files/md5
    try:
        odb.fs.makedirs(odb.fs.parent(path), exist_ok=True)
        odb.fs.pipe_file(path, data)
    except _errors() as error:
        raise ModelregError(f"could not store {name} in DVC remote '{remote}': {_describe(error)}") from None


def get_side_file(root: Path, remote: str, name: str) -> bytes | None:
    """The file modelreg/NAME of `remote`, or None when it is not there."""
    odb = remote_odb(root, remote)
    path = odb.fs.join(odb.fs.parent(odb.fs.parent(odb.path)), SIDE_FOLDER, name)
    try:
        if not odb.fs.exists(path):
            return None
        return odb.fs.cat_file(path)
    except _errors() as error:
        raise ModelregError(f"could not read {name} from DVC remote '{remote}': {_describe(error)}") from None
