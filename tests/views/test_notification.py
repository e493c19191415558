"""Notifications: built from what a release tagged, escaped for each sink, delivered with apprise
to a webhook and SMTP. Delivery of hostile text to every sink is in tests/adapters/test_notifier.py."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys

import pytest
from hypothesis import given, strategies as st

from modelreg.adapters import notifier
from modelreg.views import notification
from modelreg.core import yamlread
from modelreg.core.tags import PlannedTag
from modelreg.core.diff import STAGE_ASSIGNED, VERSION_REGISTERED, Event
from modelreg.core.registry import Registry

from conftest import SAMPLE

REGISTRY = Registry(yamlread.load(SAMPLE, "s")[0])


def planned(event: Event, **message) -> PlannedTag:
    return PlannedTag("t", "0" * 40, 0, event, "0" * 40, message)


def test_stage_change_message_has_everything_a_reviewer_asks():
    event = Event(STAGE_ASSIGNED, "churn-classifier", "v1.3.0", "production", "v1.2.0", "better AUC")
    (message,) = notification.messages([planned(event, pr=42, approvers=["bob"], requester="alice")], REGISTRY,
                                 "https://github.com/acme/models")
    assert message.title == "churn-classifier: production is now v1.3.0"
    assert "Change: v1.2.0 -> v1.3.0" in message.body
    assert "roc_auc 0.861 (+0.0190), accuracy 0.812 (+0.0110)" in message.body
    assert "Reason: better AUC" in message.body and "Requester: alice" in message.body
    assert "Approvers: bob" in message.body and message.footer == "Pull request: https://github.com/acme/models/pull/42"
    assert message.render("plain")[1].endswith("\nPull request: https://github.com/acme/models/pull/42")


def test_new_version_is_compared_with_production():
    (message,) = notification.messages([planned(Event(VERSION_REGISTERED, "churn-classifier", "v1.3.0"))], REGISTRY)
    assert message.title == "churn-classifier: new version v1.3.0" and "(production: v1.2.0)" in message.body
    assert "Reason: More trees, new features." in message.body  # the version's notes


# ---- escaping: one escaper per sink -------------------------------------------------------------------

ZWSP = "\u200b"
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # every control character but the newline
BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
MARKUP = set("\\`*_~|>#[]()")  # what Discord's markdown reads

# What a pull-request author could write into a reason, a note, a requester name or a metric name.
HOSTILE = {
    "workflow command": "ok\n::error::x",
    "encoded newline": "ok%0A::error::x",
    "html": "<script>alert(1)</script>",
    "markdown link": "[x](http://evil)",
    "@everyone": "hi @everyone",
    "@here": "@here",
    "@channel": "@channel",
    "slack broadcast": "<!channel>",
    "slack user": "<@U123>",
    "slack link": "<http://evil|click>",
    "discord user": "<@123456789012345678>",
    "discord nickname": "<@!123456789012345678>",
    "discord role": "<@&123456789012345678>",
    "discord channel": "<#123456789012345678>",
    "markdown": "**b** `c` ~~s~~ ||spoiler|| > quote\n# heading",
    "right-to-left override": "txt.\u202egpj.exe",
    "bidi isolate": "\u2067abc\u2069",
    "NUL": "a\x00b",
    "100 KB": "A" * 100_000,
    "header injection": "x\r\nBcc: victim@x",
}

ESCAPERS = {"plain": notification.plain, "slack": notification.slack, "discord": notification.discord,
            "email subject": notification.email_subject, "email body": notification.email_body}


def unescaped_markup(text: str) -> list[int]:
    """Where a Discord markdown character stands with no backslash before it."""
    found, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] in MARKUP:
            i += 2
            continue
        if text[i] in MARKUP:
            found.append(i)
        i += 1
    return found


def violations(sink: str, text: str, limit: int) -> list[str]:
    """What must never reach a sink: shared with tests/adapters/test_notifier.py, which checks the wire."""
    found = []
    if len(text) > limit:
        found.append(f"{len(text)} characters, more than {limit}")
    if CONTROL.search(text):
        found.append("a control character")
    if BIDI.search(text):
        found.append("a bidi control")
    if sink in ("email subject", "title") and "\n" in text:
        found.append("a line break")
    if sink == "slack":
        if re.search(r"[<>]", text):
            found.append("a raw < or >: a control sequence or link")
        if re.search(r"&(?!(?:amp|lt|gt);)", text):
            found.append("a raw &")
        if re.search(r"@(?:channel|here|everyone)", text, re.IGNORECASE):
            found.append("a broadcast mention")
    if sink == "discord":
        if re.search(r"@(?:everyone|here)|<[@#]", text):
            found.append("a mention")
        if unescaped_markup(text):
            found.append(f"unescaped markdown at {unescaped_markup(text)[:5]}")
    return found


def shown(sink: str, text: str) -> str:
    """What a reader sees of escaped text."""
    if sink == "slack":
        text = re.sub(r"&(amp|lt|gt);", lambda m: {"amp": "&", "lt": "<", "gt": ">"}[m.group(1)], text)
    if sink == "discord":
        text = re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)
    return text.replace(ZWSP, "")


@pytest.mark.parametrize("sink", ESCAPERS)
@pytest.mark.parametrize("case", HOSTILE)
def test_every_escaper_neutralises_every_hostile_string(case, sink):
    escape, limit = ESCAPERS[sink], 500
    out = escape(HOSTILE[case], limit)
    assert violations(sink, out, limit) == []
    expected = (notification.line if sink == "email subject" else notification.plain)(HOSTILE[case], limit)
    assert shown(sink, out) == expected or (out.endswith("…") and expected.startswith(shown(sink, out)[:-1]))
    if case == "100 KB":
        default = {"email subject": notification.TITLE_LIMIT, "email body": notification.BODY_LIMITS["email"]}
        assert out.endswith("…") and len(escape(HOSTILE[case])) <= default.get(sink, notification.FIELD_LIMIT)


def test_each_escaper_on_examples():
    assert notification.plain("a\x00b\u202ec\r\nd\te\u2066") == "abc\nd e"
    assert notification.plain("ok%0A::error::x") == "ok%0A::error::x"  # nothing is decoded
    assert notification.line("x\r\nBcc: victim@x") == "x Bcc: victim@x"
    assert notification.slack("<!channel> & @here <http://evil|click>") == \
        f"&lt;{ZWSP}!channel&gt; &amp; @{ZWSP}here &lt;http://evil|click&gt;"
    assert notification.discord("[x](http://evil) @everyone <@123> <@&4> <#5> *b*") == \
        f"\\[x\\]\\(http://evil\\) @{ZWSP}everyone <{ZWSP}@{ZWSP}123\\> <{ZWSP}@{ZWSP}&4\\> <{ZWSP}\\#5\\> \\*b\\*"
    assert notification.email_subject("release\r\nBcc: victim@x\n") == "release Bcc: victim@x"
    assert notification.plain("A" * 10, 5) == "AAAA…"


@pytest.mark.parametrize("sink", ["slack", "discord"])
def test_a_cut_never_splits_an_escape(sink):
    for limit in range(1, 40):
        for text in ("&" * 50, "<" * 50, "[" * 50, "@everyone " * 10, "\\" * 50):
            out = ESCAPERS[sink](text, limit)
            assert violations(sink, out, limit) == [], (text, limit, out)


@given(st.text(st.sampled_from(list("<>&@!#[]()*_~|`\\:/. aZ9\n\r\t\x00\x85\u2028\u202e\u2066…")) | st.characters(
    blacklist_characters=ZWSP), max_size=300), st.integers(1, 400))
def test_escapers_hold_for_any_text(text, limit):
    for sink, escape in ESCAPERS.items():
        out = escape(text, limit)
        assert violations(sink, out, limit) == [], sink
        expected = (notification.line if sink == "email subject" else notification.plain)(text, 10 ** 6)
        seen = shown(sink, out)
        assert seen == expected or (seen.endswith("…") and expected.startswith(seen[:-1])), sink


@pytest.mark.parametrize("sink", ["plain", "email", "slack", "discord"])
def test_a_rendered_message_is_bounded_and_keeps_our_link_clickable(sink):
    hostile = "\n".join(HOSTILE.values())
    footer = "Pull request: https://github.com/acme/my_models/pull/42"
    title, body = notification.Message(hostile, hostile, footer).render(sink)
    assert "\n" not in title and len(title) <= notification.TITLE_LIMIT
    assert (len(title) + 2 + len(body) if sink == "discord" else len(body)) <= notification.BODY_LIMITS[sink]
    assert body.endswith("\n" + footer)  # our own link, not escaped: my\_models would break it in Discord
    kind = {"email": "email body"}.get(sink, sink)
    assert violations("title" if sink in ("plain", "email") else sink, title, notification.TITLE_LIMIT) == []
    assert violations(kind, body[: -len(footer) - 1], notification.BODY_LIMITS[sink]) == []


@given(st.text(st.sampled_from(list("<>&@#[]_\\\n\r\x00\u202e aZ")), max_size=3000), st.integers(0, 3))
def test_a_rendered_message_is_bounded_for_any_body(text, repeat):
    body = "\n".join([text] * repeat + ["x\n" * 2500] * (repeat == 3))  # up to 2500 lines: more than any room
    for sink in ("plain", "email", "slack", "discord"):
        title, rendered = notification.Message(text, body).render(sink)
        length = len(title) + 2 + len(rendered) if sink == "discord" else len(rendered)
        assert length <= notification.BODY_LIMITS[sink]
        assert violations({"email": "email body"}.get(sink, sink), rendered, notification.BODY_LIMITS[sink]) == []


def test_a_long_field_is_cut_so_the_lines_after_it_stay():
    message = notification.Message("t", "Reason: " + "A" * 10_000 + "\nRequester: " + "B" * 10_000 + "\nApprovers: bob")
    for sink in ("slack", "discord"):
        _, body = message.render(sink)
        reason, requester, approvers = body.split("\n")
        assert reason.endswith("…") and requester.endswith("…") and approvers == "Approvers: bob"
        assert abs(len(reason) - len(requester)) <= 1


def test_registry_text_cannot_add_lines_or_links_to_a_message():
    reason = "better\n::error::x\r\nApprovers: the CEO"
    event = Event(STAGE_ASSIGNED, "churn-classifier", "v1.3.0", "production", "v1.2.0", reason)
    tag = planned(event, pr="42\nApprovers: mallory", approvers=["bob\nReason: x"], requester="alice\n::warning::y")
    (message,) = notification.messages([tag], REGISTRY, "https://github.com/acme/models")
    lines = message.body.split("\n")
    assert [line.split(":")[0] for line in lines] == ["Model", "Change", "Metrics", "Reason", "Requester", "Approvers"]
    assert lines[3] == "Reason: better ::error::x Approvers: the CEO"
    assert message.footer == "Pull request: no pull request found"  # a "pr" that is no number is not linked
    (long,) = notification.messages([planned(Event(STAGE_ASSIGNED, "churn-classifier", "v1.3.0", "production",
                                                    "v1.2.0", "A" * 100_000))], REGISTRY)
    assert "\nReason: " + "A" * (notification.FIELD_LIMIT - 1) + "…\nRequester: -\n" in long.body

@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    class Inbox:
        messages: list = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content.decode()))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    inbox.messages = []
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox.messages
    controller.stop()


def test_release_notifies_webhook_and_email_once(trained_repo, httpserver, smtp):
    port, inbox = smtp
    posts = []
    httpserver.expect_request("/hook", method="POST").respond_with_handler(
        lambda request: (posts.append(json.loads(request.data)), __import__("werkzeug").Response("ok"))[1])
    urls = (f"json://127.0.0.1:{httpserver.port}/hook "
            f"mailto://127.0.0.1:{port}?from=registry@example.com&to=team@example.com&mode=insecure "
            "json://127.0.0.1:9/unreachable")
    env = {**__import__("os").environ, notifier.ENV: urls}
    subprocess.run([sys.executable, "-m", "modelreg", "promote", "churn-classifier", "v1.0.0", "--to",
                    "production", "--reason", "first production model", "--commit"], cwd=trained_repo, check=True,
                   capture_output=True)
    result = subprocess.run([sys.executable, "-m", "modelreg", "ci", "release", "--no-push", "--no-copy"],
                            cwd=trained_repo, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr  # a failed notification fails nothing
    assert "Notifications: 4 delivered, 2 failed:" in result.stdout
    assert "json:&#8203;//127.0.0.1: could not deliver" in result.stdout  # Markdown: no bare link
    titles = [post["title"] for post in posts]
    assert titles == ["churn-classifier: new version v1.0.0", "churn-classifier: production is now v1.0.0"]
    assert "Reason: first production model" in posts[1]["message"]
    assert len(inbox) == 2 and inbox[0][1] == ["team@example.com"]
    assert "churn-classifier: production is now v1.0.0" in inbox[1][2]
    again = subprocess.run([sys.executable, "-m", "modelreg", "ci", "release", "--no-push", "--no-copy"],
                           cwd=trained_repo, env=env, capture_output=True, text=True)
    assert again.returncode == 0 and len(posts) == 2 and len(inbox) == 2  # nothing new, nothing sent
