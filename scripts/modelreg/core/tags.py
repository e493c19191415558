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
from functools import cached_property

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

    @cached_property
    def data(self) -> dict | None:
        """The JSON message modelreg writes; None for a tag made another way (read once per tag)."""
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
    conflicts: list[str] = field(default_factory=list)  # foreign tags on other commits: the release refuses


def parse(name: str) -> dict | None:
    match = TAG_RE.match(name)
    return match.groupdict() if match else None


def plan(changes: list[RegistryCommit], existing: dict[str, ExistingTag],
         registered: set[tuple[str, str]] | None = None,
         trained: dict[tuple[str, str], str] | None = None) -> Plan:
    """The tags that should exist and do not yet, in the order they happened.

    Tags that exist are never moved or deleted; one that disagrees with the
    registry is reported and otherwise ignored, so a hand-pushed tag cannot
    steer what modelreg derives. Tags modelreg did not make are never trusted,
    version tags included: a version's commit is the one that registered it in
    the registry (or modelreg's own tag of it). A foreign version tag on that very
    commit is adopted with a warning (GTO reads the same thing either way); one on
    another commit is a conflict, and the release refuses to run (GTO would
    report that commit's artifact for every stage tag on the version). A foreign
    version tag on the commit the version record says trained it (`trained`: what
    `modelreg import-gto` records from GTO's own tags) is adopted as well, and the
    version's stage tags go there, where GTO finds the artifact.
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
        if parsed["version"] and not parsed["archived"] and tag.data is not None:
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
                if known is not None and known.data is None:  # GTO's, or made by hand
                    if known.target != change.commit and known.target == (trained or {}).get(
                            (event.model, event.version)):
                        result.warnings.append(f"tag {name} was not made by modelreg; it points at the commit the "
                                               "version record names as its training commit, so it is kept and "
                                               "the version's stage tags go there")
                        result.version_commits[(event.model, event.version)] = known.target
                        continue
                    if known.target != change.commit:
                        result.conflicts.append(
                            f"tag {name} was not made by modelreg and points at {known.target[:12]}, but "
                            f"{change.commit[:12]} registered {event.model} {event.version}: that is the commit "
                            f"modelreg tags, and GTO would report the other commit's artifact. Delete the tag "
                            f"(git push origin :refs/tags/{name}) and run the release again")
                    else:
                        result.warnings.append(
                            f"tag {name} was not made by modelreg; it points at the commit that registered the "
                            "version, so it is kept and used. While it stays, each release reads main's whole "
                            f"history: to have modelreg's own tag there, delete it (git push origin "
                            f":refs/tags/{name}) and run the release again")
                    result.version_commits[(event.model, event.version)] = change.commit
                    continue
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


def baseline_gaps(state: dict, existing: dict[str, ExistingTag], limit: int = 3) -> list[str]:
    """What modelreg's tags lack for the registry as it was at a release commit; empty when they cover it.

    The release may start its walk after that commit only when every version there
    has modelreg's version tag, every archived version its `!` tag and every
    history entry modelreg's stage tag: then the changes up to it can add no tag
    that a walk of the whole history would add (plan() would find each one done).
    """
    ours, entries = set(), set()
    for tag in existing.values():
        parsed = parse(tag.name)
        data = tag.data if parsed else None
        if data is None:
            continue
        if parsed["version"] and not parsed["archived"]:
            ours.add((parsed["model"], parsed["version"]))
        elif parsed["n"] and data.get("model") == parsed["model"] and isinstance(data.get("history_index"), int):
            entries.add((parsed["model"], data["history_index"]))
    gaps: list[str] = []
    models = state.get("models") if isinstance(state, dict) else None
    for name, model in (models.items() if isinstance(models, dict) else ()):
        model = model if isinstance(model, dict) else {}
        versions = model.get("versions") if isinstance(model.get("versions"), dict) else {}
        for version, record in versions.items():
            if (name, version) not in ours:
                gaps.append(f"{name}@{version} has no modelreg tag")
            elif isinstance(record, dict) and record.get("archived") and f"{name}@{version}!" not in existing:
                gaps.append(f"{name}@{version}! is missing")
        history = model.get("history") if isinstance(model.get("history"), list) else []
        gaps += [f"{name} history entry {index + 1} has no modelreg tag" for index in range(len(history))
                 if (name, index) not in entries]
        if len(gaps) > limit:
            return gaps[:limit] + ["…"]
    return gaps


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
