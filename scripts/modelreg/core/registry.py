"""The registry as typed, read-only objects over the parsed file.

The parsed dict stays the canonical state (writes edit it and diff compares
it); these classes are views that give the rest of the code names instead of
string keys. Models are built on first use only, so a command that touches one
model of fifty does not pay for the other forty-nine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Iterator

DEFAULT_STAGES = ("staging", "production")
DEFAULT_APPROVAL_STAGES = ("production",)
PRODUCTION = "production"
VERSION_RE = re.compile(r"v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\Z")
NAME_RE = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?\Z")


def version_key(version: str) -> tuple[int, int, int]:
    """Sort key for vMAJOR.MINOR.PATCH; unparseable versions (and keys YAML typed: 1.2, true) sort first."""
    match = VERSION_RE.match(version) if isinstance(version, str) else None
    if not match:
        return (-1, -1, -1)
    return tuple(int(part) for part in match.groups())  # type: ignore[return-value]


def bump(version: str | None, part: str) -> str:
    major, minor, patch = version_key(version) if version else (0, 0, 0)
    if part == "major":
        return f"v{major + 1}.0.0"
    if part == "minor":
        return f"v{major}.{minor + 1}.0"
    return f"v{major}.{minor}.{patch + 1}"


def _names(value: Any) -> bool:
    """A list of names (stages); anything else in settings is the schema's to report."""
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _mapping(value: Any) -> dict:
    """A mapping field, or {} where the file has something else there (the schema says what)."""
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class Version:
    name: str
    md5: str
    size: int
    created: str
    commit: str | None = None
    author: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    data: dict[str, str] | None = None
    notes: str | None = None
    archived: str | None = None
    format: str | None = None  # fixed at registration: how these bytes are loaded
    sha256: str | None = None  # the artifact's identity (md5 is DVC's address)

    @classmethod
    def from_dict(cls, name: str, record: dict) -> "Version":
        return cls(name=name, md5=record["md5"], size=record["size"], created=record["created"],
                   commit=record.get("commit"), author=record.get("author"),
                   metrics=_mapping(record.get("metrics")), params=_mapping(record.get("params")),
                   data=record.get("data"), notes=record.get("notes"), archived=record.get("archived"),
                   format=record.get("format"), sha256=record.get("sha256"))

    @property
    def is_directory(self) -> bool:
        return self.md5.endswith(".dir")


def _is_entry(entry: Any) -> bool:
    """A history entry with its required fields; a malformed one is the schema's to report, not a crash here."""
    return isinstance(entry, dict) and all(key in entry for key in ("at", "by", "stage", "reason"))


@dataclass(frozen=True)
class HistoryEntry:
    at: str
    by: str
    stage: str
    version: str | None
    previous: str | None
    reason: str
    pr: int | None = None

    @classmethod
    def from_dict(cls, entry: dict) -> "HistoryEntry":
        return cls(at=entry["at"], by=entry["by"], stage=entry["stage"], version=entry.get("version"),
                   previous=entry.get("previous"), reason=entry["reason"], pr=entry.get("pr"))


@dataclass(frozen=True)
class Model:
    name: str
    raw: dict

    @property
    def path(self) -> str:
        return self.raw["path"]

    @property
    def description(self) -> str:
        return self.raw.get("description", "")

    @property
    def format(self) -> str | None:
        return self.raw.get("format")

    @property
    def owners(self) -> list[str]:
        return list(self.raw.get("owners") or [])

    @property
    def metric(self) -> str | None:
        return _mapping(self.raw.get("metric")).get("name")

    @property
    def goal(self) -> str:
        return _mapping(self.raw.get("metric")).get("goal", "max")

    @property
    def gates(self) -> dict[str, dict]:
        # a stage's gate that is not a mapping (`production: true`) is the schema's to report; it gates nothing
        return {stage: rule for stage, rule in _mapping(self.raw.get("gates")).items() if isinstance(rule, dict)}

    @property
    def stages(self) -> dict[str, str]:
        return dict(_mapping(self.raw.get("stages")))

    @cached_property
    def versions(self) -> dict[str, Version]:
        items = (self.raw.get("versions") or {}).items()
        return {name: Version.from_dict(name, record) for name, record in items}

    @cached_property
    def history(self) -> list[HistoryEntry]:
        history = self.raw.get("history")
        return [HistoryEntry.from_dict(entry) for entry in history if _is_entry(entry)] \
            if isinstance(history, list) else []

    def version(self, name: str) -> Version | None:
        if not isinstance(name, str):  # a stage or history entry YAML typed as a number, list, ...
            return None
        record = _mapping(self.raw.get("versions")).get(name)
        return Version.from_dict(name, record) if isinstance(record, dict) else None

    def ordered_versions(self) -> list[Version]:
        return sorted(self.versions.values(), key=lambda v: version_key(v.name))

    def latest_version(self) -> str | None:
        names = list((self.raw.get("versions") or {}))
        return max(names, key=version_key) if names else None

    def stages_of(self, version: str) -> list[str]:
        return [stage for stage, holder in self.stages.items() if holder == version]

    def metric_value(self, version: Version) -> float | None:
        return version.metrics.get(self.metric) if self.metric else None

    def better(self, a: float, b: float) -> bool:
        return a > b if self.goal == "max" else a < b

    def best_version(self, versions: list[Version] | None = None) -> Version | None:
        """Best non-archived version by the primary metric."""
        candidates = [v for v in (versions or self.versions.values())
                      if not v.archived and self.metric_value(v) is not None]
        if not candidates:
            return None
        sign = 1 if self.goal == "max" else -1
        return max(candidates, key=lambda v: (sign * self.metric_value(v), version_key(v.name)))

    def previous_holders(self, stage: str) -> list[str]:
        """Versions that held `stage` before its current holder, most recent first."""
        current = self.stages.get(stage)
        seen: list[str] = []
        for entry in reversed(self.history):
            if entry.stage != stage:
                continue
            for candidate in (entry.version, entry.previous):
                if candidate and candidate != current and candidate not in seen:
                    seen.append(candidate)
        return seen


@dataclass
class Registry:
    """A parsed registry file; `raw` is exactly what the YAML said."""

    raw: dict
    _models: dict[str, Model] = field(default_factory=dict, repr=False)

    @property
    def settings(self) -> dict:
        return _mapping(self.raw.get("settings"))

    @property
    def stage_names(self) -> tuple[str, ...]:
        stages = self.settings.get("stages")
        return tuple(stages) if _names(stages) and stages else DEFAULT_STAGES

    @property
    def approval_stages(self) -> tuple[str, ...]:
        stages = self.settings.get("require_approval", DEFAULT_APPROVAL_STAGES)
        return tuple(stages) if _names(stages) else DEFAULT_APPROVAL_STAGES  # malformed: the default, not none

    @property
    def model_names(self) -> list[str]:
        return list(_mapping(self.raw.get("models")))

    def model(self, name: str) -> Model | None:
        if name not in self._models:
            raw = _mapping(self.raw.get("models")).get(name)
            if not isinstance(raw, dict):
                return None
            self._models[name] = Model(name, raw)
        return self._models[name]

    def models(self) -> Iterator[Model]:
        for name in self.model_names:
            model = self.model(name)
            if model is not None:
                yield model
