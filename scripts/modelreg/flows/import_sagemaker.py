"""modelreg import-sagemaker: bring SageMaker Model Package Groups' packages, bytes and approvals into this registry.

Package version N of a group becomes vN.0.0 (a package that `modelreg
sagemaker sync` made keeps the version its `modelreg_version` property names).
Its model data is fetched from S3 - a model.tar.gz is unpacked into a folder,
safely, an uncompressed object stays one file - added to DVC and pushed to the
candidates remote; its creation time, creator, commit, description and the
metrics of its ModelQuality statistics report are recorded, and its notes name
the package, so the sync afterwards adopts that package as the version's mirror
instead of making another. The newest Approved package becomes production (when
the model has no production version yet) with a history entry saying where it
came from; Rejected packages are archived. The registry is written once, at the
end, through flows.change like every other write; a rerun imports nothing twice.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import tarfile
import tempfile
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Callable

from ..adapters.registry_file import Loaded
from ..core import transitions
from ..core.formats import FORMATS_BY_SUFFIX
from ..core.problems import ModelregError
from ..core.registry import NAME_RE, PRODUCTION, VERSION_RE, Registry
from .sagemaker_sync import APPROVED, MODEL_KEY, REJECTED, VERSION_KEY, model_data_url

_METRIC_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.:/-]{0,99}\Z")  # the registry schema's metric names
_COMMIT = re.compile(r"[0-9a-f]{40}\Z")


def registry_name(group: str) -> str:
    """A group name as a registry model name: lowercase letters, digits and inner dashes."""
    slug = re.sub(r"[^a-z0-9]+", "-", group.lower()).strip("-")
    if not slug or not NAME_RE.match(slug):
        raise ModelregError(f"model package group {group!r} gives no valid model name; name it with --as")
    return slug


def _time(moment) -> str:
    if isinstance(moment, datetime):
        when = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    else:
        when = datetime.now(timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def metrics_from_report(data) -> dict[str, float]:
    """Numbers of a SageMaker model quality statistics report ({"binary_classification_metrics": {"auc":
    {"value": 0.9, ...}}}) or of a flat {"auc": 0.9}; names the registry cannot hold are left out."""
    found: dict[str, float] = {}

    def take(name: str, value) -> None:
        if isinstance(value, dict):
            value = value.get("value")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return
        if _METRIC_NAME.match(name):
            found.setdefault(name, value)

    if not isinstance(data, dict):
        return found
    for key, value in data.items():
        if key == "version":
            continue
        if isinstance(value, dict) and "value" not in value:
            for name, inner in value.items():
                take(str(name), inner)
        else:
            take(str(key), value)
    return found


def _metrics(package: dict, s3) -> dict[str, float]:
    report = ((package.get("ModelMetrics") or {}).get("ModelQuality") or {}).get("Statistics") or {}
    if not report.get("S3Uri"):
        return {}
    try:
        data = json.loads(s3.read(report["S3Uri"]))
    except ValueError as error:
        raise ModelregError(f"{report['S3Uri']}: the model quality statistics are not JSON: {error}") from None
    return metrics_from_report(data)


def _fetch(package: dict, s3, work: Path) -> tuple[Path, bool]:
    """The package's model data in `work`: (a folder, True) for a tarball or a prefix, (a file, False) otherwise."""
    url = model_data_url(package)
    if not url:
        raise ModelregError(f"model package {package.get('ModelPackageArn')} names no model data (ModelDataUrl)")
    containers = (package.get("InferenceSpecification") or {}).get("Containers") or [{}]
    source = (containers[0].get("ModelDataSource") or {}).get("S3DataSource") or {}
    folder = work / "model"
    if source.get("S3DataType") == "S3Prefix" and source.get("CompressionType", "None") == "None":
        s3.download_prefix(url, folder)
        return folder, True
    name = PurePosixPath(url.split("?", 1)[0]).name or "model"
    downloaded = work / "download" / name
    s3.download(url, downloaded)
    if tarfile.is_tarfile(downloaded):
        folder.mkdir()
        try:
            with tarfile.open(downloaded) as archive:
                archive.extractall(folder, filter="data")  # no absolute paths, no links out, no devices
        except (tarfile.TarError, OSError) as error:
            raise ModelregError(f"{url}: cannot unpack the model archive safely: {error}") from None
        if not any(folder.iterdir()):
            raise ModelregError(f"{url}: the model archive is empty")
        return folder, True
    return downloaded, False


def _place(source: Path, target: Path) -> None:
    if target.is_symlink() or target.is_file():
        target.unlink()
    elif target.is_dir():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(source), str(target))


