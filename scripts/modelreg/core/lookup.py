"""Answer "which artifact is NAME@STAGE?" from the registry text, fast.

The fast path parses only the blocks of one model that the answer needs
(see sections.py); anything unusual falls back to a full, validated load, so
both paths give the same answer for every file that `modelreg validate` accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import sections, yamlread
from .digests import SHA256_RE
from .problems import ModelregError, Problem, UsageError
from .registry import VERSION_RE, Registry, version_key

_REF = re.compile(r"(?:models:/)?(?P<name>[^@/:\s]+)(?:@(?P<selector>[^@\s]+))?\Z")
_MD5 = re.compile(r"[0-9a-f]{32}(\.dir)?\Z")
_FORMATS = ("pickle", "joblib", "skops", "onnx", "directory")


@dataclass(frozen=True)
class Reference:
    name: str
    stage: str | None = None
    version: str | None = None
    latest: bool = False

    def __str__(self) -> str:
        return f"{self.name}@{self.version or self.stage or 'latest'}"


def parse_reference(text: str, stage: str | None = None) -> Reference:
    """NAME@production, NAME@v1.2.0, NAME@latest, models:/NAME@production, or NAME with --stage."""
    match = _REF.match(text.strip())
    if not match:
        raise UsageError(f"cannot read model reference '{text}': write NAME@STAGE, NAME@vX.Y.Z "
                         "or models:/NAME@STAGE")
    name, selector = match.group("name"), match.group("selector")
    if selector and stage:
        raise UsageError(f"'{text}' already names {selector}; drop --stage {stage}")
    selector = selector or stage
    if selector is None:
        raise UsageError(f"say which version of {name}: {name}@production, {name}@v1.2.0 or --stage STAGE")
    if selector == "latest":
        return Reference(name, latest=True)
    if selector.startswith("v") and selector[1:2].isdigit():
        if not VERSION_RE.match(selector):
            raise UsageError(f"'{selector}' is not a version like v1.2.3")
        return Reference(name, version=selector)
    return Reference(name, stage=selector)


@dataclass(frozen=True)
class Resolved:
    name: str
    version: str
    md5: str
    size: int
    path: str
    format: str | None
    stages: tuple[str, ...]
    sha256: str | None = None
    signing: dict | None = None  # settings.signing, when a stage this version holds requires a signature

    def as_dict(self) -> dict:
        return {"name": self.name, "version": self.version, "md5": self.md5, "size": self.size,
                "path": self.path, "format": self.format, "stages": list(self.stages), "sha256": self.sha256}


def resolve_in(registry: Registry, ref: Reference, filename: str) -> Resolved:
    model = registry.model(ref.name)
    if model is None:
        known = ", ".join(registry.model_names) or "none"
        raise ModelregError([Problem(filename, None, None, "models",
                                     f"no model named '{ref.name}' (models: {known})")])
    where = f"models.{ref.name}"
    if ref.stage is not None:
        if ref.stage not in registry.stage_names:
            raise ModelregError([Problem(filename, None, None, where + ".stages", f"unknown stage '{ref.stage}' "
                                         f"(configured: {', '.join(registry.stage_names)})")])
        version_name = model.stages.get(ref.stage)
        if version_name is None:
            raise ModelregError([Problem(filename, None, None, where + ".stages",
                                         f"no version of {ref.name} holds {ref.stage}",
                                         f"promote one: modelreg promote {ref.name} VERSION --to {ref.stage}")])
    elif ref.latest:
        live = [v for v, r in (model.raw.get("versions") or {}).items() if not r.get("archived")]
        if not live:
            raise ModelregError([Problem(filename, None, None, where + ".versions",
                                         f"{ref.name} has no live versions")])
        version_name = max(live, key=version_key)
    else:
        version_name = ref.version
    version = model.version(version_name)
    if version is None:
        raise ModelregError([Problem(filename, None, None, where + ".versions",
                                     f"{ref.name} has no version {version_name}")])
    return Resolved(ref.name, version_name, version.md5, version.size, model.path,
                    version.format or model.format,
                    tuple(model.stages_of(version_name)), version.sha256,
                    _signing_required(registry.settings, model.stages_of(version_name)))


def _signing_required(settings: dict, stages: list[str]) -> dict | None:
    required = settings.get("require_signature") if isinstance(settings, dict) else None
    if isinstance(required, list) and any(stage in required for stage in stages):
        signing = settings.get("signing")
        return dict(signing) if isinstance(signing, dict) else {}
    return None


def _fast(text: str, ref: Reference, filename: str) -> Resolved | None:
    if ref.latest:
        return None
    blocks = sections.model_blocks(text, ref.name, ("path", "format", "stages", "versions"))
    if not blocks or "path" not in blocks or "versions" not in blocks:
        return None
    try:
        parts = [blocks[k].text(text) for k in ("path", "format", "stages") if k in blocks]
        model, _ = yamlread.load("".join(p if p.endswith("\n") else p + "\n" for p in parts), filename)
        settings, _ = yamlread.load(sections.top_level_text(text), filename)
        if not isinstance(model, dict) or not isinstance(settings, dict):
            return None
        stages = model.get("stages") or {}
        if not isinstance(stages, dict):  # `stages: [1]`: the schema's to refuse, on the full path
            return None
        wanted = stages.get(ref.stage) if ref.stage else ref.version
        if not isinstance(wanted, str):
            return None
        block = sections.nested_block(text, blocks["versions"], wanted)
        if block is None:
            return None
        version, _ = yamlread.load(block.text(text), filename)
    except ModelregError:
        return None
    record = version.get(wanted) if isinstance(version, dict) else None
    if not isinstance(record, dict) or not isinstance(record.get("md5"), str) or not _MD5.match(record["md5"]) \
            or type(record.get("size")) is not int or not isinstance(record.get("created"), str) \
            or record.get("archived") and ref.stage:
        return None
    if settings.get("schema") != 1 or not isinstance(model.get("path"), str):
        return None
    if "sha256" in record and not (isinstance(record["sha256"], str) and SHA256_RE.match(record["sha256"])):
        return None  # anything the schema would refuse goes the slow, checked way
    if any(f in r and r[f] not in _FORMATS for f, r in (("format", record), ("format", model))):
        return None
    model["versions"] = {wanted: record}
    try:
        return resolve_in(Registry({**settings, "models": {ref.name: model}}), ref, filename)
    except ModelregError:
        return None  # say it from the full, validated parse: an invalid registry's problems come first, at lines


def resolve(text: str, ref: Reference, filename: str) -> Resolved:
    """Resolve from the fast path when it can answer, else from a full validated parse."""
    answer = _fast(text, ref, filename)
    if answer is not None:
        return answer
    from .document import parse_valid

    data, _ = parse_valid(text, filename)
    return resolve_in(Registry(data), ref, filename)
