"""State changes as pure functions: old registry data in, new registry data out.

They refuse what is plainly wrong with a message that says what to do; every
other rule (gates, history, immutability) is checked on the result by
rules.check_change, the same code the PR check runs, so the CLI cannot be
more lenient than CI.
"""

from __future__ import annotations

import copy
from datetime import datetime, timezone

from .problems import Refusal
from .registry import PRODUCTION, Model, Registry, version_key


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def copy_for(data: dict, name: str) -> dict:
    """A copy of `data` in which only model `name` may be changed: the other models are shared, not copied
    (a write touches one model; copying 10,000 versions for it would cost more than the edit)."""
    new = dict(data)
    models = data.get("models")
    if isinstance(models, dict):
        new["models"] = dict(models)
        if name in models:
            new["models"][name] = copy.deepcopy(models[name])
    return new


def _model(data: dict, name: str) -> tuple[dict, Model]:
    new = copy_for(data, name)
    registry = Registry(new)
    model = registry.model(name)
    if model is None:
        known = ", ".join(registry.model_names) or "none"
        raise Refusal(f"no model named '{name}' in the registry (models: {known})", ("models",),
                      "check the spelling, or register it first")
    return new, model


def _version(model: Model, version: str):
    record = model.version(version)
    if record is None:
        known = ", ".join(sorted(model.raw.get("versions") or {}, key=version_key)) or "none"
        raise Refusal(f"{model.name} has no version {version} (registered: {known})",
                      ("models", model.name, "versions"))
    return record


def _check_stage(registry_data: dict, stage: str) -> None:
    names = Registry(registry_data).stage_names
    if stage not in names:
        raise Refusal(f"unknown stage '{stage}' (configured: {', '.join(names)})", ("settings", "stages"),
                      "use a configured stage, or add it to settings.stages")


def set_stage(data: dict, name: str, stage: str, version: str | None, reason: str, by: str,
              at: str | None = None, pr: int | None = None) -> dict:
    """Point `stage` at `version` (None empties it) and append the history entry."""
    if not reason or not reason.strip():
        raise Refusal("a reason is required: say why, it goes into the audit trail (--reason)")
    _check_stage(data, stage)
    new, model = _model(data, name)
    previous = model.stages.get(stage)
    if version is not None:
        record = _version(model, version)
        if record.archived:
            raise Refusal(f"{name} {version} is archived ({record.archived}); it cannot hold {stage}",
                          ("models", name, "versions", version, "archived"), "promote a live version")
        if previous == version:
            raise Refusal(f"{name} {version} already holds {stage}; nothing to do", ("models", name, "stages", stage))
    elif previous is None:
        raise Refusal(f"{name} has no {stage} version; nothing to do", ("models", name, "stages"))
    stages = model.raw.setdefault("stages", {})
    if version is None:
        del stages[stage]
    else:
        stages[stage] = version
    entry = {"at": at or now(), "by": by, "stage": stage, "version": version, "previous": previous,
             "reason": reason.strip()}
    if pr is not None:
        entry["pr"] = pr
    if model.raw.get("history") is None:
        model.raw["history"] = []
    model.raw["history"].append(entry)
    return new


def rollback_target(data: dict, name: str, stage: str = PRODUCTION) -> str:
    """The version that held `stage` before its current holder, skipping archived ones."""
    model = Registry(data).model(name)
    if model is None:
        raise Refusal(f"no model named '{name}' in the registry", ("models",))
    for candidate in model.previous_holders(stage):
        record = model.version(candidate)
        if record is not None and not record.archived:
            return candidate
    raise Refusal(f"{name} has no earlier {stage} version in its history to roll back to",
                  ("models", name, "history"), "name one with --to VERSION")


def archive(data: dict, name: str, version: str, reason: str) -> dict:
    if not reason or not reason.strip():
        raise Refusal("a reason is required to archive a version (--reason)")
    new, model = _model(data, name)
    record = _version(model, version)
    if record.archived:
        raise Refusal(f"{name} {version} is already archived ({record.archived})",
                      ("models", name, "versions", version, "archived"))
    holding = model.stages_of(version)
    if holding:
        raise Refusal(f"{name} {version} holds {', '.join(holding)}", ("models", name, "stages", holding[0]),
                      f"promote another version to {'that stage' if len(holding) == 1 else 'those stages'} first")
    model.raw["versions"][version]["archived"] = reason.strip()
    return new


def add_version(data: dict, name: str, version: str, record: dict, model_fields: dict | None = None) -> dict:
    """Register `version`; creates the model entry (with model_fields) if it is new."""
    new = copy_for(data, name)
    models = new.setdefault("models", {})
    if models is None:
        models = new["models"] = {}
    if name not in models:
        models[name] = dict(model_fields or {})
        models[name]["versions"] = {}
    model = models[name]
    versions = model.setdefault("versions", {})
    if versions is None:
        versions = model["versions"] = {}
    if version in versions:
        raise Refusal(f"{name} {version} is already registered; registered versions never change",
                      ("models", name, "versions", version), "use --bump or another --version")
    for other, existing in versions.items():
        if isinstance(existing, dict) and existing.get("md5") == record["md5"]:
            raise Refusal(f"this artifact (md5 {record['md5']}) is already registered as {name} {other}",
                          ("models", name, "versions", other, "md5"), "train a new model before registering")
    if model.get("format") and "format" not in record:  # the bytes are always loaded the way they were reviewed
        ordered: dict = {}
        for key, value in record.items():
            ordered[key] = value
            if key == "size":
                ordered["format"] = model["format"]
        ordered.setdefault("format", model["format"])
        record = ordered
    versions[version] = record
    return new
