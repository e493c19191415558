"""The notifier: URLs from the secret, redaction, and hostile registry text delivered through apprise
to every sink, checked on the wire.

A webhook receiver (pytest-httpserver on 127.0.0.1) takes json:// and form:// and, for Slack and
Discord, whose apprise plugins post to a fixed host, the plugin's endpoint is pointed at it: what
arrives is the exact request apprise would send to hooks.slack.com or discord.com. An SMTP server
(aiosmtpd) takes e-mail. The catalogue of hostile strings and the rules of each sink are
tests/views/test_notification.py's, where each escaper is tested alone.
"""

from __future__ import annotations

import dataclasses
import email
import importlib.util
import json
import re
import socket
from email import policy
from pathlib import Path

import pytest
from hypothesis import given, strategies as st
from werkzeug import Response

from modelreg.adapters import notifier
from modelreg.core.diff import STAGE_ASSIGNED, Event
from modelreg.core.tags import PlannedTag
from modelreg.views import notification

_spec = importlib.util.spec_from_file_location(
    "notification_cases", Path(__file__).resolve().parents[1] / "views" / "test_notification.py")
_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cases)
HOSTILE, REGISTRY, violations = _cases.HOSTILE, _cases.REGISTRY, _cases.violations

LABELS = ["Model", "Change", "Metrics", "Reason", "Requester", "Approvers", "Pull request"]
FOOTER = "Pull request: https://github.com/acme/my_models/pull/42"
RECIPIENTS = ["team@example.com", "lead@example.com"]
SINKS = ["json", "form", "slack", "discord", "email"]


# ---- the secret: one URL per service --------------------------------------------------------------

@pytest.mark.parametrize("secret, urls", [
    ("slack://a/b/c json://h/x,\nmailto://u:p@h", ["slack://a/b/c", "json://h/x", "mailto://u:p@h"]),
    ("mailtos://u:p@smtp.x.com?to=a@x.com,b@x.com", ["mailtos://u:p@smtp.x.com?to=a@x.com,b@x.com"]),
    ("mailto://u:p@h?to=a@x.com,b@x.com,json://h/x", ["mailto://u:p@h?to=a@x.com,b@x.com", "json://h/x"]),
    ("mailtos://u:p@h/a@x.com,b@x.com?cc=c@x.com,d@x.com\r\n\tslack://T/B/C,",
     ["mailtos://u:p@h/a@x.com,b@x.com?cc=c@x.com,d@x.com", "slack://T/B/C"]),
    ("json://h/a,,discord://1/t ,form://h/b", ["json://h/a", "discord://1/t", "form://h/b"]),
    ("discord://1/t?ping=<@1>,<@&2>,@here", ["discord://1/t?ping=<@1>,<@&2>,@here"]),
    (" \n ", []),
    (None, []),
])
def test_targets_split_urls_but_keep_recipient_lists(secret, urls):
    assert notifier.targets(secret) == urls


# ---- redaction --------------------------------------------------------------------------------------

@pytest.mark.parametrize("url, shown", [
    ("mailto://user:secret@smtp.example.com:587?to=x", "mailto://smtp.example.com"),
    ("mailtos://user:p@ssw0rd@host", "mailtos://host"),
    ("mailtos://user:p@ssw0rd@smtp.example.com?to=a@x.com", "mailtos://smtp.example.com"),
    ("mailtos://me@example.com:p@ss:w@rd@smtp.example.com:465/a@x.com", "mailtos://smtp.example.com"),
    ("json://user:pw@hooks.example.com/x", "json://hooks.example.com"),
    ("json://127.0.0.1:9/unreachable", "json://127.0.0.1"),
    ("jsons://[::1]:8443/x", "jsons://[::1]"),
    ("https://discord.com/api/webhooks/1234/t0ken", "https://discord.com"),
    ("slack://T000/B000/XXXX/#models", "slack://…"),
    ("slack://bot@xoxb-1234-abcd/#models", "slack://…"),
    ("discord://1234/t0ken.with.dots", "discord://…"),
    ("pover://user@t0k.en", "pover://…"),
    ("tgram://123456:ab.cd/987", "tgram://…"),
    ("not a url", "an invalid URL"),
])
def test_redact_shows_a_host_name_and_nothing_secret(url, shown):
    assert notifier.redact(url) == shown


