"""GitHub failing under the check and the release: retried where safe, else a clear failure; a rerun completes."""

from __future__ import annotations

import json
import os

import pytest

from conftest import git
from ci_support import MEMBERS_TOKEN, MODEL, ci, merge, open_pr, tags_on

pytestmark = pytest.mark.slow
REPO = "/repos/Codertocat/Hello-World"


@pytest.fixture
def approved(repo, fake):
    head = open_pr(repo, fake, 21, "ship", "promote", MODEL, "v1.0.0", "--to", "production", "--reason", "ship")
    fake.review(21, "bob", "APPROVED", head)
    return head


def test_a_passing_500_is_retried(repo, fake, approved):
    fake.failures.append(("GET", rf"{REPO}/pulls/21/reviews", 500))
    result = ci(repo, fake, "check", event=fake.event(21), members_token=MEMBERS_TOKEN)
    assert result.returncode == 0, result.stdout + result.stderr
    assert fake.requests.count(("GET", f"{REPO}/pulls/21/reviews")) == 2


def test_a_lasting_500_fails_clearly_and_a_rerun_passes(repo, fake, approved):
    fake.failures.extend([("GET", rf"{REPO}/pulls/21/reviews", 500)] * 4)
    result = ci(repo, fake, "check", event=fake.event(21), members_token=MEMBERS_TOKEN)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "GitHub API: could not read the reviews of #21" in result.stderr
    assert ci(repo, fake, "check", event=fake.event(21), members_token=MEMBERS_TOKEN).returncode == 0


def test_rate_limited_then_allowed(repo, fake, approved):
    fake.failures.append(("GET", rf"{REPO}/pulls/21/reviews", 403, {"Retry-After": "1"}))
    result = ci(repo, fake, "check", event=fake.event(21), members_token=MEMBERS_TOKEN)
    assert result.returncode == 0, result.stdout + result.stderr


def test_timeouts_during_release_then_a_rerun_completes_without_duplicates(repo, fake, approved, monkeypatch):
    merge(repo, fake, 21, "ship")
    monkeypatch.setitem(os.environ, "MODELREG_GITHUB_TIMEOUT", "1")
    fake.failures.extend([("GET", rf"{REPO}/releases", 200, {}, 2)] * 4)  # every try times out
    first = ci(repo, fake, "release", "--no-copy")
    assert first.returncode == 1 and "Traceback" not in first.stderr
    assert "could not list releases" in first.stderr and "safe to run again" in first.stderr
    tags = tags_on(repo.parent / "origin.git")
    assert set(tags) == {f"{MODEL}@v1.0.0", f"{MODEL}#production#1"}  # pushed before the releases step
    second = ci(repo, fake, "release", "--no-copy")
    assert second.returncode == 0, second.stdout + second.stderr
    assert tags_on(repo.parent / "origin.git") == tags  # nothing tagged twice
    assert list(fake.releases) == [f"{MODEL}@v1.0.0"]
    message = json.loads(git("tag", "-l", "--format=%(contents)", f"{MODEL}#production#1", cwd=repo))
    assert message["approvers"] == ["bob"]
