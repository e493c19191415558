"""The text of release notifications: one message per new version, stage change and archive.

Messages are built from what the release just tagged, so a rerun that tags
nothing sends nothing. Delivery is adapters/notifier.py's job.

Most of the text comes from pull-request authors (reasons, notes, requester
names, metric names), and every notification service reads some of it as markup:
Slack pings the channel for `<!channel>` and links `<http://evil|click>`, Discord
pings for `@everyone` and `<@123>` and draws `[x](http://evil)` as a link, an
e-mail subject with a line break in it is a new header. So a message keeps its
text raw, and `Message.render(sink)` escapes it for one service with that
service's escaper below; each escaper is pure and bounds its output.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..core.diff import STAGE_ASSIGNED, STAGE_UNASSIGNED, VERSION_ARCHIVED, VERSION_REGISTERED
from ..core.registry import PRODUCTION, Registry
from .format import number

FIELD_LIMIT = 4000  # characters of one registry-derived field, ellipsis included
TITLE_LIMIT = 150  # a Slack header block holds 150
# A Slack section holds 3000 characters; a Discord message 2000 in all (title, line break and body),
# of which 100 stay free for the pings an operator's URL adds (adapters/notifier.py).
BODY_LIMITS = {"plain": 16000, "email": 16000, "slack": 3000, "discord": 1900}
ELLIPSIS = "…"
ZWSP = "\u200b"  # zero-width space: breaks a mention without changing what a reader sees

# Line breaks, including the ones only some renderers honour (VT, FF, NEL, U+2028/9), become "\n".
_BREAKS = re.compile(r"\r\n|[\r\v\f\x85\u2028\u2029]")
# Other control characters (NUL included), and the invisible marks that reorder text
# (bidi embeddings/overrides U+202A-U+202E, isolates U+2066-U+2069, LRM/RLM/ALM): removed.
_INVISIBLE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _clean(value: Any) -> str:
    text = "" if value is None else str(value)
    return _INVISIBLE.sub("", _BREAKS.sub("\n", text).replace("\t", " "))


def _one_line(text: str) -> str:
    return re.sub(r"[ \t]*\n\s*", " ", text).strip()


def _fit(escape: Callable[[str], str], text: str, limit: int) -> str:
    """escape(text) in at most `limit` characters: the longest escaped prefix plus an ellipsis.

    Text is cut before it is escaped, so a cut can never split an escape (`&am…`, `\\…`) and
    reopen the syntax it closed. The escapers below only ever lengthen text.
    """
    if len(text) <= limit:
        escaped = escape(text)
        if len(escaped) <= limit:
            return escaped
    text = text[:limit]
    low, high = 0, len(text) - 1  # escape(text[:low] + ELLIPSIS) fits; more than `high` characters never do
    while low < high:
        middle = (low + high + 1) // 2
        if len(escape(text[:middle] + ELLIPSIS)) <= limit:
            low = middle
        else:
            high = middle - 1
    return escape(text[:low] + ELLIPSIS)


def _fit_lines(escape: Callable[[str, int], str], text: str, limit: int) -> str:
    """escape() line by line in at most `limit` characters in all: when the lines do not fit, the
    longest are cut to one common length, so a long reason cannot push the lines after it out."""
    lines = _clean(text).split("\n")
    escaped = [escape(part, limit) for part in lines]
    if sum(map(len, escaped)) + len(lines) - 1 <= limit:
        return "\n".join(escaped)
    low, high = 1, limit  # the largest length every line may keep
    while low < high:
        middle = (low + high + 1) // 2
        if sum(min(len(part), middle) for part in escaped) + len(lines) - 1 <= limit:
            low = middle
        else:
            high = middle - 1
    if sum(min(len(part), low) for part in escaped) + len(lines) - 1 > limit:  # more lines than room
        return escape(text, limit)
    return "\n".join(part if len(part) <= low else escape(raw, low) for raw, part in zip(lines, escaped))


# -- one escaper per sink -----------------------------------------------------------------------------

def plain(value: Any, limit: int = FIELD_LIMIT) -> str:
    """Plain text (webhooks: json://, form://, and any service not named below).

    Control characters other than the newline are removed (NUL included; CR, CRLF, VT, FF,
    NEL and U+2028/U+2029 become newlines, tabs spaces), so are the bidi embeddings,
    overrides and isolates (U+202A-U+202E, U+2066-U+2069) and the LRM/RLM/ALM marks.
    At most `limit` characters, the last an ellipsis when text was cut.
    """
    return _fit(lambda text: text, _clean(value), limit)


def line(value: Any, limit: int = FIELD_LIMIT) -> str:
    """plain() on one line: every line break becomes a space."""
    return _fit(lambda text: text, _one_line(_clean(value)), limit)


_SLACK_BROADCAST = re.compile(r"@(?=(?:channel|here|everyone|group))", re.IGNORECASE)


def _slack(text: str) -> str:
    text = _SLACK_BROADCAST.sub("@" + ZWSP, text)
    text = re.sub(r"<(?=[!@#])", "<" + ZWSP, text)  # a control sequence stays broken even if decoded
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack(value: Any, limit: int = FIELD_LIMIT) -> str:
    """Slack text: plain(), then `&`, `<` and `>` as `&amp;`, `&lt;` and `&gt;`, as Slack documents
    (https://api.slack.com/reference/surfaces/formatting#escaping). With no literal `<`, no
    control sequence survives: `<!channel>`, `<!here>`, `<@U123>`, `<#C123>`, `<!subteam^S1>`,
    `<http://evil|click>`. `@channel`, `@here`, `@everyone` and `@group` get a zero-width space
    after the `@`, and so does `<` before `!`, `@` or `#`, so nothing pings even where the
    entities were decoded. At most `limit` characters.
    """
    return _fit(_slack, _clean(value), limit)


# Discord's markdown: emphasis, code, strike-through, spoilers, quotes, headings, masked links;
# a backslash shows any of them as itself.
_DISCORD_MARKUP = re.compile(r"([\\`*_~|>#\[\]()])")


def _discord(text: str) -> str:
    text = _DISCORD_MARKUP.sub(r"\\\1", text)
    text = re.sub(r"@(?=[\w&!])", "@" + ZWSP, text)  # @everyone, @here, <@123>, <@!123>, <@&456>
    return re.sub(r"<(?=\S)", "<" + ZWSP, text)  # <#123>, <:emoji:1>, <t:1:R>, </cmd:1>


def discord(value: Any, limit: int = FIELD_LIMIT) -> str:
    """Discord text: plain(), then a backslash before each markdown character (backslash,
    backtick, `*`, `_`, `~`, `|`, `>`, `#`, `[`, `]`, `(`, `)`), so no emphasis, code, spoiler,
    quote, heading or `[text](url)` link comes out; a zero-width space after every `@` that
    precedes a name, `&` or `!` (`@everyone`, `@here`, `<@123>`, `<@!123>`, `<@&456>`)
    and after every `<` that opens a token (`<#123>`, `<:e:1>`, `<t:1:R>`), so no mention
    parses. At most `limit` characters.
    """
    return _fit(_discord, _clean(value), limit)


def email_subject(value: Any, limit: int = TITLE_LIMIT) -> str:
    """An e-mail subject: line(), so no CR or LF (nor any other line break) can start a header."""
    return line(value, limit)


def email_body(value: Any, limit: int = BODY_LIMITS["email"]) -> str:
    """An e-mail body: plain() (apprise sends it as text/plain, base64 or quoted-printable)."""
    return plain(value, limit)


# sink -> (title escaper, body escaper, text of our own as it reads in that sink)
SINKS: dict[str, tuple[Callable[..., str], Callable[..., str], Callable[[str], str]]] = {
    "plain": (lambda t: line(t, TITLE_LIMIT), plain, lambda t: t),
    "email": (email_subject, email_body, lambda t: t),
    "slack": (lambda t: slack(_one_line(_clean(t)), TITLE_LIMIT), slack,
              lambda t: t.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")),
    "discord": (lambda t: discord(_one_line(_clean(t)), TITLE_LIMIT), discord, lambda t: t),
}


@dataclass(frozen=True)
class Message:
    """A notification, its text raw. `footer` is text of our own (the pull request line, whose
    link must stay clickable), never registry data: it is appended as it is."""
    title: str
    body: str
    footer: str = ""

    def render(self, sink: str) -> tuple[str, str]:
        """(title, body) escaped for one sink: "plain", "email", "slack" or "discord" (any other
        name: "plain"). The title is one line of at most TITLE_LIMIT characters; title, line
        break and body together fit BODY_LIMITS[sink] for Discord, the body alone elsewhere."""
        escape_title, escape_body, ours = SINKS.get(sink, SINKS["plain"])
        title = escape_title(self.title)
        footer = ours(line(self.footer, 300))
        room = BODY_LIMITS.get(sink, BODY_LIMITS["plain"]) - (len(footer) + 1 if footer else 0)
        if sink == "discord":
            room -= len(title) + 2  # apprise sends title + CRLF + body as one content of at most 2000
        body = _fit_lines(escape_body, self.body, max(room, 1))
        return title, "\n".join(part for part in (body, footer) if part)


# -- the messages ------------------------------------------------------------------------------------

def _field(value: Any) -> str:
    """One registry-derived value: one line of at most FIELD_LIMIT characters, so no value can add
    a line of its own ("Approvers: ..." or "::error::") to a message."""
    return line(value, FIELD_LIMIT)


def _deltas(metrics: dict, baseline: dict, primary: str | None) -> str:
    parts = []
    for name in sorted(metrics, key=lambda m: (m != primary, m)):
        value, before = metrics[name], baseline.get(name)
        delta = f" ({value - before:+.4f})" if isinstance(value, (int, float)) and isinstance(
            before, (int, float)) else ""
        parts.append(f"{name} {number(value)}{delta}")
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
        pr = pr if isinstance(pr, int) and not isinstance(pr, bool) else None  # from GitHub: a number
        link = f"{repo_url}/pull/{pr}" if repo_url and pr else (f"#{pr}" if pr else "no pull request found")
        approvers = ", ".join(str(a) for a in data.get("approvers") or []) or "none recorded"
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
        notes = model.version(event.version).notes if event.version and model.version(event.version) else None
        body = "\n".join(f"{label}: {_field(value)}" for label, value in [
            ("Model", event.model), ("Change", change), ("Metrics", metrics), ("Reason", event.reason or notes or "-"),
            ("Requester", data.get("requester") or "-"), ("Approvers", approvers)])
        out.append(Message(title, body, f"Pull request: {link}"))
    return out
