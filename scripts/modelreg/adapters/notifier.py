"""Delivering notifications through apprise (Slack, Discord, e-mail, webhooks, ...).

A failed delivery fails nothing else: it is reported, with secrets redacted.

Each URL is a sink, and each message is escaped for it (views/notification.py
holds the escapers; a message renders itself, `message.render(sink)`, so this
module needs nothing from views). What apprise does on top was read in its
plugins (apprise 2.3), and is what the tests check on the wire:

- Slack, text format: apprise encodes `&`, `<`, `>` of title and body itself
  (of the body only for a workflow webhook). It is handed the view's Slack text
  with exactly those three entities decoded where it encodes them, so Slack
  receives the view's text, encoded once (the plugin is asked first; an
  apprise that does not encode gets the view's text as it is).
- Discord, text format: apprise sends title and body as they are, with no
  `allowed_mentions` (Discord's default then pings for every mention); in its
  markdown format it even collects the body's `@here` and `<@id>` into pings.
  So the format is forced to text and the payload comes from a template (an
  apprise feature) that sets `allowed_mentions` to nothing, or to exactly the
  pings the URL's own `ping=` names.
- E-mail: the recipients come from the URL alone (`sendmail(from, to, ...)`);
  the subject is one line.
"""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from urllib.parse import quote, unquote

ENV = "MODELREG_NOTIFY_URLS"

_NEXT_URL = re.compile(r",+(?=[a-z][a-z0-9+.-]*://)", re.IGNORECASE)


def targets(value: str | None) -> list[str]:
    """Notification URLs from one secret: separated by white space (spaces, new lines), or by a
    comma right before the next URL's `scheme://`. Other commas belong to the URL: apprise lists
    recipients with them (`mailtos://u:p@host?to=a@x.com,b@x.com`)."""
    urls = []
    for chunk in (value or "").split():
        urls += [url.strip(",") for url in _NEXT_URL.split(chunk)]
    return [url for url in urls if url]


# Schemes whose host part is a host; elsewhere (slack://TOKEN/..., pover://user@TOKEN, ...) it is a secret.
_HOST_SCHEMES = {"json", "jsons", "form", "forms", "xml", "xmls", "mailto", "mailtos", "http", "https"}
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\]", re.IGNORECASE)


def redact(url: str) -> str:
    """scheme://host of a URL, for reports: tokens and passwords stay out of logs.

    The user information ends at the last `@` of the authority (passwords hold `@` too:
    `mailtos://user:p@ssw0rd@host`); a password's `/`, `?` and `#` must be percent-encoded
    in any URL (apprise reads them as the end of the authority too). The host is shown for
    schemes where it is a host name (webhooks, e-mail, https), never where a token sits there.
    """
    match = re.match(r"([a-z][a-z0-9+.-]*)://([^/?#]*)", url.strip(), re.IGNORECASE)
    if not match:
        return "an invalid URL"
    scheme = match.group(1).lower()
    authority = match.group(2).rpartition("@")[2]
    host = re.match(r"\[[^\]]*\]|[^:]*", authority).group()
    if scheme in _HOST_SCHEMES and _HOST.fullmatch(host):
        return f"{scheme}://{host}"
    return f"{scheme}://…"


_SINK_OF_SCHEME = {"slack": "slack", "discord": "discord", "mailto": "email", "mailtos": "email"}


def sink(url: str, plugin=None) -> str:
    """The escaper a URL's messages need: "slack", "discord", "email" or "plain" (json://, form://
    and everything else). The apprise plugin decides when there is one: https://hooks.slack.com/...
    and https://discord.com/api/webhooks/... are Slack and Discord too."""
    schemes = []
    for attribute in ("secure_protocol", "protocol"):
        value = getattr(plugin, attribute, None)
        schemes += [value] if isinstance(value, str) else list(value or ())
    schemes.append(url.strip().split("://", 1)[0].lower())
    return next((_SINK_OF_SCHEME[s] for s in schemes if s in _SINK_OF_SCHEME), "plain")


def _with_query(url: str, drop: set[str], add: dict[str, str]) -> str:
    base, _, query = url.strip().partition("?")
    kept = [p for p in query.split("&") if p and unquote(p.split("=", 1)[0]).strip().lower() not in drop]
    return base + "?" + "&".join(kept + [f"{key}={quote(value, safe='')}" for key, value in add.items()])


