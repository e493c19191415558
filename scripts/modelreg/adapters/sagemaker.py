"""Amazon SageMaker's Model Registry and S3, through boto3; the SageMaker settings file; S3 URLs of DVC objects.

Imported only by `modelreg sagemaker sync` and `modelreg import-sagemaker`
(boto3 is the `sagemaker` extra). Every AWS call goes through one place that
turns boto3's errors into a refusal saying which call failed, and counts the
calls that change something, so a rerun can be shown to make none.

SageMaker's endpoint and credentials come from the standard AWS environment
(role, profile, AWS_REGION, AWS_ENDPOINT_URL_SAGEMAKER / AWS_ENDPOINT_URL_S3).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core import yamlread
from ..core.problems import ModelregError

SETTINGS_FILE = "sagemaker.yaml"  # beside models/registry.yaml
GROUP_RE = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}\Z")  # SageMaker's EntityName
_MODEL_KEYS = {"image", "content_types", "response_types", "tarball", "group"}
_TOP_KEYS = {"region", "group_prefix", "defaults", "models"}


# ---- models/sagemaker.yaml -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ModelSettings:
    """How one registry model is mirrored: its group and what SageMaker needs to serve a version."""

    name: str
    group: str
    image: str
    content_types: tuple[str, ...]
    response_types: tuple[str, ...]
    tarball: bool  # ship a model.tar.gz built from the verified bytes instead of the DVC object itself


@dataclass(frozen=True)
class Settings:
    file: str
    region: str | None
    prefix: str
    models: dict[str, ModelSettings] = field(default_factory=dict)

    def group_of(self, name: str) -> str:
        configured = self.models.get(name)
        return configured.group if configured else self.prefix + name

    def model_of_group(self, group: str) -> str | None:
        """The registry model a group mirrors, by configuration (an explicit group or the prefix)."""
        for settings in self.models.values():
            if settings.group == group:
                return settings.name
        return None


def settings_path(registry: Path) -> Path:
    return registry.parent / SETTINGS_FILE


def read_settings(registry: Path, required: bool = True) -> Settings:
    """models/sagemaker.yaml beside the registry; an empty configuration when it is absent and not required."""
    path = settings_path(registry)
    display = f"{registry.parent.name}/{SETTINGS_FILE}"
    if not path.is_file():
        if required:
            raise ModelregError(f"{display} does not exist: it says which models are mirrored to SageMaker, with "
                                "which inference image and content types (see docs/sagemaker.md)")
        return Settings(display, None, "")
    data, _ = yamlread.load(path.read_text("utf-8"), display)
    return parse_settings(data, display)


def _strings(value: Any, where: str, display: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise ModelregError(f"{display}: {where} must be a non-empty list of strings")
    return tuple(v.strip() for v in value)


def parse_settings(data: Any, display: str) -> Settings:
    """The checked settings; every mistake is refused before any AWS call is made."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ModelregError(f"{display}: expected a mapping with 'models' (and optionally region, group_prefix, "
                            "defaults)")
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise ModelregError(f"{display}: unknown key(s) {', '.join(sorted(map(str, unknown)))} (known: "
                            f"{', '.join(sorted(_TOP_KEYS))})")
    region = data.get("region")
    prefix = data.get("group_prefix") or ""
    if region is not None and not isinstance(region, str):
        raise ModelregError(f"{display}: region must be a string")
    if not isinstance(prefix, str) or (prefix and not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9-]*", prefix)):
        raise ModelregError(f"{display}: group_prefix must be letters, digits and dashes, starting with a letter "
                            "or digit")
    defaults = data.get("defaults") or {}
    models = data.get("models") or {}
    if not isinstance(defaults, dict) or not isinstance(models, dict):
        raise ModelregError(f"{display}: defaults and models must be mappings")
    result: dict[str, ModelSettings] = {}
    for name, raw in models.items():
        raw = {} if raw is None else raw
        if not isinstance(raw, dict):
            raise ModelregError(f"{display}: models.{name} must be a mapping")
        merged = {**defaults, **raw}
        unknown = set(merged) - _MODEL_KEYS
        if unknown:
            raise ModelregError(f"{display}: models.{name}: unknown key(s) {', '.join(sorted(map(str, unknown)))} "
                                f"(known: {', '.join(sorted(_MODEL_KEYS))})")
        image = merged.get("image")
        if not isinstance(image, str) or not image.strip() or any(c.isspace() for c in image.strip()):
            raise ModelregError(f"{display}: models.{name}.image (or defaults.image) must name the inference "
                                "container image, e.g. an ECR image URI")
        content = _strings(merged.get("content_types"), f"models.{name}.content_types", display)
        response = _strings(merged.get("response_types", list(content)), f"models.{name}.response_types", display)
        tarball = merged.get("tarball", False)
        if not isinstance(tarball, bool):
            raise ModelregError(f"{display}: models.{name}.tarball must be true or false")
        group = merged.get("group") if "group" in raw else prefix + str(name)
        if not isinstance(group, str) or not GROUP_RE.match(group):
            raise ModelregError(f"{display}: models.{name}: {group!r} is not a valid model package group name "
                                "(letters, digits and dashes, at most 63 characters)")
        result[str(name)] = ModelSettings(str(name), group, image.strip(), content, response, tarball)
    groups = [s.group for s in result.values()]
    duplicated = sorted({g for g in groups if groups.count(g) > 1})
    if duplicated:
        raise ModelregError(f"{display}: more than one model uses the group {', '.join(duplicated)}")
    return Settings(display, region, prefix, result)