@given(st.text(st.characters(blacklist_characters="/?#", blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")),
               min_size=1, max_size=40),
       st.sampled_from(["user", "me@example.com", ""]), st.sampled_from(["mailto", "mailtos", "json", "form"]))
def test_redact_never_shows_any_of_the_password(password, user, scheme):
    """Any password, `@` and `:` included (`/`, `?` and `#` must be percent-encoded in every URL)."""
    shown = notifier.redact(f"{scheme}://{user}:{password}@smtp.example.com:465/x?to=a@x.com,b@x.com")
    assert shown == f"{scheme}://smtp.example.com"


# ---- which escaper --------------------------------------------------------------------------------

@pytest.mark.parametrize("url, kind", [
    ("slack://T1/B1/C1/#models", "slack"),
    ("https://hooks.slack.com/services/T1/B1/C1", "slack"),
    ("discord://1234/t0ken", "discord"),
    ("https://discord.com/api/webhooks/1234/t0ken", "discord"),
    ("mailto://u:p@smtp.example.com?to=a@x.com", "email"),
    ("mailtos://u:p@smtp.example.com?to=a@x.com", "email"),
    ("json://hooks.example.com/x", "plain"),
    ("form://hooks.example.com/x", "plain"),
    ("ntfy://topic", "plain"),
])
def test_the_escaper_follows_the_service(url, kind):
    import apprise

    assert notifier.sink(url, apprise.Apprise.instantiate(url)) == kind
    assert notifier.sink(url) == kind or url.startswith("https://")  # without apprise: the scheme alone


# ---- hostile text on the wire -----------------------------------------------------------------------

def _message(hostile: str) -> notification.Message:
    """The release's message for a stage change whose reason, requester and approver are hostile,
    and a title carrying it too (titles come from names the schema constrains; a flow may pass any)."""
    event = Event(STAGE_ASSIGNED, "churn-classifier", "v1.3.0", "production", "v1.2.0", hostile)
    tag = PlannedTag("t", "0" * 40, 0, event, "0" * 40, {"pr": 42, "approvers": [hostile], "requester": hostile})
    (message,) = notification.messages([tag], REGISTRY, "https://github.com/acme/my_models")
    return dataclasses.replace(message, title=f"{message.title} {hostile}")


@pytest.fixture(scope="module")
def smtp_server():
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self):
            self.envelopes = []

        async def handle_DATA(self, server, session, envelope):
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content.decode()))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox.envelopes
    controller.stop()


@pytest.fixture(scope="module")
def receiver():
    from pytest_httpserver import HTTPServer

    server, posts = HTTPServer(host="127.0.0.1"), []

    def record(request):
        data = request.get_data(as_text=True, parse_form_data=True)
        posts.append((request.path, data, request.form.to_dict()))
        return Response("ok")

    server.expect_request(re.compile(".*"), method="POST").respond_with_handler(record)
    server.start()
    yield server, posts
    server.clear()
    server.stop()


def _unthrottled(patch) -> None:
    """apprise waits between two sends of one service (e-mail 5.5 s, Slack 1.2 s): not to a local receiver."""
    from apprise.plugins.email import NotifyEmail
    from apprise.plugins.slack import NotifySlack

    for plugin in (NotifyEmail, NotifySlack):
        patch.setattr(plugin, "request_rate_per_sec", 0)


@pytest.fixture
def endpoints(receiver, monkeypatch):
    """Slack's and Discord's apprise plugins post to 127.0.0.1 instead of their fixed hosts."""
    from apprise.plugins.discord import NotifyDiscord
    from apprise.plugins.slack import NotifySlack

    server, posts = receiver
    monkeypatch.setattr(NotifySlack, "webhook_url", f"http://127.0.0.1:{server.port}/slack")
    monkeypatch.setattr(NotifyDiscord, "notify_url", f"http://127.0.0.1:{server.port}/discord")
    _unthrottled(monkeypatch)
    posts.clear()
    return server.port, posts


