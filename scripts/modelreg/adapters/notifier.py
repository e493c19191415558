"""Delivering notifications through apprise (Slack, e-mail, webhooks, ...).

A failed delivery fails nothing else: it is reported, with secrets redacted.
"""

from __future__ import annotations

import re

ENV = "MODELREG_NOTIFY_URLS"


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


def send(urls: list[str], outgoing: list) -> tuple[int, list[str]]:
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
