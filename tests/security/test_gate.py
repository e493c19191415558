"""The approval gate holds against the pull request it checks: one test per hole an attacker tried.

The attacker has write access but owns no model (mallory, or alice acting alone).
Owners of churn-classifier in the base: alice and @acme/ml-leads (bob is a member).
Each test failed on the commit before the trusted gate landed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ci_support import MEMBERS_TOKEN as MEMBERS, MODEL, REGISTRY, ci, merge, modelreg, open_pr, push_commit
from conftest import git

pytestmark = pytest.mark.slow


def edit_registry(repo, old: str, new: str) -> None:
    path = repo / REGISTRY
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))


def commit_pr(repo, fake, number: int, author: str, message: str) -> str:
    """Commit the working tree's edits to the current branch, push it and open PR `number` by `author`."""
    git("commit", "-qam", message, cwd=repo)
    branch = git("rev-parse", "--abbrev-ref", "HEAD", cwd=repo).strip()
    git("push", "-q", "origin", branch, cwd=repo)
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    fake.add_pull(number, head, git("rev-parse", "main", cwd=repo).strip(), author, branch)
    for sha in git("rev-list", "--reverse", f"main..{head}", cwd=repo).split():
        fake.add_commit(number, sha, author, author)
    return head


def test_a_pr_that_patches_the_gate_code_is_still_refused(repo, fake, tmp_path):
    """Hole 1: the check ran the PR's own code. Now it never imports, installs or runs anything of the PR."""
    marker = tmp_path / "pwned"
    head = open_pr(repo, fake, 21, "patch", "promote", MODEL, "v1.0.0", "--to", "production", "--reason", "r",
                   author="mallory")
    evil = (f"open({str(marker)!r}, 'w').write('ran')\n"
            "def evaluate(*args, **kwargs):\n    from types import SimpleNamespace\n"
            "    return SimpleNamespace(ok=True, approvers=('x',), detail='approved')\n")
    for path in ("scripts/modelreg/core/approvals.py", "scripts/modelreg/ci/approvals.py", "conftest.py",
                 "sitecustomize.py"):
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(evil)
    git("add", "-A", cwd=repo)
    head = push_commit(repo, fake, 21, "mallory", "pyproject.toml", "[project]\nname = 'evil'\n")
    result = ci(repo, fake, "check", event=fake.event(21), members_token=MEMBERS)
    assert result.returncode == 1, result.stdout
    assert not marker.exists()
    assert "churn-classifier (churn-classifier: production -> v1.0.0): needs approval" in result.stdout
    assert "the registry (maintainers) (changes " in result.stdout  # the machinery was touched
    assert "pyproject.toml" in result.stdout and "scripts/modelreg/core/approvals.py" in result.stdout
    assert head == fake.pulls[21]["head"]["sha"]


def test_policy_comes_from_the_base_not_from_the_pr(repo, fake):
    """Hole 2: empty require_approval, a friendly owner, or emptied gates in the PR change nothing."""
    git("checkout", "-q", "-b", "policy", cwd=repo)
    edit_registry(repo, "schema: 1\n", "schema: 1\nsettings: {require_approval: []}\n")
    edit_registry(repo, 'owners: [alice, "@acme/ml-leads"]', "owners: [carol]")
    commit_pr(repo, fake, 22, "mallory", "loosen the policy")
    modelreg(repo, "promote", MODEL, "v1.0.0", "--to", "production", "--reason", "r", "--by", "mallory", "--commit")
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    git("push", "-q", "origin", "policy", cwd=repo)
    fake.pulls[22]["head"]["sha"] = head
    fake.add_commit(22, head, "mallory", "mallory")
    fake.review(22, "carol", "APPROVED", head)
    result = ci(repo, fake, "check", event=fake.event(22), members_token=MEMBERS)
    assert result.returncode == 1, result.stdout
    assert "policy: owners of churn-classifier changed" in result.stdout
    assert "policy: settings.require_approval changed" in result.stdout
    assert "carol is not an owner" in result.stdout
    assert "missing: churn-classifier (churn-classifier: production -> v1.0.0; owners of churn-classifier changed" \
        in result.stdout
    fake.review(22, "bob", "APPROVED", head)  # the base's owners decide, and they agree
    result = ci(repo, fake, "check", event=fake.event(22), members_token=MEMBERS)
    assert result.returncode == 0, result.stdout