@pytest.fixture(scope="module")
def wire(receiver, smtp_server):
    """Every hostile message, sent once through every sink; what each receiver got, per sink, in order."""
    from apprise.plugins.discord import NotifyDiscord
    from apprise.plugins.slack import NotifySlack

    (server, posts), (smtp_port, inbox) = receiver, smtp_server
    secret = (f"json://127.0.0.1:{server.port}/json form://127.0.0.1:{server.port}/form\n"
              "slack://T000/B000/XXXX/#models,discord://1234/t0ken "
              f"mailto://127.0.0.1:{smtp_port}?from=registry@example.com&to={','.join(RECIPIENTS)}&mode=insecure")
    urls = notifier.targets(secret)
    outgoing = [_message(text) for text in HOSTILE.values()]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(NotifySlack, "webhook_url", f"http://127.0.0.1:{server.port}/slack")
        patch.setattr(NotifyDiscord, "notify_url", f"http://127.0.0.1:{server.port}/discord")
        _unthrottled(patch)
        posts.clear()
        delivered, failures = notifier.send(urls, outgoing)
    received = {sink: [post for post in posts if post[0].startswith(f"/{sink}")] for sink in SINKS}
    received["email"] = list(inbox)
    return urls, outgoing, delivered, failures, received


def test_every_message_reaches_every_sink_once(wire):
    urls, _, delivered, failures, received = wire
    assert len(urls) == 5 and urls[-1].count("@example.com") == 3  # ?to=team@...,lead@... stayed one URL
    assert failures == [] and delivered == 5 * len(HOSTILE)
    assert {sink: len(got) for sink, got in received.items()} == {
        "json": len(HOSTILE), "form": len(HOSTILE), "slack": len(HOSTILE), "discord": len(HOSTILE),
        "email": len(RECIPIENTS) * len(HOSTILE)}  # apprise sends one e-mail per recipient


def _lines_are_ours(body: str) -> bool:
    return [line.split(":")[0] for line in body.split("\n")] == LABELS


@pytest.mark.parametrize("sink", SINKS)
@pytest.mark.parametrize("case", HOSTILE)
def test_hostile_text_arrives_inert(wire, case, sink):
    _, outgoing, _, _, received = wire
    index = list(HOSTILE).index(case)
    message = outgoing[index]
    if sink in ("json", "form"):
        _, data, form = received[sink][index]
        got = json.loads(data) if sink == "json" else form
        title, body = got["title"], got["message"]
        assert (title, body) == message.render("plain")
        assert violations("title", title, notification.TITLE_LIMIT) == []
        assert violations("plain", body, notification.BODY_LIMITS["plain"]) == []
        assert _lines_are_ours(body)  # no value adds a line: "::error::", "Approvers: ..."
    elif sink == "slack":
        payload = json.loads(received[sink][index][1])
        (attachment,) = payload["attachments"]
        title, body = attachment["title"], attachment["text"]
        assert (title, body) == message.render("slack")  # escaped once: apprise's own encoding is accounted for
        assert payload["mrkdwn"] is False and payload["channel"] == "#models"
        assert violations("slack", title, notification.TITLE_LIMIT) == []
        assert violations("slack", body, notification.BODY_LIMITS["slack"]) == []
        assert _lines_are_ours(body)
    elif sink == "discord":
        payload = json.loads(received[sink][index][1])
        title, body = message.render("discord")
        assert payload["content"] == f"{title}\r\n{body}" and "embeds" not in payload
        assert payload["allowed_mentions"] == {"parse": []}  # and nothing could ping anyway:
        assert len(payload["content"]) <= 2000
        assert violations("discord", title, notification.TITLE_LIMIT) == []
        assert body.endswith("\n" + FOOTER)  # our own link, left clickable
        assert violations("discord", body[: -len(FOOTER) - 1], notification.BODY_LIMITS["discord"]) == []
        assert _lines_are_ours(body)
    else:
        envelopes = received["email"][len(RECIPIENTS) * index: len(RECIPIENTS) * (index + 1)]
        assert sorted(rcpt for _, rcpts, _ in envelopes for rcpt in rcpts) == sorted(RECIPIENTS)
        title, body = message.render("email")
        for mail_from, rcpts, content in envelopes:
            assert mail_from == "registry@example.com" and len(rcpts) == 1
            mail = email.message_from_string(content, policy=policy.default)
            header = re.split(r"\r?\n\r?\n", content, maxsplit=1)[0]
            names = {line.split(":")[0] for line in re.split(r"\r?\n", header) if line[:1] not in (" ", "\t")}
            assert names == {"Content-Type", "MIME-Version", "Content-Transfer-Encoding", "X-Application",
                             "Subject", "From", "To", "Message-ID", "Date"}  # no Bcc, Cc, or anything injected
            assert mail["Bcc"] is None and mail["To"] == rcpts[0]
            assert str(mail["Subject"]) == title and "\n" not in title and "\r" not in title
            assert violations("email subject", str(mail["Subject"]), notification.TITLE_LIMIT) == []
            text = mail.get_content().replace("\r\n", "\n").rstrip("\n")
            assert text == body and violations("email body", text, notification.BODY_LIMITS["email"]) == []
            assert _lines_are_ours(text)


