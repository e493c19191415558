"""modelreg sagemaker sync: SageMaker's Model Registry as a mirror of models/registry.yaml.

The registry file stays the one source of truth. Each model configured in
models/sagemaker.yaml gets a Model Package Group; each of its versions gets one
Model Package whose ModelDataUrl is that version's object in the `registry` DVC
remote (or a model.tar.gz built from the verified bytes beside it), and whose
approval status is derived: the production holder is Approved, an archived
version Rejected, every other version PendingManualApproval.

SageMaker numbers packages itself, in creation order, so a package is matched
to its version by the `modelreg_version` metadata property, never by number.
The sync computes what differs and writes only that: a rerun makes no write
call. A status changed in SageMaker by hand is set back (the registry decides)
and reported; `modelreg_status` in the metadata records what modelreg last set,
which is how a hand change is told from a promotion. Within a group, packages
leaving Approved are updated before the one becoming Approved, so a deployment
triggered by an approval never sees two approved packages.
"""

from __future__ import annotations

import json
import re
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

from ..adapters.registry_file import Loaded
from ..core import tags as core_tags
from ..core.problems import ModelregError
from ..core.registry import PRODUCTION, Model, Registry, Version

APPROVED, REJECTED, PENDING = "Approved", "Rejected", "PendingManualApproval"
PREFIX = "modelreg_"  # every metadata property modelreg owns starts with it; others are left alone
MODEL_KEY, VERSION_KEY, STATUS_KEY = "modelreg_model", "modelreg_version", "modelreg_status"
TARBALL = "model.tar.gz"
_TOKEN_NAMESPACE = uuid.UUID("1b0c6f55-6b1e-4d53-9d0a-5e2f8a0a7c11")
# written by `modelreg import-sagemaker` into a version's notes: that package is the version's mirror
ADOPT_RE = re.compile(r"SageMaker model package (arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d+:model-package/"
                      r"[A-Za-z0-9-]+/\d+)")
_METADATA_VALUE = re.compile(r"[^\w .:/=+\-@]")  # SageMaker: letters, numbers, spaces and _.:/=+-@


@dataclass(frozen=True)
class Wanted:
    """One registry version as SageMaker should show it."""

    model: str
    version: str
    group: str
    status: str
    description: str  # the approval description sent with a status change
    metadata: dict[str, str]
    md5: str
    sha256: str | None
    size: int
    url: str  # ModelDataUrl
    tarball: bool
    path: str  # the model's path in the repository: the file name inside a model.tar.gz
    commit: str | None
    adopt: str | None  # the package an import came from, which mirrors this version


@dataclass
class Step:
    """One write: create a package for `wanted`, or update the package `arn`."""

    kind: str  # create | update
    status: str
    text: str
    wanted: Wanted | None = None
    arn: str | None = None
    description: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    remove: list[str] = field(default_factory=list)
    drift: bool = False  # something was changed in SageMaker, not by the registry


@dataclass
class Change:
    model: str
    text: str
    drift: bool = False


@dataclass
class Report:
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    writes: int = 0  # SageMaker write calls and S3 uploads made
    uploads: int = 0
    dry_run: bool = False

    @property
    def drift(self) -> list[Change]:
        return [c for c in self.changes if c.drift]

    def markdown(self) -> str:
        from ..views.markdown import md

        lines = ["## SageMaker Model Registry" + (" (dry run)" if self.dry_run else ""), ""]
        if not self.changes:
            lines.append("Nothing to do: SageMaker already mirrors the registry.")
        for change in self.changes:
            mark = "**changed in SageMaker, set back:** " if change.drift else ""
            lines.append(f"- {mark}{md(change.text)}")
        if self.notes:
            lines += [""] + [f"- note: {md(note)}" for note in self.notes]
        return "\n".join(lines) + "\n"


# ---- pure: what SageMaker should show ----------------------------------------------------------------------------

def metadata_value(value: object) -> str:
    """A value SageMaker accepts as a metadata property (1-256 characters of its alphabet)."""
    return _METADATA_VALUE.sub("_", str(value)).strip()[:256]


def approval(model: Model, version: Version) -> tuple[str, str]:
    """The approval status a version gets, and the words that go with it."""
    if model.stages.get(PRODUCTION) == version.name:
        return APPROVED, f"modelreg: {version.name} holds {PRODUCTION} in the registry"
    if version.archived:
        return REJECTED, f"modelreg: {version.name} is archived in the registry: {version.archived}"
    held = model.stages_of(version.name)
    return PENDING, f"modelreg: {version.name} is not in {PRODUCTION}" + (f" (holds {', '.join(held)})" if held
                                                                          else "")


