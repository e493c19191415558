"""diff(old, new) -> events and violations, between two registry states.

The PR check, tags, releases, notifications and audit are all built on this
one pure function, so it takes plain parsed dicts and does no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .registry import version_key

IMMUTABLE_FIELDS = ("md5", "sha256", "size", "format", "signature", "metrics", "params", "data", "commit", "created",
                    "author")
ADDABLE_FIELDS = ("sha256",)  # may be recorded once for a version registered before it existed (verified by the check)

VERSION_REGISTERED = "version_registered"
VERSION_ARCHIVED = "version_archived"
VERSION_UNARCHIVED = "version_unarchived"
STAGE_ASSIGNED = "stage_assigned"
STAGE_UNASSIGNED = "stage_unassigned"


@dataclass(frozen=True)
class Event:
    kind: str
    model: str
    version: str | None = None
    stage: str | None = None
    previous: str | None = None
    reason: str | None = None
    history: dict | None = field(default=None, compare=False)
    history_index: int | None = field(default=None, compare=False)  # position of the entry in history

    def describe(self) -> str:
        if self.kind == VERSION_REGISTERED:
            return f"{self.model}: registered {self.version}"
        if self.kind == VERSION_ARCHIVED:
            return f"{self.model}: archived {self.version} ({self.reason})"
        if self.kind == VERSION_UNARCHIVED:
            return f"{self.model}: restored archived {self.version}"
        if self.kind == STAGE_ASSIGNED:
            was = f" (was {self.previous})" if self.previous else ""
            return f"{self.model}: {self.stage} -> {self.version}{was}"
        return f"{self.model}: {self.stage} emptied (was {self.previous})"

    def as_dict(self) -> dict:
        data = {"kind": self.kind, "model": self.model}
        for key in ("version", "stage", "previous", "reason"):
            value = getattr(self, key)
            if value is not None:
                data[key] = value
        return data


@dataclass(frozen=True)
class Violation:
    kind: str
    model: str
    path: tuple
    message: str
    hint: str = ""
    at_key: bool = False  # point at the key line: the value it names is gone


def _models(state: dict | None) -> dict:
    models = (state or {}).get("models")
    return models if isinstance(models, dict) else {}


def _mapping(value: Any) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def diff(old: dict | None, new: dict) -> tuple[list[Event], list[Violation]]:
    events: list[Event] = []
    violations: list[Violation] = []
    old_models, new_models = _models(old), _models(new)
    for name in old_models:
        if name not in new_models:
            violations.append(Violation("model_removed", name, ("models", name),
                                        f"model {name} was removed; its versions are part of the audit trail",
                                        "archive its versions and empty its stages instead", at_key=True))
    for name, model in new_models.items():
        if model is old_models.get(name):
            continue  # the same object: a write shares the models it does not touch
        if isinstance(model, dict):
            _diff_model(name, _mapping(old_models.get(name)), model, events, violations)
    return events, violations


def _diff_model(name: str, old: dict, new: dict, events: list[Event], violations: list[Violation]) -> None:
    base = ("models", name)
    old_versions, new_versions = _mapping(old.get("versions")), _mapping(new.get("versions"))
    for version in old_versions:
        if version not in new_versions:
            violations.append(Violation("version_removed", name, base + ("versions",),
                                        f"registered version {version} was removed",
                                        "versions are never deleted; archive it with a reason", at_key=True))
    archive_events: list[Event] = []
    for version in sorted(new_versions, key=version_key):
        record = _mapping(new_versions[version])
        before = old_versions.get(version)
        if before is None:
            events.append(Event(VERSION_REGISTERED, name, version))
            if record.get("archived"):
                archive_events.append(Event(VERSION_ARCHIVED, name, version, reason=record["archived"]))
            continue
        before = _mapping(before)
        for key in IMMUTABLE_FIELDS:
            if key in ADDABLE_FIELDS and before.get(key) is None and record.get(key) is not None:
                continue
            if before.get(key) != record.get(key):
                violations.append(Violation(
                    "version_changed", name, base + ("versions", version, key),
                    f"{key} of registered version {version} changed from {before.get(key)!r} to "
                    f"{record.get(key)!r}", "a registered version is immutable; register a new version"))
        if record.get("archived") and not before.get("archived"):
            archive_events.append(Event(VERSION_ARCHIVED, name, version, reason=record["archived"]))
        elif before.get("archived") and not record.get("archived"):
            archive_events.append(Event(VERSION_UNARCHIVED, name, version))
    events.extend(archive_events)

    old_history, new_history = _list(old.get("history")), _list(new.get("history"))
    for index, entry in enumerate(old_history):
        if index >= len(new_history):
            violations.append(Violation("history_rewritten", name, base + ("history",),
                                        f"history entry {index + 1} was removed",
                                        "history is append-only: restore it", at_key=True))
            break
        if new_history[index] != entry:
            violations.append(Violation("history_rewritten", name, base + ("history", index),
                                        f"history entry {index + 1} was edited", "history is append-only: "
                                        "restore it and add a new entry at the end"))
    added = list(enumerate(new_history))[len(old_history):]

    old_stages, new_stages = _mapping(old.get("stages")), _mapping(new.get("stages"))
    touched = list(old_stages) + [s for s in new_stages if s not in old_stages]
    touched += [e.get("stage") for _, e in added if isinstance(e, dict) and e.get("stage") not in touched
                and isinstance(e.get("stage"), str)]
    stage_events: list[tuple[int, Event]] = []
    for stage in touched:
        before, after = old_stages.get(stage), new_stages.get(stage)
        chain = [(i, e) for i, e in added if isinstance(e, dict) and e.get("stage") == stage]
        if not chain:
            if before != after:
                violations.append(Violation(
                    "missing_history", name, base + ("stages", stage),
                    f"{stage} changes from {before or 'nothing'} to {after or 'nothing'} but has no new history "
                    "entry", "add one entry at the end of history with at, by, stage, version, previous and reason"))
                kind = STAGE_ASSIGNED if after is not None else STAGE_UNASSIGNED
                stage_events.append((len(new_history), Event(kind, name, after, stage, before)))
            continue
        # The new entries for a stage must chain from its old holder to its new one: one entry
        # per change, so a run that catches up on several merges sees each of them.
        holder = before
        for index, entry in chain:
            version, previous = entry.get("version"), entry.get("previous")
            if previous != holder or version == previous:
                violations.append(Violation(
                    "history_mismatch", name, base + ("history", index),
                    f"history entry {index + 1} says {stage}: {previous} -> {version}, but {stage} held "
                    f"{holder} at that point", "each entry's previous must be the version the stage held "
                    "before it, and its version the one it holds after"))
            kind = STAGE_ASSIGNED if version is not None else STAGE_UNASSIGNED
            stage_events.append((index, Event(kind, name, version, stage, previous, entry.get("reason"), entry,
                                              index)))
            holder = version
        if holder != after:
            violations.append(Violation(
                "history_mismatch", name, base + ("stages", stage),
                f"{stage} holds {after or 'nothing'} but its last history entry says {holder or 'nothing'}",
                "make the stage and its last history entry agree"))
    events.extend(event for _, event in sorted(stage_events, key=lambda pair: pair[0]))
