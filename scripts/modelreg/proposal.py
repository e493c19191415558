"""Propose a registry change as a pull request: branch, commit, push, open, request reviews.

The commit is built with git plumbing from HEAD plus the edited registry, so
the working tree and the current branch are left exactly as they were.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from . import store
from .adapters import git
from .compare import compare
from .ci.report import comparison_section
from .problems import ModelregError
from .registry import Registry
from .render import md


def _commit_on_branch(root: Path, relative: str, text: str, branch: str, message: str) -> str:
    if git.run(["rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"], root, check=False).strip():
        raise ModelregError(f"branch {branch} already exists; delete it or merge its pull request first")
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], cwd=root, input=text, text=True,
                          capture_output=True, check=True).stdout.strip()
    index = root / ".git" / f"modelreg-index-{os.getpid()}"
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    try:
        subprocess.run(["git", "read-tree", "HEAD"], cwd=root, env=env, check=True, capture_output=True)
        subprocess.run(["git", "update-index", "--cacheinfo", f"100644,{blob},{relative}"], cwd=root, env=env,
                       check=True, capture_output=True)
        tree = subprocess.run(["git", "write-tree"], cwd=root, env=env, check=True, capture_output=True,
                              text=True).stdout.strip()
    finally:
        index.unlink(missing_ok=True)
    commit = subprocess.run(["git", "commit-tree", tree, "-p", "HEAD", "-F", "-"], cwd=root, input=message,
                            text=True, capture_output=True, check=True).stdout.strip()
    git.run(["update-ref", f"refs/heads/{branch}", commit, ""], root)
    return commit


def _repository_from_origin(root: Path) -> str | None:
    url = git.run(["remote", "get-url", "origin"], root, check=False).strip()
    match = re.search(r"github\.com[:/]([^/]+/[^/]+?)(?:\.git)?$", url)
    return match.group(1) if match else None


def body(loaded: store.Loaded, new: dict, events: list, reason: str) -> str:
    registry = Registry(new)
    lines = ["This pull request was opened by `modelreg`. It changes `models/registry.yaml`:", ""]
    lines += [f"- {md(event.describe())}" for event in events]
    lines += ["", f"**Reason:** {md(reason)}", ""]
    for name in dict.fromkeys(event.model for event in events):
        model = registry.model(name)
        names = list(dict.fromkeys(v for e in events if e.model == name for v in (e.version, e.previous)
                                   if v and v in model.versions))
        lines.append(comparison_section(compare(model, names or None, registry.stage_names)))
    owners = sorted({o for e in events for o in (registry.model(e.model).owners if registry.model(e.model) else [])})
    if owners:
        lines += ["", "Owners who can approve: " + ", ".join(f"`{owner}`" for owner in owners)]
    return "\n".join(lines) + "\n"


def propose(loaded: store.Loaded, new: dict, text: str, events: list, *, action: str, model: str, version: str,
            title: str, reason: str, requester: str) -> int:
    root = git.toplevel(loaded.path.parent)
    relative = str(loaded.path.resolve().relative_to(root))
    if git.dirty([relative], root):
        raise ModelregError(f"{relative} has uncommitted changes; commit or stash them first, so the pull request "
                            "holds exactly this change")
    base = git.run(["rev-parse", "--abbrev-ref", "HEAD"], root).strip()
    branch = f"modelreg/{action}-{model}-{version}"
    description = body(loaded, new, events, reason)
    commit = _commit_on_branch(root, relative, text, branch, f"{title}\n\n{reason}\n")
    print(f"created branch {branch} at {commit[:12]} (your working tree is unchanged)")
    token = os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN")
    repository = os.environ.get("GITHUB_REPOSITORY") or _repository_from_origin(root)
    if not token or not repository:
        notes = root / ".git" / f"modelreg-pr-{action}-{model}-{version}.md"
        notes.write_text(description, "utf-8")
        print("no GitHub token (GITHUB_TOKEN): push the branch and open the pull request yourself:")
        print(f"  git push -u origin {branch}")
        print(f"  gh pr create --base {base} --head {branch} --title \"{title}\" --body-file {notes}")
        return 0
    try:
        git.push([f"refs/heads/{branch}"], "origin", root, token)
    except ModelregError as error:
        raise ModelregError(f"{error.problems[0].message}; the branch is made: push it with "
                            f"git push -u origin {branch}") from None
    from .adapters.github import GitHub, Settings

    settings = Settings(repository, token, os.environ.get("GITHUB_API_URL") or "https://api.github.com",
                        os.environ.get("MODELREG_GITHUB_THROTTLE", "1") != "0")
    registry = Registry(new)
    owners = [o for o in (registry.model(model).owners if registry.model(model) else [])
              if o.lstrip("@").lower() != requester.lower()]
    url = GitHub(settings).open_pull_request(branch, base, title, description, owners)
    print(f"opened {url}" + (f", review requested from {', '.join(owners)}" if owners else ""))
    return 0
