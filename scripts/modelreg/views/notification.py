"""The text of release notifications: one message per new version, stage change and archive.

Messages are built from what the release just tagged, so a rerun that tags
nothing sends nothing. Delivery is adapters/notifier.py's job.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.diff import STAGE_ASSIGNED, STAGE_UNASSIGNED, VERSION_ARCHIVED, VERSION_REGISTERED
from ..core.registry import PRODUCTION, Registry
from .format import number

@dataclass(frozen=True)
class Message:
    title: str
    body: str


def _deltas(metrics: dict, baseline: dict, primary: str | None) -> str:
    parts = []
    for name in sorted(metrics, key=lambda m: (m != primary, m)):
        value, before = metrics[name], baseline.get(name)
        parts.append(f"{name} {number(value)}" + (f" ({value - before:+.4f})" if before is not None else ""))
    return ", ".join(parts) or "no metrics recorded"


def messages(tags: list, registry: Registry, repo_url: str | None = None) -> list[Message]:
    """One message per new version, stage change and archive that the release tagged."""
    out = []
    for tag in tags:
        event, data = tag.event, tag.message or {}
        model = registry.model(event.model)
        if model is None:
            continue
        pr = data.get("pr")
        link = f"{repo_url}/pull/{pr}" if repo_url and pr else (f"#{pr}" if pr else "no pull request found")
        approvers = ", ".join(data.get("approvers") or []) or "none recorded"
        if event.kind in (STAGE_ASSIGNED, STAGE_UNASSIGNED):
            version = model.version(event.version) if event.version else None
            previous = model.version(event.previous) if event.previous else None
            if event.kind == STAGE_ASSIGNED:
                title = f"{event.model}: {event.stage} is now {event.version}"
                change = f"{event.previous or 'nothing'} -> {event.version}"
            else:
                title = f"{event.model}: {event.stage} emptied (was {event.previous})"
                change = f"{event.previous} -> nothing"
            metrics = _deltas(version.metrics if version else {}, previous.metrics if previous else {}, model.metric)
        elif event.kind == VERSION_REGISTERED:
            version = model.version(event.version)
            holder = model.stages.get(PRODUCTION)
            baseline = model.version(holder) if holder and holder != event.version else None
            title = f"{event.model}: new version {event.version}"
            change = f"registered {event.version}" + (f" (production: {holder})" if holder else "")
            metrics = _deltas(version.metrics if version else {}, baseline.metrics if baseline else {}, model.metric)
        elif event.kind == VERSION_ARCHIVED:
            title = f"{event.model}: {event.version} archived"
            change, metrics = f"archived {event.version}", "-"
        else:
            continue
        body = "\n".join([
            f"Model: {event.model}", f"Change: {change}", f"Metrics: {metrics}",
            f"Reason: {event.reason or (model.version(event.version).notes if event.version and model.version(event.version) else None) or '-'}",
            f"Requester: {data.get('requester') or '-'}", f"Approvers: {approvers}", f"Pull request: {link}"])
        out.append(Message(title, body))
    return out
