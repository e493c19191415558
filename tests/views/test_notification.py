"""Notifications: built from what a release tagged, delivered with apprise to a webhook and SMTP."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

import pytest

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
    assert "Approvers: bob" in message.body and "https://github.com/acme/models/pull/42" in message.body


def test_new_version_is_compared_with_production():
    (message,) = notification.messages([planned(Event(VERSION_REGISTERED, "churn-classifier", "v1.3.0"))], REGISTRY)
    assert message.title == "churn-classifier: new version v1.3.0" and "(production: v1.2.0)" in message.body
    assert "Reason: More trees, new features." in message.body  # the version's notes


def test_targets_and_redaction():
    assert notifier.targets("slack://a/b/c json://h/x,\nmailto://u:p@h") == ["slack://a/b/c", "json://h/x",
                                                                          "mailto://u:p@h"]
    assert notifier.redact("mailto://user:secret@smtp.example.com:587?to=x") == "mailto://smtp.example.com"
    assert "T000" not in notifier.redact("slack://T000/B000/XXXX/#models")


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
    assert "json://127.0.0.1: could not deliver" in result.stdout
    titles = [post["title"] for post in posts]
    assert titles == ["churn-classifier: new version v1.0.0", "churn-classifier: production is now v1.0.0"]
    assert "Reason: first production model" in posts[1]["message"]
    assert len(inbox) == 2 and inbox[0][1] == ["team@example.com"]
    assert "churn-classifier: production is now v1.0.0" in inbox[1][2]
    again = subprocess.run([sys.executable, "-m", "modelreg", "ci", "release", "--no-push", "--no-copy"],
                           cwd=trained_repo, env=env, capture_output=True, text=True)
    assert again.returncode == 0 and len(posts) == 2 and len(inbox) == 2  # nothing new, nothing sent