# ---- boto3 -------------------------------------------------------------------------------------------------------

def _boto3():
    try:
        import boto3
    except ImportError:
        raise ModelregError("boto3 is not installed: pip install 'modelreg[sagemaker]'") from None
    return boto3


def _describe_error(error: BaseException) -> str:
    response = getattr(error, "response", None)
    if isinstance(response, dict) and response.get("Error"):
        info = response["Error"]
        return f"{info.get('Code', 'error')}: {info.get('Message', '')}".strip()
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _not_found(error: BaseException) -> bool:
    response = getattr(error, "response", None) or {}
    info = response.get("Error") or {}
    message = str(info.get("Message", "")).lower()
    return info.get("Code") in ("ValidationException", "ResourceNotFound") and \
        ("does not exist" in message or "not found" in message)


class SageMaker:
    """The few Model Registry calls modelreg makes; `writes` lists each call that changed something."""

    WRITES = frozenset({"create_model_package_group", "create_model_package", "update_model_package"})

    def __init__(self, region: str | None = None, client: Any = None):
        self.client = client or _boto3().client("sagemaker", region_name=region or None)
        self.writes: list[str] = []

    def call(self, operation: str, **params) -> dict:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response = getattr(self.client, operation)(**params)
        except ClientError as error:
            raise SageMakerCallError(operation, error) from None
        except BotoCoreError as error:
            raise SageMakerCallError(operation, error) from None
        if operation in self.WRITES:
            self.writes.append(operation)
        return response

    def group(self, name: str) -> dict | None:
        try:
            return self.call("describe_model_package_group", ModelPackageGroupName=name)
        except SageMakerCallError as error:
            if _not_found(error.cause):
                return None
            raise

    def create_group(self, name: str, description: str) -> str:
        return self.call("create_model_package_group", ModelPackageGroupName=name,
                         ModelPackageGroupDescription=description)["ModelPackageGroupArn"]

    def packages(self, group: str) -> list[dict]:
        """Every package of the group, described (the listing lacks the metadata), oldest first."""
        summaries: list[dict] = []
        token = None
        while True:
            params = {"ModelPackageGroupName": group, "SortBy": "CreationTime", "SortOrder": "Ascending",
                      "MaxResults": 100}
            if token:
                params["NextToken"] = token
            page = self.call("list_model_packages", **params)
            summaries += page.get("ModelPackageSummaryList") or []
            token = page.get("NextToken")
            if not token:
                break
        described = [self.call("describe_model_package", ModelPackageName=s["ModelPackageArn"]) for s in summaries]
        return sorted(described, key=lambda p: (p.get("ModelPackageVersion") or 0, str(p.get("CreationTime"))))

    def create_package(self, request: dict) -> str:
        return self.call("create_model_package", **request)["ModelPackageArn"]

    def update_package(self, arn: str, status: str, description: str, metadata: dict[str, str],
                       remove: list[str]) -> None:
        # The status and the whole metadata go with every update: an update without them would leave
        # moto's emulation with none (AWS itself keeps what is not named), and both agree on the result.
        params: dict[str, Any] = {"ModelPackageArn": arn, "ModelApprovalStatus": status,
                                  "ApprovalDescription": description[:1024]}
        if metadata:
            params["CustomerMetadataProperties"] = metadata
        if remove:
            params["CustomerMetadataPropertiesToRemove"] = remove
        self.call("update_model_package", **params)


class SageMakerCallError(ModelregError):
    def __init__(self, operation: str, cause: BaseException):
        self.operation, self.cause = operation, cause
        super().__init__(f"SageMaker {operation} failed: {_describe_error(cause)}")


def _chain(error: BaseException) -> str:
    """An error and its causes in one line (storage clients wrap the error that says what happened)."""
    texts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(texts) < 3:
        seen.add(id(current))
        text = _describe_error(current)
        if text not in texts:
            texts.append(text)
        current = current.__cause__ or current.__context__
    return ": ".join(texts)


def parse_s3_url(url: str) -> tuple[str, str]:
    match = re.fullmatch(r"s3://([^/]+)/?(.*)", url or "")
    if not match:
        raise ModelregError(f"{url!r} is not an s3:// URL; modelreg imports model data from S3 only")
    return match.group(1), match.group(2)