def tag_facts(tags: dict) -> dict[tuple[str, str], dict]:
    """Per (model, version): the registering commit, PR and approvers from the release tags, and the PR and
    approvers of the newest production assignment of that version."""
    facts: dict[tuple[str, str], dict] = {}
    newest: dict[tuple[str, str], int] = {}
    for tag in tags.values():
        parsed = core_tags.parse(tag.name)
        if not parsed:
            continue
        model, data = parsed["model"], tag.data
        if parsed["version"] and not parsed["archived"]:
            entry = facts.setdefault((model, parsed["version"]), {})
            entry["registry_commit"] = (data or {}).get("registry_commit") or tag.target
            if data:
                entry["pr"], entry["approvers"] = data.get("pr"), data.get("approvers")
        elif parsed["stage"] == PRODUCTION and not parsed["unassign"] and data and data.get("model") == model \
                and isinstance(data.get("version"), str):
            key, number = (model, data["version"]), int(parsed["n"])
            if number > newest.get(key, 0):
                newest[key] = number
                entry = facts.setdefault(key, {})
                entry["production_pr"], entry["production_approvers"] = data.get("pr"), data.get("approvers")
    return facts


def metadata_for(model: Model, version: Version, status: str, facts: dict) -> dict[str, str]:
    """The metadata properties modelreg owns on a version's package."""
    fact = facts.get((model.name, version.name), {})
    values: dict[str, object] = {
        MODEL_KEY: model.name, VERSION_KEY: version.name, STATUS_KEY: status,
        "modelreg_md5": version.md5, "modelreg_size": version.size,
        "modelreg_sha256": version.sha256,
        "modelreg_commit": version.commit,
        "modelreg_stages": " ".join(model.stages_of(version.name)),
        "modelreg_registry_commit": fact.get("registry_commit"),
        "modelreg_pr": fact.get("pr"),
        "modelreg_approvers": " ".join(fact.get("approvers") or []),
    }
    if status == APPROVED:
        values["modelreg_production_pr"] = fact.get("production_pr")
        values["modelreg_production_approvers"] = " ".join(fact.get("production_approvers") or [])
    cleaned = {key: metadata_value(value) for key, value in values.items() if value not in (None, "")}
    return {key: value for key, value in cleaned.items() if value}


def model_data_url(package: dict) -> str | None:
    containers = (package.get("InferenceSpecification") or {}).get("Containers") or [{}]
    first = containers[0]
    source = (first.get("ModelDataSource") or {}).get("S3DataSource") or {}
    return first.get("ModelDataUrl") or source.get("S3Uri")


def _number(package: dict) -> str:
    return str(package.get("ModelPackageVersion") or package.get("ModelPackageArn", "?").rsplit("/", 1)[-1])


def plan_model(name: str, wanted: list[Wanted], packages: list[dict]) -> list[Step]:
    """The writes that make a group's packages mirror `wanted`; the demotions first, the approval last."""
    steps: list[Step] = []
    by_arn = {p["ModelPackageArn"]: p for p in packages}
    by_version: dict[str, list[dict]] = {}
    for package in packages:
        meta = package.get("CustomerMetadataProperties") or {}
        if meta.get(VERSION_KEY) and meta.get(MODEL_KEY, name) == name:
            by_version.setdefault(meta[VERSION_KEY], []).append(package)
    settled: set[str] = set()  # packages that mirror a version or were dealt with as duplicates
    for want in wanted:
        claimants = list(by_version.get(want.version, []))
        adopted = by_arn.get(want.adopt or "")
        if adopted is not None and (adopted.get("CustomerMetadataProperties") or {}).get(VERSION_KEY,
                                                                                          want.version) == want.version:
            chosen = adopted
            claimants = [adopted] + [p for p in claimants if p is not adopted]
        else:
            chosen = next((p for p in claimants if model_data_url(p) == want.url), None)
        for package in claimants:
            settled.add(package["ModelPackageArn"])
            if package is chosen:
                continue
            if package.get("ModelApprovalStatus") != REJECTED:
                other = f"package {_number(chosen)}" if chosen is not None else "a new package"
                meta = dict(package.get("CustomerMetadataProperties") or {})
                meta[STATUS_KEY] = REJECTED
                steps.append(Step("update", REJECTED, f"{name} {want.version}: package {_number(package)} does not "
                                  f"hold the registry's bytes at {want.url} or duplicates {other}; "
                                  f"{package.get('ModelApprovalStatus')} -> {REJECTED}", arn=package["ModelPackageArn"],
                                  description=f"modelreg: not the mirror of {want.version}; {other} is",
                                  metadata=meta))
        if chosen is None:
            steps.append(Step("create", want.status, f"{name} {want.version}: created ({want.status})", wanted=want,
                              description=want.description))
            continue
        steps += _update(name, want, chosen)
    for package in packages:
        if package["ModelPackageArn"] in settled or package.get("ModelApprovalStatus") != APPROVED:
            continue
        meta = dict(package.get("CustomerMetadataProperties") or {})
        steps.append(Step("update", PENDING, f"{name}: package {_number(package)} was Approved in SageMaker but is "
                          "not a registry version; Approved -> PendingManualApproval (register it with modelreg "
                          "import-sagemaker and promote it in a pull request)", arn=package["ModelPackageArn"],
                          description="modelreg: not in the registry; approvals are pull requests", metadata=meta,
                          drift=True))
    steps.sort(key=lambda step: step.status == APPROVED)  # stable: leaving Approved before becoming Approved
    return steps


