"""Notifications of new versions and stage changes, through apprise (Slack, e-mail, webhooks, ...).

Messages are built from what the release just tagged, so a rerun that tags
nothing sends nothing. A failed delivery fails nothing else: it is reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .diff import STAGE_ASSIGNED, STAGE_UNASSIGNED, VERSION_ARCHIVED, VERSION_REGISTERED
from .registry import PRODUCTION, Registry
from .render import number

ENV = "MODELREG_NOTIFY_URLS"


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


def targets(value: str | None) -> list[str]:
    """Notification URLs from one secret: separated by spaces, commas or new lines."""
    return [url for url in re.split(r"[\s,]+", value or "") if url]


def redact(url: str) -> str:
    """scheme://host of a URL, for reports: tokens and passwords stay out of logs."""
    match = re.match(r"([a-z0-9+.-]+)://(?:[^@/]*@)?([^/?#:]*)", url, re.I)
    if not match:
        return "an invalid URL"
    host = match.group(2)  # a host name is safe to show; Slack and others put tokens where the host goes
    return f"{match.group(1)}://{host}" if "." in host or host == "localhost" else f"{match.group(1)}://…"


def send(urls: list[str], outgoing: list[Message]) -> tuple[int, list[str]]:
    """Deliver every message to every URL; returns (deliveries, failures described without secrets)."""
    if not urls or not outgoing:
        return 0, []
    import apprise

    delivered, failures = 0, []
    for url in urls:
        service = apprise.Apprise()
        if not service.add(url):
            failures.append(f"{redact(url)}: not a notification URL apprise understands")
            continue
        for message in outgoing:
            if service.notify(title=message.title, body=message.body, body_format=apprise.NotifyFormat.TEXT):
                delivered += 1
            else:
                failures.append(f"{redact(url)}: could not deliver '{message.title}'")
    return delivered, failures