class S3:
    """Reading model data and reports that SageMaker packages point at."""

    def __init__(self, region: str | None = None, client: Any = None):
        self.client = client or _boto3().client("s3", region_name=region or None)

    def _call(self, what: str, function, *args, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return function(*args, **kwargs)
        except (ClientError, BotoCoreError) as error:
            raise ModelregError(f"could not {what}: {_describe_error(error)}") from None

    def download(self, url: str, target: Path) -> None:
        bucket, key = parse_s3_url(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._call(f"download {url}", self.client.download_file, bucket, key, str(target))

    def download_prefix(self, url: str, folder: Path) -> int:
        """Every object under the prefix, into folder (keys relative to the prefix); the number of files."""
        from pathlib import PurePosixPath

        bucket, prefix = parse_s3_url(url)
        prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        paginator = self.client.get_paginator("list_objects_v2")
        pages = self._call(f"list {url}", lambda: list(paginator.paginate(Bucket=bucket, Prefix=prefix)))
        count = 0
        for page in pages:
            for item in page.get("Contents") or []:
                relative = item["Key"][len(prefix):]
                parts = PurePosixPath(relative).parts
                if not relative or relative.endswith("/"):
                    continue
                if ".." in parts or PurePosixPath(relative).is_absolute():
                    raise ModelregError(f"s3://{bucket}/{item['Key']}: unsafe key under the model data prefix")
                self.download(f"s3://{bucket}/{item['Key']}", folder.joinpath(*parts))
                count += 1
        if not count:
            raise ModelregError(f"{url} holds no objects")
        return count

    def read(self, url: str, limit: int = 1 << 20) -> bytes:
        bucket, key = parse_s3_url(url)
        response = self._call(f"read {url}", self.client.get_object, Bucket=bucket, Key=key)
        body = response["Body"].read(limit + 1)
        if len(body) > limit:
            raise ModelregError(f"{url} is larger than {limit} bytes; not read")
        return body


# ---- the DVC `registry` remote, as S3 URLs ----------------------------------------------------------------------

class RemoteStore:
    """A DVC remote on S3: the URL of an object by md5, and files of modelreg's own beside the objects."""

    def __init__(self, root: Path, remote: str):
        from . import dvc

        self.root, self.remote = root, remote
        self.odb = dvc.remote_odb(root, remote)
        protocol = self.odb.fs.protocol
        protocols = protocol if isinstance(protocol, (tuple, list)) else (protocol,)
        if "s3" not in protocols:
            raise ModelregError(f"DVC remote '{remote}' is not on S3 ({self.odb.fs.unstrip_protocol(self.odb.path)}); "
                                "SageMaker reads model data from S3")
        fs = self.odb.fs
        self.base = fs.parent(fs.parent(self.odb.path))  # <bucket>/<prefix> of the remote, without files/md5

    def url(self, path: str) -> str:
        return "s3://" + path

    def object_url(self, md5: str) -> str:
        return self.url(self.odb.oid_to_path(md5))

    def beside(self, *parts: str) -> str:
        """A path of modelreg's own under the remote's URL (never under files/, which DVC owns)."""
        return self.odb.fs.join(self.base, *parts)

    def exists(self, path: str) -> bool:
        """Whether the object is there; an unreachable store raises (s3fs's exists() would answer False)."""
        try:
            self.odb.fs.info(path)
            return True
        except FileNotFoundError:
            return False
        except Exception as error:  # whatever the storage client raises (botocore, aiohttp, OSError...)
            raise ModelregError(f"cannot reach DVC remote '{self.remote}': {_chain(error)}") from None

    def upload(self, local: Path, path: str) -> None:
        try:
            self.odb.fs.put_file(str(local), path)
        except Exception as error:  # as above: storage errors have no common base
            raise ModelregError(f"could not upload {self.url(path)}: {_chain(error)}; run again to finish") from None

    def status(self, md5: str, size: int) -> str:
        """'' when the remote holds the artifact with that size, else what is missing; raises when the remote
        cannot be asked."""
        from . import dvc

        if md5.endswith(".dir"):  # a listing and its files: DVC's own check
            problem = dvc.remote_status(self.root, self.remote, {md5: size})[md5]
            if problem.startswith("cannot check"):
                raise ModelregError(problem)
            return problem
        try:  # one object: asked of this store's client (a new one costs about a second to set up)
            actual = self.odb.fs.info(self.odb.oid_to_path(md5)).get("size")
        except FileNotFoundError:
            return f"missing from DVC remote '{self.remote}'"
        except Exception as error:  # storage errors have no common base
            raise ModelregError(f"cannot reach DVC remote '{self.remote}': {_chain(error)}") from None
        return "" if actual == size else f"size {actual} in '{self.remote}', registry says {size}"