def test_gates_emptied_in_the_pr_still_apply(repo, fake):
    """Hole 2: production gates emptied plus the promotion of a version that fails the base's gates."""
    git("checkout", "-q", "-b", "strict", cwd=repo)
    edit_registry(repo, "production: {roc_auc: {min: 0.8}", "production: {roc_auc: {min: 0.9999}")
    git("commit", "-qam", "a strict gate, reviewed", cwd=repo)
    git("checkout", "-q", "main", cwd=repo)
    git("merge", "-q", "strict", cwd=repo)
    git("push", "-q", "origin", "main", cwd=repo)
    git("checkout", "-q", "-b", "loose", cwd=repo)
    edit_registry(repo, "production: {roc_auc: {min: 0.9999}, accuracy: {min: 0.8}, beat_production: 0.0}",
                  "production: {}")
    git("commit", "-qam", "no more gates", cwd=repo)
    modelreg(repo, "promote", MODEL, "v1.0.0", "--to", "production", "--reason", "r", "--by", "alice", "--commit")
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    git("push", "-q", "origin", "loose", cwd=repo)
    fake.add_pull(23, head, git("rev-parse", "main", cwd=repo).strip(), "alice", "loose")
    fake.review(23, "bob", "APPROVED", head)
    result = ci(repo, fake, "check", event=fake.event(23), members_token=MEMBERS)
    assert result.returncode == 1
    assert "v1.0.0 fails the production gate: roc_auc" in result.stdout and "min 0.9999" in result.stdout
    assert "policy: gates of churn-classifier changed" in result.stdout


def test_a_format_flip_is_a_policy_change_and_versions_keep_their_format(repo, fake):
    """Hole 3: skops -> pickle passed as 'no changes'; now it is an event needing the owners' approval,
    and every version records the format it was registered with."""
    registry = (repo / REGISTRY).read_text()
    assert "        format: skops\n" in registry  # the version's immutable record (registered in the fixture)
    git("checkout", "-q", "-b", "flip", cwd=repo)
    edit_registry(repo, "    format: skops\n", "    format: pickle\n")
    head = commit_pr(repo, fake, 24, "mallory", "pickle")
    result = ci(repo, fake, "check", event=fake.event(24), members_token=MEMBERS)
    assert result.returncode == 1 and "policy: format of churn-classifier changed: skops -> pickle" in result.stdout
    resolved = json.loads(subprocess.run([sys.executable, "-m", "modelreg", "resolve", f"{MODEL}@v1.0.0", "--json"],
                                         cwd=repo, capture_output=True, text=True).stdout)
    assert resolved["format"] == "skops"  # even with the model's format flipped, the version loads as reviewed
    edit_registry(repo, "        format: skops\n", "        format: pickle\n")
    git("commit", "-qam", "flip the version too", cwd=repo)
    result = ci(repo, fake, "check", "--base", "main", "--head", "HEAD", "--no-remote")
    assert result.returncode == 1 and "format of registered version v1.0.0 changed" in result.stdout + result.stderr
    assert head


def test_a_pr_run_without_a_token_fails_closed(repo, fake):
    """Hole 4: a PR event with no GITHUB_TOKEN skipped the approval gate and exited 0."""
    open_pr(repo, fake, 25, "notoken", "promote", MODEL, "v1.0.0", "--to", "production", "--reason", "r")
    result = ci(repo, fake, "check", event=fake.event(25), token=None)
    assert result.returncode == 1
    assert "fails closed" in result.stderr


def test_an_unreadable_event_fails_closed(repo, fake):
    result = ci(repo, fake, "check", event={"pull_request": "not a mapping"})
    assert result.returncode != 0
    (repo.parent / "event.json").write_text("{not json")
    env_result = subprocess.run([sys.executable, "-m", "modelreg", "ci", "check"], cwd=repo, capture_output=True,
                                text=True, env={"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
                                                "GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request",
                                                "GITHUB_EVENT_PATH": str(repo.parent / "event.json")})
    assert env_result.returncode == 1 and "cannot read the event payload" in env_result.stderr


def test_an_owner_who_pushed_a_commit_cannot_approve(repo, fake):
    """Hole 5: only the PR's opener was excluded; bob pushed to mallory's PR and approved it."""
    open_pr(repo, fake, 26, "helped", "promote", MODEL, "v1.0.0", "--to", "production", "--reason", "r",
            author="mallory")
    head = push_commit(repo, fake, 26, "bob", "models/churn-classifier/notes.md", "tweaked by bob\n")
    fake.review(26, "bob", "APPROVED", head)
    result = ci(repo, fake, "check", event=fake.event(26), members_token=MEMBERS)
    assert result.returncode == 1
    assert "bob wrote part of this change and cannot approve it" in result.stdout


def merge_both(repo, into: str, other: str, message: str) -> None:
    """Merge `other` into the checked-out `into` as git does when the two PRs' hunks lie apart.

    The fixture has one version, so both PRs edit neighbouring lines and git stops with a
    conflict; in a registry of many versions the archive line and the stage lines are far
    apart and the merge is clean. The clean result is written here: the promotion's file
    plus the archive line.
    """
    archived = git("show", f"{into}:{REGISTRY}", cwd=repo)
    line = next(l for l in archived.splitlines() if l.strip().startswith("archived:"))
    promoted = git("show", f"{other}:{REGISTRY}", cwd=repo)
    at = promoted.index("\n    history:") + 1
    subprocess.run(["git", "merge", "--no-commit", "--no-ff", other], cwd=repo, capture_output=True)
    (repo / REGISTRY).write_text(promoted[:at] + line + "\n" + promoted[at:])
    git("add", REGISTRY, cwd=repo)
    git("commit", "-qm", message, cwd=repo)