def _update(name: str, want: Wanted, package: dict) -> list[Step]:
    current = package.get("ModelApprovalStatus")
    meta = dict(package.get("CustomerMetadataProperties") or {})
    ours = {key: value for key, value in meta.items() if key.startswith(PREFIX)}
    if current == want.status and ours == want.metadata:
        return []
    others = {key: value for key, value in meta.items() if not key.startswith(PREFIX)}
    label = f"{name} {want.version} (package {_number(package)})"
    drift = current != want.status and meta.get(STATUS_KEY) is not None and meta[STATUS_KEY] != current
    if drift:
        text = (f"{label}: {current} was set in SageMaker, not by the registry; set back to {want.status} (the "
                "registry decides)")
    elif current != want.status:
        text = f"{label}: {current} -> {want.status} ({want.description.removeprefix('modelreg: ')})"
    else:
        changed = sorted(key for key in set(ours) | set(want.metadata) if ours.get(key) != want.metadata.get(key))
        text = f"{label}: metadata {', '.join(changed)} updated"
    return [Step("update", want.status, text, arn=package["ModelPackageArn"], description=want.description,
                 metadata={**others, **want.metadata}, remove=sorted(set(ours) - set(want.metadata)), drift=drift)]


def create_request(want: Wanted, settings) -> dict:
    """The CreateModelPackage request; its ClientToken is derived from it, so a retried create whose answer
    was lost returns the package made the first time instead of a second one."""
    request: dict = {
        "ModelPackageGroupName": want.group,
        "ModelPackageDescription": _description(f"{want.model} {want.version} from the modelreg registry "
                                                f"(md5 {want.md5})"),
        "InferenceSpecification": {
            "Containers": [{"Image": settings.image, "ModelDataUrl": want.url}],
            "SupportedContentTypes": list(settings.content_types),
            "SupportedResponseMIMETypes": list(settings.response_types),
        },
        "ModelApprovalStatus": want.status,
        "CustomerMetadataProperties": dict(want.metadata),
        "MetadataProperties": {"GeneratedBy": "modelreg", **({"CommitId": want.commit} if want.commit else {})},
    }
    request["ClientToken"] = str(uuid.uuid5(_TOKEN_NAMESPACE, json.dumps(request, sort_keys=True)))
    return request


def _description(text: str) -> str:
    return "".join(ch for ch in text if ch.isprintable())[:1024]


# ---- the sync ----------------------------------------------------------------------------------------------------

