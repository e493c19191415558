"""Policy: what decides whether a change may merge, and so may only change with the approval of its owners.

A model's owners, gates, primary metric, path and format, and the registry's
settings, are policy. The pull request gate evaluates a PR with the *base*
branch's policy, never with the policy the PR itself writes: a PR that empties
`require_approval`, lists a friend as owner or loosens a gate changes nothing
about how that same PR is checked. A change of policy is an event of its own,
approved by the model's owners in the base (or, for settings and new models,
by the registry's maintainers). Pure.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any

MODEL_POLICY = ("owners", "gates", "metric", "path", "format", "evaluation")
MAINTAINERS = "maintainers"


@dataclass(frozen=True)
class PolicyChange:
    """One change of policy in a pull request, and whose approval it needs."""

    model: str | None  # None: the registry's settings
    field: str  # a MODEL_POLICY field, "settings.<key>", "model added" or "model removed"
    before: Any
    after: Any

    @property
    def needs_maintainers(self) -> bool:
        return self.model is None or self.field in ("model added", "model removed")

    def describe(self) -> str:
        if self.field == "model added":
            return f"new model {self.model}"
        if self.field == "model removed":
            return f"model {self.model} removed"
        subject = f"{self.field} of {self.model}" if self.model else self.field
        return f"{subject} changed: {_short(self.before)} -> {_short(self.after)}"


def _short(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, str):
        return value
    text = json.dumps(value, sort_keys=True, separators=(", ", ": "))
    return text if len(text) <= 120 else text[:117] + "..."


def _models(data: dict | None) -> dict:
    models = (data or {}).get("models")
    return models if isinstance(models, dict) else {}


def _settings(data: dict | None) -> dict:
    settings = (data or {}).get("settings")
    return settings if isinstance(settings, dict) else {}


def changes(old: dict | None, new: dict) -> list[PolicyChange]:
    """Every change of policy from old (the base) to new (the PR's head)."""
    found = []
    old_settings, new_settings = _settings(old), _settings(new)
    for key in sorted(set(old_settings) | set(new_settings)):
        if old_settings.get(key) != new_settings.get(key):
            found.append(PolicyChange(None, f"settings.{key}", old_settings.get(key), new_settings.get(key)))
    old_models, new_models = _models(old), _models(new)
    for name in sorted(set(old_models) - set(new_models)):
        found.append(PolicyChange(name, "model removed", None, None))
    for name, model in new_models.items():
        if not isinstance(model, dict):
            continue
        before = old_models.get(name)
        if not isinstance(before, dict):
            found.append(PolicyChange(name, "model added", None, None))
            continue
        for field in MODEL_POLICY:
            if before.get(field) != model.get(field):
                found.append(PolicyChange(name, field, before.get(field), model.get(field)))
    return found


def under_base_policy(old: dict | None, new: dict) -> dict:
    """The PR's registry with every policy field as the base has it: what the gates are evaluated on.

    Models the base does not know keep their own policy (adding one needs the
    maintainers' approval anyway); settings come from the base.
    """
    effective = copy.deepcopy(new)
    if old is None:
        return effective
    if "settings" in old:
        effective["settings"] = copy.deepcopy(old["settings"])
    else:
        effective.pop("settings", None)
    for name, model in _models(effective).items():
        before = _models(old).get(name)
        if not isinstance(model, dict) or not isinstance(before, dict):
            continue
        for field in MODEL_POLICY:
            if field in before:
                model[field] = copy.deepcopy(before[field])
            else:
                model.pop(field, None)
    return effective


def maintainers(data: dict | None) -> list[str]:
    """Who approves changes of settings and new models: settings.maintainers, else every model's owners."""
    listed = _settings(data).get(MAINTAINERS)
    if isinstance(listed, list) and listed:
        return [str(owner) for owner in listed]
    everyone: list[str] = []
    for model in _models(data).values():
        for owner in (model.get("owners") or []) if isinstance(model, dict) else []:
            if owner not in everyone:
                everyone.append(str(owner))
    return everyone