def import_groups(loaded: Loaded, groups: list[str], as_name: str | None = None, push: bool = True,
                  sagemaker=None, s3=None, say: Callable[[str], None] = print) -> dict:
    """The registry data with every package of the groups added; the caller writes it through flows.change."""
    from ..adapters import dvc, git
    from ..adapters import sagemaker as aws

    if as_name and len(groups) != 1:
        raise ModelregError("--as names the model of one group; import groups one at a time to rename them")
    if as_name and not NAME_RE.match(as_name):
        raise ModelregError(f"{as_name!r} is not a model name (lowercase letters, digits and inner dashes)")
    settings = aws.read_settings(loaded.path, required=False)
    client = sagemaker or aws.SageMaker(settings.region)
    storage = s3 or aws.S3(settings.region)
    root = loaded.repo
    by = git.user(root)
    new = loaded.data
    seen: dict[str, str] = {}
    for group in groups:
        description = client.group(group)
        if description is None:
            raise ModelregError(f"SageMaker has no model package group named {group!r}")
        stripped = group[len(settings.prefix):] if settings.prefix and group.startswith(settings.prefix) else group
        name = as_name or settings.model_of_group(group) or registry_name(stripped)
        if seen.setdefault(name, group) != group:
            raise ModelregError(f"model package groups {seen[name]!r} and {group!r} both become {name!r}")
        new = _import_group(root, new, group, name, description, client, storage, push, by, say, dvc)
    return new


def _import_group(root: Path, new: dict, group: str, name: str, group_info: dict, client, storage, push: bool,
                  by: str, say: Callable[[str], None], dvc) -> dict:
    approved: list[tuple[int, str]] = []
    rejected: list[tuple[int, str]] = []
    for package in client.packages(group):
        number = package.get("ModelPackageVersion")
        if not isinstance(number, int):
            continue
        meta = package.get("CustomerMetadataProperties") or {}
        mirrored = meta.get(VERSION_KEY) if meta.get(MODEL_KEY, name) == name else None
        version = mirrored if isinstance(mirrored, str) and VERSION_RE.match(mirrored) else f"v{number}.0.0"
        status = package.get("ModelApprovalStatus")
        existing = Registry(new).model(name)
        if existing and existing.version(version):
            say(f"skipped {group} package {number}: already registered as {name} {version}")
            if status == APPROVED:
                approved.append((number, version))
            continue
        scratch = root / ".dvc" / "tmp"  # DVC's own ignored scratch space, on the repository's file system
        scratch.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="modelreg-import-", dir=scratch) as work:
            fetched, folder = _fetch(package, storage, Path(work))
            if existing:
                path = existing.path
                was_folder = any(v.is_directory for v in existing.versions.values())
                if existing.versions and was_folder != folder:
                    raise ModelregError(f"{group} package {number} holds {'a folder' if folder else 'one file'}, "
                                        f"but {name}'s versions are {'folders' if was_folder else 'files'}")
            else:
                path = f"models/{name}" if folder else f"models/{name}/{fetched.name}"
            _place(fetched, dvc.inside(root, path))
        out = dvc.add(root, path)
        sha256, _ = dvc.local_sha256(dvc.inside(root, path))  # the identity the PR check and pulls verify
        if push:
            dvc.push(root, path, "candidates")
        record: dict = {"md5": out.md5, "sha256": sha256, "size": out.size or 0,
                        "created": _time(package.get("CreationTime")),
                        "author": (package.get("CreatedBy") or {}).get("UserProfileName") or "sagemaker"}
        commit = str((package.get("MetadataProperties") or {}).get("CommitId") or "")
        if _COMMIT.match(commit):
            record["commit"] = commit
        metrics = _metrics(package, storage)
        if metrics:
            record["metrics"] = metrics
        notes = f"Imported from SageMaker model package {package['ModelPackageArn']}."
        if package.get("ModelPackageDescription"):
            notes += f" {package['ModelPackageDescription']}"
        record["notes"] = notes
        fields: dict = {"path": path}
        if group_info.get("ModelPackageGroupDescription"):
            fields = {"description": group_info["ModelPackageGroupDescription"], **fields}
        file_format = "directory" if folder else FORMATS_BY_SUFFIX.get(PurePosixPath(path).suffix)
        if file_format and not (existing and existing.format):
            fields["format"] = file_format
        new = transitions.add_version(new, name, version, record, fields)
        if status == APPROVED:
            approved.append((number, version))
        elif status == REJECTED:
            rejected.append((number, version))
        say(f"imported {group} package {number} as {name} {version} (md5 {record['md5']}, {status})")
    for number, version in rejected:
        new = transitions.archive(new, name, version, f"Rejected in SageMaker (package {number} of {group})")
    model = Registry(new).model(name)
    if approved and model is not None:
        number, version = max(approved)
        holder = model.stages.get(PRODUCTION)
        if PRODUCTION not in Registry(new).stage_names:
            say(f"note: {group} package {number} is Approved, but the registry has no {PRODUCTION} stage")
        elif holder is None:
            new = transitions.set_stage(new, name, PRODUCTION, version, f"imported from SageMaker: package {number} "
                                        f"of {group} was the newest Approved package", by)
        elif holder != version:
            say(f"note: the newest Approved package of {group} is {number} ({version}); {name}'s {PRODUCTION} "
                f"stays {holder}: the registry decides (promote {version} in a pull request to change it)")
    return new