def test_merged_prs_that_conflict_are_caught_by_the_release(repo, fake):
    """Hole 6: PR A archives v1.0.0, PR B promotes it; each passes alone, both merge."""
    head_a = open_pr(repo, fake, 27, "archive", "archive", MODEL, "v1.0.0", "--reason", "retire")
    head_b = open_pr(repo, fake, 28, "promote", "promote", MODEL, "v1.0.0", "--to", "staging", "--reason", "try")
    assert ci(repo, fake, "check", "--no-remote", event=fake.event(27)).returncode == 0
    assert ci(repo, fake, "check", "--no-remote", event=fake.event(28)).returncode == 0
    merge(repo, fake, 27, "archive")
    git("checkout", "-q", "main", cwd=repo)
    merge_both(repo, "main", "promote", "Merge #28")
    git("push", "-q", "origin", "main", cwd=repo)
    tags_before = git("tag", "-l", cwd=repo)
    result = ci(repo, fake, "release", "--no-copy")
    assert result.returncode == 1
    assert "is archived" in result.stderr and "nothing was tagged" in result.stderr
    assert git("tag", "-l", cwd=repo) == tags_before
    assert head_a and head_b


def test_a_merge_queue_checks_the_combined_state(repo, fake):
    """Hole 6, before merging: the merge_group event checks the queue's combined commit."""
    open_pr(repo, fake, 29, "archive", "archive", MODEL, "v1.0.0", "--reason", "retire")
    merge(repo, fake, 29, "archive")
    head = open_pr(repo, fake, 30, "promote", "promote", MODEL, "v1.0.0", "--to", "staging", "--reason", "try",
                   base="main~1")
    git("checkout", "-q", "-b", "gh-readonly-queue/main/pr-30-" + head[:40], "main", cwd=repo)
    merge_both(repo, "main", "promote", "queue")
    combined = git("rev-parse", "HEAD", cwd=repo).strip()
    event = {"action": "checks_requested", "merge_group": {
        "head_sha": combined, "head_ref": f"refs/heads/gh-readonly-queue/main/pr-30-{head}",
        "base_sha": git("rev-parse", "main", cwd=repo).strip(), "base_ref": "refs/heads/main"}}
    result = ci(repo, fake, "check", "--no-remote", event=event)
    assert result.returncode == 1 and "is archived" in result.stdout + result.stderr


def test_history_entries_are_checked_against_the_pr(repo, fake):
    """Hole 7: by, pr and at of a history entry the PR writes were taken as facts."""
    head = open_pr(repo, fake, 31, "spoof", "promote", MODEL, "v1.0.0", "--to", "staging", "--reason", "r",
                   author="bob")
    fake.pulls[31]["user"] = fake.user("mallory")  # mallory opened it, writing bob as the requester
    result = ci(repo, fake, "check", event=fake.event(31), members_token=MEMBERS)
    assert result.returncode == 1 and "'bob' is not the pull request's author (mallory)" in result.stdout
    git("checkout", "-q", "-b", "spoof2", "main", cwd=repo)
    modelreg(repo, "promote", MODEL, "v1.0.0", "--to", "staging", "--reason", "r", "--by", "mallory")
    edit_registry(repo, "reason: r}", "reason: r, pr: 999}")
    text = (repo / REGISTRY).read_text()
    stamp = text[text.rindex("{at: ") + 5:text.rindex("{at: ") + 25]
    edit_registry(repo, f"{{at: {stamp}", "{at: 2020-01-01T00:00:00Z")
    head = commit_pr(repo, fake, 32, "mallory", "spoofed")
    result = ci(repo, fake, "check", event=fake.event(32), members_token=MEMBERS)
    assert result.returncode == 1
    assert "999 is not this pull request (#32)" in result.stdout
    assert "2020-01-01T00:00:00Z is not between the base commit and now" in result.stdout
    assert head


def test_team_owners_need_a_token_that_can_read_members(repo, fake):
    """Hole 8: the Actions token cannot read team membership; the fake used to answer it anyway."""
    head = open_pr(repo, fake, 33, "team", "promote", MODEL, "v1.0.0", "--to", "production", "--reason", "r",
                   author="mallory")
    fake.review(33, "bob", "APPROVED", head)
    plain = ci(repo, fake, "check", event=fake.event(33))
    assert plain.returncode == 1
    assert "membership of @acme/ml-leads could not be verified" in plain.stdout
    assert "MODELREG_MEMBERS_TOKEN" in plain.stdout
    with_members = ci(repo, fake, "check", event=fake.event(33), members_token=MEMBERS)
    assert with_members.returncode == 0, with_members.stdout


def test_a_pending_team_invitation_is_not_membership(repo, fake):
    fake.pending[("acme", "ml-leads")] = {"dave"}
    head = open_pr(repo, fake, 34, "pending", "promote", MODEL, "v1.0.0", "--to", "production", "--reason", "r",
                   author="mallory")
    fake.review(34, "dave", "APPROVED", head)
    result = ci(repo, fake, "check", event=fake.event(34), members_token=MEMBERS)
    assert result.returncode == 1 and "dave is not an owner" in result.stdout
