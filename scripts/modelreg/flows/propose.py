"""Propose a registry change as a pull request: branch, commit, push, open, request reviews.

The commit is built with git plumbing from HEAD plus the edited registry, so
the working tree and the current branch are left exactly as they were.
"""

from __future__ import annotations

from ..adapters import git
from ..adapters.registry_file import Loaded
from ..core.compare import compare
from ..core.problems import ModelregError
from ..core.registry import Registry
from ..views.markdown import md
from ..views.report import comparison_section


def body(new: dict, events: list, reason: str) -> str:
    """The pull request's description: what changes, why, the comparison, who can approve."""
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


def propose(loaded: Loaded, new: dict, text: str, events: list, intent) -> list[str]:
    """Make the branch and, with a GitHub token, push it and open the pull request. Returns what was done."""
    from ..adapters import github

    root = git.toplevel(loaded.path.parent)
    relative = loaded.relative_to(root)
    if git.dirty([relative], root):
        raise ModelregError(f"{relative} has uncommitted changes; commit or stash them first, so the pull request "
                            "holds exactly this change")
    base = git.current_branch(root)
    branch = f"modelreg/{intent.action}-{intent.model}-{intent.version}"
    description = body(new, events, intent.reason)
    commit = git.commit_on_branch(root, relative, text, branch, intent.message + "\n")
    said = [f"created branch {branch} at {commit[:12]} (your working tree is unchanged)"]
    settings = github.Settings.from_env(git.origin_repository(root))
    if settings is None:
        notes = git.git_dir(root) / f"modelreg-pr-{intent.action}-{intent.model}-{intent.version}.md"
        notes.write_text(description, "utf-8")
        return said + ["no GitHub token (GITHUB_TOKEN): push the branch and open the pull request yourself:",
                       f"  git push -u origin {branch}",
                       f"  gh pr create --base {base} --head {branch} --title \"{intent.title}\" --body-file {notes}"]
    try:
        git.push([f"refs/heads/{branch}"], "origin", root, settings.token)
    except ModelregError as error:
        raise ModelregError(f"{error.problems[0].message}; the branch is made: push it with "
                            f"git push -u origin {branch}") from None
    registry = Registry(new)
    model = registry.model(intent.model)
    owners = [o for o in (model.owners if model else []) if o.lstrip("@").lower() != intent.requester.lower()]
    url = github.GitHub(settings).open_pull_request(branch, base, intent.title, description, owners)
    return said + [f"opened {url}" + (f", review requested from {', '.join(owners)}" if owners else "")]