def _has_parameter(url: str, name: str) -> bool:
    query = url.partition("?")[2]
    return any(unquote(p.split("=", 1)[0]).strip().lower() == name for p in query.split("&"))


def _discord_template(plugin) -> dict:
    """The Discord payload: title and body as apprise sends them, and pings only for the mentions
    the URL's `ping=` names (`ping=<@123>,<@&456>,@here`), none for anything in the text."""
    content, allowed = "{{app_title}}\r\n{{app_body}}", {"parse": []}
    try:
        pings = plugin.ping_payload(" ".join(plugin.ping)) if getattr(plugin, "ping", None) else {}
    except Exception:  # an apprise without ping= support: no pings
        pings = {}
    wanted = pings.get("allow_mentions") or pings.get("allowed_mentions")
    if wanted and pings.get("content"):
        content += "\r\n" + pings["content"]
        allowed = {  # Discord knows "everyone" (which covers @here), and numeric ids
            "parse": ["everyone"] if {"everyone", "here"} & set(wanted.get("parse") or ()) else [],
            "users": [u for u in wanted.get("users") or () if str(u).isdigit()],
            "roles": [r for r in wanted.get("roles") or () if str(r).isdigit()],
        }
    return {"content": content, "allowed_mentions": allowed}


def _for_apprise(url: str, kind: str, plugin, scratch: Path) -> str:
    """The URL as apprise should load it: text format for Slack and Discord (a `format=markdown`
    would make apprise convert, and for Discord collect pings from, the escaped text), and for
    Discord a payload template that pings no one, unless the URL brings a template of its own."""
    if kind == "slack":
        return _with_query(url, {"format"}, {"format": "text"})
    if kind == "discord":
        add = {"format": "text"}
        if not _has_parameter(url, "template"):
            path = scratch / f"discord-{len(list(scratch.iterdir()))}.json"
            path.write_text(json.dumps(_discord_template(plugin)))
            add["template"] = str(path)
        return _with_query(url, {"format"}, add)
    return url


_SLACK_ENTITY = re.compile(r"&(amp|lt|gt);")


def _slack_decoded(text: str) -> str:
    """The view's Slack text before its `&`, `<`, `>` encoding, which apprise's Slack plugin does."""
    return _SLACK_ENTITY.sub(lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], text)


def _encodes_slack_text(plugin) -> bool:
    """Whether this apprise encodes Slack text itself (2.x does), asked of the plugin, not assumed:
    where it does not, the view's text goes as it is, already encoded."""
    import apprise

    try:
        return plugin.dialect_convert("&<>", apprise.NotifyFormat.TEXT) == "&amp;&lt;&gt;"
    except Exception:  # an apprise without dialect_convert
        return False


def send(urls: list[str], outgoing: list) -> tuple[int, list[str]]:
    """Deliver every message to every URL; returns (deliveries, failures described without secrets).

    A message is anything with `render(sink) -> (title, body)`, as views.notification.Message.
    """
    if not urls or not outgoing:
        return 0, []
    import apprise

    delivered, failures = 0, []
    with tempfile.TemporaryDirectory(prefix="modelreg-notify-") as scratch:
        for url in urls:
            plugin = apprise.Apprise.instantiate(url)
            kind = sink(url, plugin)
            encodes = kind == "slack" and _encodes_slack_text(plugin)
            service = apprise.Apprise()
            if plugin is None or not service.add(_for_apprise(url, kind, plugin, Path(scratch))):
                failures.append(f"{redact(url)}: not a notification URL apprise understands")
                continue
            for message in outgoing:
                title, body = message.render(kind)
                if kind == "slack" and encodes:  # a workflow webhook gets the title as it is: left encoded
                    body = _slack_decoded(body)
                    title = title if getattr(plugin, "mode", None) in ("workflow", "trigger") else _slack_decoded(title)
                try:
                    sent = bool(service.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT))
                except Exception:  # a plugin's error is one failed delivery, nothing more
                    sent = False
                if sent:
                    delivered += 1
                else:
                    failures.append(f"{redact(url)}: could not deliver '{message.render('plain')[0]}'")
    return delivered, failures
