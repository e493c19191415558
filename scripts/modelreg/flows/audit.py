"""Who put which version in which stage, when, why, approved by whom, in which pull request.

Offline from the repository alone: the registry's history gives when, who and
why; git gives the main commit that made each change; the release tags'
messages give the pull request and its approvers. The GitHub API is asked only
for changes no tag describes yet (the release has not run), when a token is set.
"""

from __future__ import annotations

from pathlib import Path

from ..adapters import git
from ..core.registry import Registry
from ..core.timeline import StageChange, timeline
from .history import registry_history


def gather(root: Path, relative: str, registry: Registry, names: list[str], github=None) -> list[StageChange]:
    """Wiring: history from the file, commits from git, approvals from tags (or GitHub)."""
    commits = {}
    for change in registry_history(root, relative)[0]:
        for event in change.events:
            if event.history_index is not None:
                commits[(event.model, event.history_index)] = change.commit
    tag_data = {}
    for tag in git.tags(root).values():
        data = tag.data
        if data and isinstance(data.get("history_index"), int):
            tag_data[(data.get("model"), data["history_index"])] = data
    changes = timeline(registry, names, commits, tag_data)
    if github is not None:
        for change in changes:
            if change.source == "history" and change.commit:
                pr, approvers = github.pull_request_for_commit(change.commit)
                if pr is not None:
                    change.pr = change.pr or pr
                    change.approvers, change.source = approvers, "github"
    return changes