def build_tarball(source: Path, target: Path) -> None:
    """A reproducible model.tar.gz (fixed times, owners and modes) with the artifact's files at its root."""
    import gzip
    import tarfile

    files = [source] if source.is_file() else sorted(p for p in source.rglob("*") if p.is_file())
    with open(target, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as zipped, \
            tarfile.open(fileobj=zipped, mode="w", format=tarfile.GNU_FORMAT) as archive:
        for path in files:
            info = archive.gettarinfo(str(path), path.name if source.is_file() else path.relative_to(source).as_posix())
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime, info.mode = 0, 0o644
            with open(path, "rb") as handle:
                archive.addfile(info, handle)


class _Missing(Exception):
    """The version's bytes are not in the registry remote yet: nothing to point a package at."""


def _ensure_bytes(root: Path, store, want: Wanted, dry_run: bool) -> bool:
    """Make sure the package's ModelDataUrl will hold the bytes; True when a tarball was uploaded."""
    from ..adapters import dvc

    if want.tarball:
        key = want.url.removeprefix("s3://")
        if store.exists(key):
            return False
    problem = store.status(want.md5, want.size)
    if problem:
        raise _Missing(problem)
    if not want.tarball or dry_run:
        return False
    with tempfile.TemporaryDirectory(prefix="modelreg-sagemaker-") as folder:
        name = PurePosixPath(want.path).name or "model"
        staged = dvc.pull(root, want.md5, Path(folder) / "bytes" / name, remote=dvc.REGISTRY, size=want.size,
                          sha256=want.sha256)
        tarball = Path(folder) / TARBALL
        build_tarball(staged, tarball)
        store.upload(tarball, want.url.removeprefix("s3://"))
    return True


def wanted_versions(model: Model, settings, store, facts: dict) -> list[Wanted]:
    result = []
    for version in model.ordered_versions():
        status, description = approval(model, version)
        tarball = settings.tarball or version.is_directory
        url = store.url(store.beside("sagemaker", model.name, version.name, TARBALL)) if tarball \
            else store.object_url(version.md5)
        adopt = ADOPT_RE.search(version.notes or "")
        adopted = adopt.group(1) if adopt and f":model-package/{settings.group}/" in adopt.group(1) else None
        result.append(Wanted(model.name, version.name, settings.group, status, description,
                             metadata_for(model, version, status, facts), version.md5, version.sha256, version.size,
                             url, tarball, model.path, version.commit, adopted))
    return result


def sync(loaded: Loaded, names: list[str] | None = None, *, dry_run: bool = False, sagemaker=None,
         say: Callable[[str], None] = print) -> Report:
    """Bring SageMaker in line with the registry; with dry_run, only say what would change."""
    from ..adapters import git
    from ..adapters import sagemaker as aws
    from ..adapters.dvc import REGISTRY as REMOTE

    settings = aws.read_settings(loaded.path)
    registry = Registry(loaded.data)
    wanted_names = list(names or [])
    unknown = [n for n in wanted_names if n not in settings.models]
    if unknown:
        raise ModelregError(f"{', '.join(unknown)} not configured in {settings.file} (configured: "
                            f"{', '.join(settings.models) or 'none'})")
    report = Report(dry_run=dry_run)
    chosen = []
    for name in wanted_names or list(settings.models):
        model = registry.model(name)
        if model is None:
            report.notes.append(f"{name} is configured in {settings.file} but not in the registry; skipped")
        else:
            chosen.append(model)
    if not chosen:
        return report
    client = sagemaker or aws.SageMaker(settings.region)
    store = aws.RemoteStore(loaded.repo, REMOTE)
    try:
        facts = tag_facts(git.tags(loaded.repo))
    except ModelregError as error:
        facts = {}
        report.notes.append(f"no release tags read ({error.problems[0].message}); PRs and approvers are left out")
    try:
        for model in chosen:
            _sync_model(loaded.repo, model, settings.models[model.name], store, client, facts, report, dry_run, say)
    except ModelregError as error:
        done = len(client.writes) + report.uploads
        raise ModelregError(f"{error.problems[0].message}; {done} change(s) were made before the failure; run "
                            "`modelreg sagemaker sync` again to finish: it only does what is missing") from None
    finally:
        report.writes = len(client.writes) + report.uploads
    return report


def _sync_model(root: Path, model: Model, settings, store, client, facts: dict, report: Report, dry_run: bool,
                say: Callable[[str], None]) -> None:
    wanted = wanted_versions(model, settings, store, facts)
    group = client.group(settings.group)
    packages = client.packages(settings.group) if group is not None else []
    steps = plan_model(model.name, wanted, packages)
    would = "would be " if dry_run else ""
    for step in steps:
        if step.kind == "create":
            want = step.wanted
            try:
                uploaded = _ensure_bytes(root, store, want, dry_run)
            except _Missing as missing:
                report.notes.append(f"{model.name} {want.version}: {missing}; no package yet (the release copies "
                                    "the bytes; run the sync after it)")
                continue
            if uploaded:
                report.uploads += 1
                _record(report, model.name, f"{model.name} {want.version}: uploaded {want.url}", False, say)
            if group is None:
                if not dry_run:
                    client.create_group(settings.group, _description(model.description or
                                                                     f"{model.name}, mirrored from the modelreg "
                                                                     "registry"))
                group = {"ModelPackageGroupName": settings.group}
                _record(report, model.name, f"{model.name}: model package group {settings.group} {would}created",
                        False, say)
            if dry_run:
                _record(report, model.name, f"{model.name} {want.version}: a package would be created "
                        f"({want.status})", False, say)
                continue
            arn = client.create_package(create_request(want, settings))
            _record(report, model.name, f"{model.name} {want.version}: package {arn.rsplit('/', 1)[-1]} created "
                    f"({want.status}, {want.url})", False, say)
        else:
            if not dry_run:
                client.update_package(step.arn, step.status, step.description, step.metadata, step.remove)
            _record(report, model.name, step.text + (" (dry run)" if dry_run else ""), step.drift, say)


def _record(report: Report, model: str, text: str, drift: bool, say: Callable[[str], None]) -> None:
    report.changes.append(Change(model, text, drift))
    say(("changed in SageMaker: " if drift else "") + text)
