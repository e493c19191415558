"""Who put which version in which stage, when, why, approved by whom, in which pull request.

Offline from the repository alone: the registry's history gives when, who and
why; git gives the main commit that made each change; the release tags'
messages give the pull request and its approvers. The GitHub API is asked only
for changes no tag describes yet (the release has not run), when a token is set.

Which main commit made each history entry: a release tag's message records it
(`registry_commit`, with the entry it describes), so entries the release has
tagged cost nothing; the others come from walking the history after the newest
release, and only when some entry is still unknown then, from the whole history.
"""

from __future__ import annotations

from pathlib import Path

from ..adapters import git
from ..core.registry import HistoryEntry, Registry
from ..core.timeline import StageChange, timeline


def gather(root: Path, relative: str, registry: Registry, names: list[str], github=None,
           existing: dict | None = None) -> list[StageChange]:
    """Wiring: history from the file, commits from tags (or git), approvals from tags (or GitHub).

    existing: the repository's tags, when the caller has read them (git.TagReader, while it parsed the registry).
    """
    existing = git.tags(root) if existing is None else existing
    tag_data = {}
    for tag in existing.values():
        data = tag.data
        if data and isinstance(data.get("history_index"), int):
            tag_data[(data.get("model"), data["history_index"])] = data
    commits = entry_commits(root, relative, registry, names, existing, tag_data)
    changes = timeline(registry, names, commits, tag_data)
    if github is not None:
        for change in changes:
            if change.source == "history" and change.commit:
                pr, approvers = github.pull_request_for_commit(change.commit)
                if pr is not None:
                    change.pr = change.pr or pr
                    change.approvers, change.source = approvers, "github"
    return changes


def describes(data: dict, entry: HistoryEntry) -> bool:
    """Whether a stage tag's message is about this very history entry."""
    version = entry.version if entry.version is not None else entry.previous
    return (data.get("stage"), data.get("version"), data.get("previous"), data.get("at")) == \
        (entry.stage, version, entry.previous, entry.at) and isinstance(data.get("registry_commit"), str)


def entry_commits(root: Path, relative: str, registry: Registry, names: list[str], existing: dict,
                  tag_data: dict, full: bool = False) -> dict[tuple[str, int], str]:
    """(model, history index) -> the main commit whose change added the entry.

    full: ignore the tags and walk the whole history (what the tags' records stand for).
    """
    commits, missing = {}, set()
    for name in names:
        model = registry.model(name)
        for index, entry in enumerate(model.history if model else []):
            data = tag_data.get((name, index))
            if not full and data and describes(data, entry):
                commits[(name, index)] = data["registry_commit"]
            else:
                missing.add((name, index))
    if not missing:
        return commits
    from .history import walk  # only when some entry has no tag that names its commit

    walked = walk(root, relative, None if full else existing, check_tags=False)
    found = _events(walked)
    if walked.since is not None and not missing <= set(found):
        found = _events(walk(root, relative, full=True))
    commits.update({key: found[key] for key in missing if key in found})
    return commits


def _events(walked) -> dict[tuple[str, int], str]:
    found = {}
    for change in walked.changes:
        for event in change.events:
            if event.history_index is not None:
                found[(event.model, event.history_index)] = change.commit
    return found
