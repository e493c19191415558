"""Driving `modelreg ci` the way GitHub Actions drives it, for the e2e and security suites.

Real git with a bare "origin", real DVC remotes in folders, and the fake GitHub
REST API on 127.0.0.1; the commands run in subprocesses with an event payload
in GITHUB_EVENT_PATH and the GITHUB_* variables set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import git, run
from fake_github import FakeGitHub

MODEL = "churn-classifier"
REGISTRY = "models/registry.yaml"
ACTIONS_TOKEN = "t0ken"  # what the fake treats as a workflow's GITHUB_TOKEN
MEMBERS_TOKEN = "members-t0ken"  # MODELREG_MEMBERS_TOKEN: can read organisation team membership


def ci(root: Path, fake: FakeGitHub | None, *args: str, event: dict | None = None, token: str | None = ACTIONS_TOKEN,
       members_token: str | None = None) -> subprocess.CompletedProcess:
    """`modelreg ci ARGS` as a workflow step runs it: GITHUB_ACTIONS=true, the event payload, the token."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_", "MODELREG_MEMBERS"))}
    summary = root.parent / "summary.md"
    env.update({"PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"],
                "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_ACTIONS": "true"})
    if fake is not None:
        env.update({"GITHUB_REPOSITORY": f"{fake.owner}/{fake.name}", "GITHUB_API_URL": fake.base_url,
                    "MODELREG_GITHUB_THROTTLE": "0", "GITHUB_SERVER_URL": "https://github.com"})
        if token:
            env["GITHUB_TOKEN"] = token
        if members_token:
            env["MODELREG_MEMBERS_TOKEN"] = members_token
    if event is not None:
        path = root.parent / "event.json"
        path.write_text(json.dumps(event))
        env.update({"GITHUB_EVENT_PATH": str(path),
                    "GITHUB_EVENT_NAME": "merge_group" if "merge_group" in event else "pull_request"})
    return subprocess.run([sys.executable, "-m", "modelreg", "ci", *args], cwd=root, env=env, capture_output=True,
                          text=True)


def modelreg(root: Path, *args: str) -> None:
    run([sys.executable, "-m", "modelreg", *args], root)


def open_pr(repo: Path, fake: FakeGitHub, number: int, branch: str, *change: str, author: str = "alice",
            base: str = "main") -> str:
    """A branch with one modelreg change committed by `author`, pushed, and opened as PR `number`."""
    git("checkout", "-q", "-b", branch, base, cwd=repo)
    modelreg(repo, *change, "--by", author, "--commit")
    git("push", "-q", "origin", branch, cwd=repo)
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    fake.add_pull(number, head, git("rev-parse", base, cwd=repo).strip(), author, branch)
    for sha in git("rev-list", "--reverse", f"{base}..{head}", cwd=repo).split():
        fake.add_commit(number, sha, author, author)
    return head


def push_commit(repo: Path, fake: FakeGitHub, number: int, writer: str, path: str, text: str) -> str:
    """`writer` pushes a commit to PR `number`'s branch (as collaborators can); the PR's head moves."""
    (repo / path).parent.mkdir(parents=True, exist_ok=True)
    (repo / path).write_text(text)
    git("add", path, cwd=repo)
    git("commit", "-qm", f"{writer} edits {path}", cwd=repo)
    branch = fake.pulls[number]["head"]["ref"]
    git("push", "-q", "origin", f"HEAD:{branch}", cwd=repo)
    head = git("rev-parse", "HEAD", cwd=repo).strip()
    fake.pulls[number]["head"]["sha"] = head
    fake.add_commit(number, head, writer, writer)
    return head


def merge(repo: Path, fake: FakeGitHub, number: int, branch: str) -> str:
    git("checkout", "-q", "main", cwd=repo)
    git("merge", "-q", "--no-ff", branch, "-m", f"Merge pull request #{number} from {branch}", cwd=repo)
    git("push", "-q", "origin", "main", cwd=repo)
    sha = git("rev-parse", "HEAD", cwd=repo).strip()
    fake.pulls[number].update(merged=True, merged_at="2026-11-26T12:00:00Z", state="closed")
    fake.commit_pulls[sha] = [number]
    return sha


def pr_env(fake: FakeGitHub | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_"))}
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]
    if fake is not None:
        env.update({"GITHUB_TOKEN": "t0ken", "GITHUB_REPOSITORY": f"{fake.owner}/{fake.name}",
                    "GITHUB_API_URL": fake.base_url, "MODELREG_GITHUB_THROTTLE": "0"})
    return env


def tags_on(origin: Path) -> dict[str, str]:
    out = git("for-each-ref", "refs/tags", "--format=%(refname:strip=2) %(taggerdate:unix)", cwd=origin)
    return dict(line.split() for line in out.splitlines())