def test_a_markdown_format_in_the_url_cannot_turn_escaped_text_into_pings(endpoints):
    """apprise's Discord markdown format collects `@here` and `<@id>` from the body into pings; its Slack
    markdown format converts links. The URL's format is overridden: both get text."""
    _, posts = endpoints
    message = _message("@here <@123456789012345678> [x](http://evil) <!channel>")
    assert notifier.send(["discord://1234/t0ken?format=markdown", "slack://T000/B000/XXXX?format=markdown"],
                         [message]) == (2, [])
    discord, slack = (json.loads(data) for _, data, _ in posts)
    title, body = message.render("discord")
    assert discord["content"] == f"{title}\r\n{body}" and discord["allowed_mentions"] == {"parse": []}
    assert "embeds" not in discord and "👉" not in discord["content"]
    assert slack["mrkdwn"] is False and (slack["attachments"][0]["title"], slack["attachments"][0]["text"]) == \
        message.render("slack")


def test_a_slack_workflow_webhook_gets_the_text_encoded_once_too(endpoints, monkeypatch):
    """In workflow mode apprise sends "title: body" and encodes only the body."""
    from apprise.plugins.slack import NotifySlack

    port, posts = endpoints
    monkeypatch.setattr(NotifySlack, "workflow_trigger_url", f"http://127.0.0.1:{port}/slack-trigger")
    message = _message("<!channel> & <http://evil|click> @here")
    assert notifier.send(["https://hooks.slack.com/triggers/T0123/A0123/abcdef"], [message]) == (1, [])
    (payload,) = (json.loads(data) for _, data, _ in posts)
    title, body = message.render("slack")
    assert payload == {"text": f"{title}: {body}"}
    assert violations("slack", payload["text"], len(payload["text"])) == []


def test_an_apprise_that_does_not_encode_slack_text_gets_it_encoded(endpoints, monkeypatch):
    """The decoding relies on apprise's encoding, which the notifier asks the plugin about first."""
    from apprise.plugins.slack import NotifySlack

    _, posts = endpoints
    monkeypatch.setattr(NotifySlack, "dialect_convert", lambda self, body, *args, **kwargs: body)
    message = _message("<!channel> & <http://evil|click>")
    assert notifier.send(["slack://T000/B000/XXXX"], [message]) == (1, [])
    (payload,) = (json.loads(data) for _, data, _ in posts)
    assert payload["attachments"][0]["text"] == message.render("slack")[1]
    assert violations("slack", payload["attachments"][0]["text"], notification.BODY_LIMITS["slack"]) == []


def test_discord_pings_only_whom_the_url_names(endpoints):
    _, posts = endpoints
    message = _message("@everyone <@999999999999999999> <@&888888888888888888>")
    url = "discord://1234/t0ken?ping=<@123456789012345678>,<@%26234567890123456789>"
    assert notifier.send([url], [message]) == (1, [])
    (payload,) = (json.loads(data) for _, data, _ in posts)
    assert payload["allowed_mentions"] == {"parse": [], "users": ["123456789012345678"],
                                           "roles": ["234567890123456789"]}
    assert payload["content"].endswith("\r\n👉 <@&234567890123456789> <@123456789012345678>")
    assert not re.search(r"@everyone|<@&?(999|888)", payload["content"])


def test_failures_are_one_line_and_keep_secrets_out(endpoints):
    message = notification.Message("release\r\n::error::x\r\nBcc: victim@x", "body")
    delivered, failures = notifier.send(["mailtos://user:p@ssw0rd@127.0.0.1:9?to=a@x.com", "no-scheme"], [message])
    assert delivered == 0
    assert failures == ["mailtos://127.0.0.1: could not deliver 'release ::error::x Bcc: victim@x'",
                        "an invalid URL: not a notification URL apprise understands"]
