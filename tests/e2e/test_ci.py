"""`modelreg ci check` and `ci release`, driven the way Actions drives them.

Real git with a bare "origin", real DVC remotes in folders, and the fake GitHub
REST API on 127.0.0.1; the commands run in subprocesses with an event payload
in GITHUB_EVENT_PATH and the GITHUB_* variables set.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ci_support import MEMBERS_TOKEN, MODEL, REGISTRY, ci, merge, modelreg, open_pr, pr_env, tags_on
from conftest import git, retrain, run

pytestmark = pytest.mark.slow


def test_approval_gate(repo, fake):
    head = open_pr(repo, fake, 1, "promote", "promote", MODEL, "v1.0.0", "--to", "production", "--reason",
                   "first production model")
    result = ci(repo, fake, "check", event=fake.event(1))
    assert result.returncode == 1
    last = result.stdout.strip().splitlines()[-1]
    assert "needs approval of the latest commit from an owner who did not write the change (alice): alice, " \
           "@acme/ml-leads" in last
    comments = fake.pr_comments(1)
    assert len(comments) == 1 and comments[0]["body"].startswith("<!-- modelreg:check -->")
    assert "production -&gt; v1.0.0" in comments[0]["body"] and "```mermaid" not in comments[0]["body"]
    assert "## modelreg check" in (repo.parent / "summary.md").read_text()

    fake.review(1, "carol", "APPROVED", head)  # not an owner
    fake.review(1, "alice", "APPROVED", head)  # the author
    result = ci(repo, fake, "check", event=fake.event(1), members_token=MEMBERS_TOKEN)
    assert result.returncode == 1 and "carol is not an owner" in result.stdout
    assert "alice wrote part of this change and cannot approve it" in result.stdout

    fake.review(1, "bob", "APPROVED", "f" * 40)  # a team member, but on an older commit
    result = ci(repo, fake, "check", event=fake.event(1), members_token=MEMBERS_TOKEN)
    assert result.returncode == 1 and "approvals by bob are for an older commit" in result.stdout

    fake.review(1, "bob", "APPROVED", head)  # @acme/ml-leads member, on the head commit
    result = ci(repo, fake, "check", event=fake.event(1))  # the Actions token cannot see the team
    assert result.returncode == 1 and "membership of @acme/ml-leads could not be verified" in result.stdout
    assert "bob is not an owner" not in result.stdout
    result = ci(repo, fake, "check", event=fake.event(1), members_token=MEMBERS_TOKEN)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip().endswith("modelreg check passed: 1 change(s)")
    comments = fake.pr_comments(1)
    assert len(comments) == 1 and "✅ churn-classifier: approved by bob" in comments[0]["body"]

    fake.review(1, "bob", "COMMENTED", head)  # a later comment does not take the approval back
    assert ci(repo, fake, "check", event=fake.event(1), members_token=MEMBERS_TOKEN).returncode == 0
    fake.review(1, "bob", "CHANGES_REQUESTED", head)  # a later decision replaces the approval
    result = ci(repo, fake, "check", event=fake.event(1), members_token=MEMBERS_TOKEN)
    assert result.returncode == 1


def test_user_owner_approval_and_staging_needs_none(repo, fake):
    open_pr(repo, fake, 2, "stage", "promote", MODEL, "v1.0.0", "--to", "staging", "--reason", "try it",
            author="bob")
    result = ci(repo, fake, "check", event=fake.event(2))
    assert result.returncode == 0, result.stdout  # staging is not in settings.require_approval


def test_failed_gate_is_annotated(repo, fake):
    git("checkout", "-q", "-b", "strict", cwd=repo)
    path = repo / REGISTRY
    path.write_text(path.read_text().replace("production: {roc_auc: {min: 0.8}", "production: {roc_auc: {min: 0.99}"))
    git("commit", "-qam", "stricter gate", cwd=repo)
    modelreg(repo, "promote", MODEL, "v1.0.0", "--to", "staging", "--reason", "ok", "--commit")
    # promote by editing the file, as a person might: the CLI would refuse before writing
    text = path.read_text().replace("    stages:\n      staging: v1.0.0\n",
                                    "    stages:\n      staging: v1.0.0\n      production: v1.0.0\n")
    text = text.rstrip("\n") + ("\n      - {at: 2026-11-26T12:00:00Z, by: alice, stage: production, version: v1.0.0, "
                                "previous: null, reason: ship it}\n")
    path.write_text(text)
    git("commit", "-qam", "ship", cwd=repo)
    fake.add_pull(3, git("rev-parse", "HEAD", cwd=repo).strip(), git("rev-parse", "main", cwd=repo).strip(), "alice")
    result = ci(repo, fake, "check", event=fake.event(3))
    assert result.returncode == 1
    line = text[:text.index("production: v1.0.0")].count("\n") + 1
    assert re.search(rf"^::error file=models/registry.yaml,line={line},col=\d+,"
                     rf"title=models.churn-classifier.stages.production::v1.0.0 fails the production gate: "
                     rf"roc_auc 0.\d+ < min 0.99", result.stdout, re.M), result.stdout


def test_new_version_missing_from_candidates(repo, fake):
    git("checkout", "-q", "-b", "v2", cwd=repo)
    retrain(repo, "n_estimators: 60", "n_estimators: 30")
    modelreg(repo, "register", MODEL, "--no-push", "--commit")
    fake.add_pull(4, git("rev-parse", "HEAD", cwd=repo).strip(), git("rev-parse", "main", cwd=repo).strip(), "alice")
    result = ci(repo, fake, "check", event=fake.event(4))
    assert result.returncode == 1
    assert "missing from DVC remote 'candidates'" in result.stdout
    run([sys.executable, "-m", "dvc", "push", "-q", "-r", "candidates"], repo)
    result = ci(repo, fake, "check", event=fake.event(4))
    assert result.returncode == 0, result.stdout  # a new version alone needs no approval
    assert "churn-classifier: registered v1.1.0" in result.stdout


def test_two_promotions_racing_for_one_stage(repo, fake):
    open_pr(repo, fake, 5, "first", "promote", MODEL, "v1.0.0", "--to", "staging", "--reason", "first")
    open_pr(repo, fake, 6, "second", "promote", MODEL, "v1.0.0", "--to", "staging", "--reason", "second")
    git("checkout", "-q", "second", cwd=repo)
    assert ci(repo, fake, "check", event=fake.event(6)).returncode == 0
    merge(repo, fake, 5, "first")
    git("checkout", "-q", "second", cwd=repo)
    fake.pulls[6]["base"]["sha"] = git("rev-parse", "main", cwd=repo).strip()  # the base moved on
    result = ci(repo, fake, "check", event=fake.event(6, "synchronize"))
    assert result.returncode == 1 and "history entry 1 was edited" in result.stdout


def test_local_check_without_github(repo):
    git("checkout", "-q", "-b", "local", cwd=repo)
    modelreg(repo, "promote", MODEL, "v1.0.0", "--to", "production", "--reason", "r", "--commit")
    result = ci(repo, None, "check", "--base", "main")
    assert result.returncode == 0, result.stdout
    assert "approval gate skipped" in (repo.parent / "summary.md").read_text()
    assert "churn-classifier: production -> v1.0.0" in result.stdout


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_release_tags_copies_releases_and_reruns(repo, fake, tmp_path):
    head = open_pr(repo, fake, 7, "promote", "promote", MODEL, "v1.0.0", "--to", "production", "--reason",
                   "first production model")
    fake.review(7, "bob", "APPROVED", head)
    merge(repo, fake, 7, "promote")
    result = ci(repo, fake, "release")
    assert result.returncode == 0, result.stdout + result.stderr
    origin = repo.parent / "origin.git"
    assert set(tags_on(origin)) == {f"{MODEL}@v1.0.0", f"{MODEL}#production#1"}
    message = json.loads(git("tag", "-l", "--format=%(contents)", f"{MODEL}#production#1", cwd=repo))
    assert message["pr"] == 7 and message["approvers"] == ["bob"] and message["requester"] == "alice"
    assert message["reason"] == "first production model" and message["metrics"]["roc_auc"] > 0.5
    release = fake.releases[f"{MODEL}@v1.0.0"]
    assert "**Stages:** production" in release["body"] and "first production model" in release["body"]
    digest = json.loads(subprocess.run([sys.executable, "-m", "modelreg", "resolve", f"{MODEL}@production",
                                        "--json"], cwd=repo, capture_output=True, text=True).stdout)["md5"]
    stored = repo.parent / "remotes" / "registry" / "files" / "md5" / digest[:2] / digest[2:]
    assert md5(stored) == digest  # copied from candidates, verified

    writes = [r for r in fake.requests if r[0] in ("POST", "PATCH")]
    again = ci(repo, fake, "release")
    assert again.returncode == 0 and "Nothing to do" in again.stdout
    assert [r for r in fake.requests if r[0] in ("POST", "PATCH")] == writes  # no new writes
    assert set(tags_on(origin)) == {f"{MODEL}@v1.0.0", f"{MODEL}#production#1"}

    # read the tags with the real tools, from a fresh clone of origin
    clone = repo.parent / "clone"
    subprocess.run(["git", "clone", "-q", str(origin), str(clone)], check=True)
    shown = subprocess.run([str(Path(sys.executable).parent / "gto"), "show", f"{MODEL}#production", "--version"],
                           cwd=clone, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.strip() == "v1.0.0"
    target = tmp_path / "fetched.skops"
    fetched = subprocess.run([sys.executable, "-m", "dvc", "artifacts", "get", str(clone), MODEL, "--stage",
                              "production", "-o", str(target)], cwd=tmp_path, capture_output=True, text=True)
    assert fetched.returncode == 0, fetched.stderr
    assert md5(target) == digest


def test_release_catches_up_on_two_merges_in_order(repo, fake):
    open_pr(repo, fake, 8, "stage", "promote", MODEL, "v1.0.0", "--to", "staging", "--reason", "stage it")
    merge(repo, fake, 8, "stage")
    open_pr(repo, fake, 9, "ship", "promote", MODEL, "v1.0.0", "--to", "production", "--reason", "ship it")
    merge(repo, fake, 9, "ship")
    # the run for the first merge was cancelled: one run catches up on both
    result = ci(repo, fake, "release", "--no-copy")
    assert result.returncode == 0, result.stdout + result.stderr
    tags = tags_on(repo.parent / "origin.git")
    assert set(tags) == {f"{MODEL}@v1.0.0", f"{MODEL}#staging#1", f"{MODEL}#production#2"}
    assert int(tags[f"{MODEL}@v1.0.0"]) <= int(tags[f"{MODEL}#staging#1"]) <= int(tags[f"{MODEL}#production#2"])
    first = json.loads(git("tag", "-l", "--format=%(contents)", f"{MODEL}#staging#1", cwd=repo))
    assert first["pr"] == 8 and first["reason"] == "stage it"
    for stage in ("staging", "production"):
        shown = subprocess.run([str(Path(sys.executable).parent / "gto"), "show", f"{MODEL}#{stage}", "--version"],
                               cwd=repo, capture_output=True, text=True)
        assert shown.stdout.strip() == "v1.0.0", shown.stderr


def test_hand_pushed_tag_is_reported_and_not_followed(repo, fake):
    open_pr(repo, fake, 11, "ship", "promote", MODEL, "v1.0.0", "--to", "production", "--reason", "ship")
    merge(repo, fake, 11, "ship")
    git("tag", "-a", f"{MODEL}#production#7", "-m", "by hand", "HEAD~1", cwd=repo)
    git("push", "-q", "origin", f"{MODEL}#production#7", cwd=repo)
    result = ci(repo, fake, "release", "--no-copy")
    assert result.returncode == 0
    assert f"tag {MODEL}\\#production\\#7 was not made by modelreg" in result.stdout  # Markdown-escaped
    assert f"{MODEL}#production#8" in tags_on(repo.parent / "origin.git")  # GTO's counter rule continues


def test_promote_with_pr_opens_a_pull_request(repo, fake):
    modelreg(repo, "promote", MODEL, "v1.0.0", "--to", "staging", "--reason", "staged", "--commit")
    before = (repo / REGISTRY).read_bytes()
    result = subprocess.run([sys.executable, "-m", "modelreg", "promote", MODEL, "v1.0.0", "--to", "production",
                             "--reason", "ready for traffic", "--pr", "--by", "tester"], cwd=repo, env=pr_env(fake),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    branch = f"modelreg/promote-{MODEL}-v1.0.0"
    assert (repo / REGISTRY).read_bytes() == before and git("status", "--porcelain", cwd=repo) == ""
    assert git("rev-parse", "--abbrev-ref", "HEAD", cwd=repo).strip() == "main"
    diff = git("diff", "--unified=0", "main", branch, "--", REGISTRY, cwd=repo)
    changed = [l for l in diff.splitlines() if l[:1] in "+-" and not l.startswith(("+++", "---"))]
    assert len(changed) == 2 and changed[0] == "+      production: v1.0.0"  # the stage line and
    assert changed[1].startswith("+      - {at: ") and "reason: ready for traffic}" in changed[1]  # one entry
    assert branch in git("ls-remote", "--heads", "origin", cwd=repo)
    pull = fake.pulls[max(fake.pulls)]
    assert pull["title"] == f"Promote {MODEL} v1.0.0 to production" and pull["head"]["ref"] == branch
    assert "churn-classifier: production -&gt; v1.0.0" in pull["body"] and "ready for traffic" in pull["body"]
    assert "| v1.0.0 |" in pull["body"]  # the comparison
    assert [u["login"] for u in pull["requested_reviewers"]] == ["alice"]
    assert [t["slug"] for t in pull["requested_teams"]] == ["ml-leads"]
    again = subprocess.run([sys.executable, "-m", "modelreg", "promote", MODEL, "v1.0.0", "--to", "production",
                            "--reason", "again", "--pr"], cwd=repo, env=pr_env(fake), capture_output=True, text=True)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_pr_without_a_token_prints_what_to_run(repo):
    result = subprocess.run([sys.executable, "-m", "modelreg", "archive", MODEL, "v1.0.0", "--reason", "old",
                             "--pr"], cwd=repo, env=pr_env(None), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    branch = f"modelreg/archive-{MODEL}-v1.0.0"
    assert f"git push -u origin {branch}" in result.stdout and "gh pr create" in result.stdout
    assert git("rev-parse", "--verify", branch, cwd=repo).strip()
    assert branch not in git("ls-remote", "--heads", "origin", cwd=repo)


def test_pr_refuses_uncommitted_registry_edits(repo):
    path = repo / REGISTRY
    path.write_text(path.read_text() + "# local note\n")
    result = subprocess.run([sys.executable, "-m", "modelreg", "promote", MODEL, "v1.0.0", "--to", "staging",
                             "--reason", "r", "--pr"], cwd=repo, env=pr_env(None), capture_output=True, text=True)
    assert result.returncode == 1 and "uncommitted changes" in result.stderr
    assert path.read_text().endswith("# local note\n")


def test_release_interrupted_before_releases_is_completed_by_a_rerun(repo, fake):
    head = open_pr(repo, fake, 12, "ship", "promote", MODEL, "v1.0.0", "--to", "production", "--reason", "ship")
    fake.review(12, "bob", "APPROVED", head)
    merge(repo, fake, 12, "ship")
    # the release step dies after the tags are pushed (PyGithub retries a 500 three times)
    fake.failures.extend([("POST", r"/repos/Codertocat/Hello-World/releases", 500)] * 4)
    first = ci(repo, fake, "release", "--no-copy")
    assert first.returncode == 1 and "could not create release churn-classifier@v1.0.0" in first.stderr
    assert set(tags_on(repo.parent / "origin.git")) == {f"{MODEL}@v1.0.0", f"{MODEL}#production#1"}
    assert fake.releases == {}
    # a fresh checkout, as the next run has: tags come from origin
    clone = repo.parent / "rerun"
    subprocess.run(["git", "clone", "-q", str(repo.parent / "origin.git"), str(clone)], check=True)
    second = ci(clone, fake, "release", "--no-copy")
    assert second.returncode == 0, second.stdout + second.stderr
    assert set(tags_on(repo.parent / "origin.git")) == {f"{MODEL}@v1.0.0", f"{MODEL}#production#1"}
    body = fake.releases[f"{MODEL}@v1.0.0"]["body"]
    assert "**Stages:** production" in body and "entered production, asked by alice: ship" in body


def test_audit_after_release_names_pr_and_approvers(repo, fake):
    head = open_pr(repo, fake, 13, "ship", "promote", MODEL, "v1.0.0", "--to", "production", "--reason", "ship")
    fake.review(13, "bob", "APPROVED", head)
    merged = merge(repo, fake, 13, "ship")
    assert ci(repo, fake, "release", "--no-copy").returncode == 0
    out = subprocess.run([sys.executable, "-m", "modelreg", "audit", MODEL, "--json"], cwd=repo,
                         capture_output=True, text=True).stdout
    (row,) = json.loads(out)
    assert (row["pr"], row["approvers"], row["commit"], row["requester"]) == (13, "bob", merged, "alice")


def test_reasons_cannot_inject_into_the_comment_or_the_tag_message(repo, fake):
    evil = "<img src=x onerror=alert(1)> [win](http://evil.example) @everyone | **bold** `; rm -rf /` $(id)"
    head = open_pr(repo, fake, 14, "evil", "promote", MODEL, "v1.0.0", "--to", "production", "--reason", evil)
    fake.review(14, "bob", "APPROVED", head)
    result = ci(repo, fake, "check", event=fake.event(14), members_token=MEMBERS_TOKEN)
    body = fake.pr_comments(14)[0]["body"]
    assert result.returncode == 0 and "<img" not in body and not re.search(r"(?<!\\)\]\(http://evil", body)
    assert "@everyone" not in body
    merge(repo, fake, 14, "evil")
    assert ci(repo, fake, "release", "--no-copy").returncode == 0
    message = json.loads(git("tag", "-l", "--format=%(contents)", f"{MODEL}#production#1", cwd=repo))
    assert message["reason"] == evil  # JSON keeps it exactly, as data
    notes = fake.releases[f"{MODEL}@v1.0.0"]["body"]
    assert "<img" not in notes and not re.search(r"(?<!\\)\]\(http://evil", notes) and "@everyone" not in notes
    assert "&lt;img src=x onerror=alert(1)&gt;" in notes and "\\[win\\]" in notes  # shown, as text
