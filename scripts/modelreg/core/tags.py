"""GTO-format tags derived from the registry's history. Pure: no git, no network.

GTO and DVC Studio read a registry from annotated tags:
    NAME@vX.Y.Z        a version, on the commit that registered it
    NAME@vX.Y.Z!       that version archived (GTO: deregistered)
    NAME#STAGE#N       a stage assigned, on the version's commit
    NAME#STAGE!#N      a stage emptied
N is one more than the highest counter on any of the model's tags, and GTO
decides which version holds a stage by tagger date, so dates must increase.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from .diff import STAGE_ASSIGNED, STAGE_UNASSIGNED, VERSION_ARCHIVED, VERSION_REGISTERED, Event

_SEMVER = r"v(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)\.(?:0|[1-9]\d*)"
TAG_RE = re.compile(rf"^(?P<model>[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)"
                    rf"(?:@(?P<version>{_SEMVER})(?P<archived>!?)|#(?P<stage>[a-z][a-z0-9_-]*)(?P<unassign>!?)#(?P<n>\d+))$")
MESSAGE_KEY = "modelreg"


@dataclass(frozen=True)
class ExistingTag:
    name: str
    target: str  # the commit the tag points at
    date: int  # tagger date, unix seconds
    message: str = ""

    @property
    def data(self) -> dict | None:
        """The JSON message modelreg writes; None for a tag made another way."""
        try:
            data = json.loads(self.message)
        except ValueError:
            return None
        return data if isinstance(data, dict) and data.get(MESSAGE_KEY) == 1 else None


@dataclass(frozen=True)
class RegistryCommit:
    """One commit of main that changed the registry, with the events it made."""

    commit: str
    date: int
    events: tuple[Event, ...]


@dataclass
class PlannedTag:
    name: str
    target: str
    date: int
    event: Event
    commit: str  # the main commit that made the change
    message: dict = field(default_factory=dict)


@dataclass
class Plan:
    tags: list[PlannedTag] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    version_commits: dict[tuple[str, str], str] = field(default_factory=dict)


def parse(name: str) -> dict | None:
    match = TAG_RE.match(name)
    return match.groupdict() if match else None


def plan(changes: list[RegistryCommit], existing: dict[str, ExistingTag],
         registered: set[tuple[str, str]] | None = None) -> Plan:
    """The tags that should exist and do not yet, in the order they happened.

    Tags that exist are never moved or deleted; one that disagrees with the
    registry is reported and otherwise ignored, so a hand-pushed tag cannot
    steer what modelreg derives.
    """
    result = Plan()
    counters: dict[str, int] = {}
    last_stage_date: dict[tuple[str, str], int] = {}
    tagged_entries: set[tuple[str, int]] = set()
    for tag in existing.values():
        parsed = parse(tag.name)
        if not parsed:
            continue
        model = parsed["model"]
        if parsed["version"] and not parsed["archived"]:
            result.version_commits.setdefault((model, parsed["version"]), tag.target)
        if parsed["n"]:
            counters[model] = max(counters.get(model, 0), int(parsed["n"]))
            data = tag.data
            if data is None or data.get("model") != model or not isinstance(data.get("history_index"), int):
                result.warnings.append(f"tag {tag.name} was not made by modelreg (no modelreg message); "
                                       "it is ignored: the registry file decides stages")
                continue
            tagged_entries.add((model, data["history_index"]))
            key = (model, parsed["stage"])
            last_stage_date[key] = max(last_stage_date.get(key, 0), tag.date)

    for tag in existing.values():
        parsed = parse(tag.name)
        if parsed and parsed["version"] and registered is not None \
                and (parsed["model"], parsed["version"]) not in registered:
            result.warnings.append(f"tag {tag.name} names a version the registry does not have; it is ignored")

    for change in changes:
        for event in change.events:
            if event.kind == VERSION_REGISTERED:
                name = f"{event.model}@{event.version}"
                known = existing.get(name)
                if known is not None:
                    if known.target != change.commit:
                        result.warnings.append(f"tag {name} points at {known.target[:12]}, but {change.commit[:12]} "
                                               "registered that version; the tag is left as it is")
                    result.version_commits.setdefault((event.model, event.version), known.target)
                    continue
                result.version_commits[(event.model, event.version)] = change.commit
                result.tags.append(PlannedTag(name, change.commit, change.date, event, change.commit))
            elif event.kind == VERSION_ARCHIVED:
                name = f"{event.model}@{event.version}!"
                target = result.version_commits.get((event.model, event.version))
                if name in existing or target is None:
                    continue
                result.tags.append(PlannedTag(name, target, change.date, event, change.commit))
            elif event.kind in (STAGE_ASSIGNED, STAGE_UNASSIGNED):
                if (event.model, event.history_index) in tagged_entries or event.history_index is None:
                    continue
                version = event.version if event.kind == STAGE_ASSIGNED else event.previous
                target = result.version_commits.get((event.model, version))
                if target is None:
                    result.warnings.append(f"{event.model} {event.stage}: {version} has no version tag to attach "
                                           "the stage tag to; skipped")
                    continue
                counters[event.model] = counters.get(event.model, 0) + 1
                bang = "" if event.kind == STAGE_ASSIGNED else "!"
                key = (event.model, event.stage)
                date = max(change.date, last_stage_date.get(key, -1) + 1)
                last_stage_date[key] = date
                result.tags.append(PlannedTag(f"{event.model}#{event.stage}{bang}#{counters[event.model]}", target,
                                              date, event, change.commit))
                tagged_entries.add((event.model, event.history_index))
    return result


def message(tag: PlannedTag, metrics: dict | None, pr: int | None, approvers: list[str] | None) -> dict:
    event = tag.event
    history = event.history or {}
    return {
        MESSAGE_KEY: 1,
        "event": event.kind,
        "model": event.model,
        "version": event.version if event.kind != STAGE_UNASSIGNED else event.previous,
        "stage": event.stage,
        "previous": event.previous,
        "reason": event.reason,
        "requester": history.get("by"),
        "at": history.get("at"),
        "approvers": approvers,
        "pr": pr,  # from GitHub, never from the file alone
        "pr_in_history": history.get("pr"),  # what the file says, checked against the PR by `ci check`
        "metrics": metrics or {},
        "history_index": event.history_index,
        "registry_commit": tag.commit,
    }
