"""`modelreg ci release`: bring tags, artifacts and releases in line with the registry on main.

It never reads github.event.before: GitHub cancels pending runs of a
concurrency group, so every run reconciles "the registry's history on main"
with "what exists" and catches up on everything, in order. Running it twice
changes nothing the second time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..adapters import git
from ..core.diff import STAGE_ASSIGNED, STAGE_UNASSIGNED, VERSION_REGISTERED, VERSION_UNARCHIVED
from ..core.document import parse_valid
from ..core.problems import ModelregError
from ..core.registry import Registry
from ..core import tags
from ..views import report
from ..views.markdown import md
from .history import registry_history


@dataclass
class Released:
    copied: list[str] = field(default_factory=list)
    tags: list[tags.PlannedTag] = field(default_factory=list)
    releases: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    notified: int = 0
    notify_failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = ["## modelreg release", ""]
        if not (self.copied or self.tags or any(v != "unchanged" for v in self.releases.values())):
            lines.append("Nothing to do: tags, artifacts and releases already match the registry.")
        if self.copied:
            lines += ["Artifacts copied from `candidates` to `registry` (md5 verified):", ""]
            lines += [f"- {md(item)}" for item in self.copied] + [""]
        if self.tags:
            lines += ["Tags created:", ""]
            lines += [f"- `{t.name}` on {t.target[:12]}: {md(t.event.describe())}" for t in self.tags] + [""]
        changed = {tag: what for tag, what in self.releases.items() if what != "unchanged"}
        if changed:
            lines += ["Releases:", ""] + [f"- {tag}: {what}" for tag, what in changed.items()] + [""]
        if self.notified or self.notify_failures:
            lines += [f"Notifications: {self.notified} delivered" +
                      (f", {len(self.notify_failures)} failed:" if self.notify_failures else "."), ""]
            lines += [f"- {md(failure)}" for failure in self.notify_failures] + [""]
        if self.warnings:
            lines += ["Warnings:", ""] + [f"- {md(w)}" for w in self.warnings]
        return "\n".join(lines).rstrip() + "\n"


def run(root: Path, relative: str = "models/registry.yaml", *, push_to: str | None = "origin",
        copy_artifacts: bool = True, github=None, token: str | None = None, dry_run: bool = False,
        notify_urls: list[str] | None = None) -> Released:
    result = Released()
    changes, state, result.warnings = registry_history(root, relative)
    if state is None:
        raise ModelregError(f"{relative} has no history on this branch; nothing to release")
    _revalidate(root, relative, notify_urls)
    registry = Registry(state)
    registered = {(m.name, v) for m in registry.models() for v in m.versions}
    plan = tags.plan(changes, git.tags(root), registered)
    result.warnings += plan.warnings
    result.warnings += [f"{e.model} {e.version} was restored from the archive; GTO has no tag for that, its "
                        f"{e.model}@{e.version}! tag stays" for c in changes for e in c.events
                        if e.kind == VERSION_UNARCHIVED]
    new_versions = [t.event for t in plan.tags if t.event.kind == VERSION_REGISTERED]
    if dry_run:
        result.tags = plan.tags
        return result
    if copy_artifacts and new_versions:
        from ..adapters import dvc

        for event in new_versions:  # bytes first: a tag never names a version the store lacks
            version = registry.model(event.model).version(event.version)
            copied = dvc.copy(root, version.md5, dvc.CANDIDATES, dvc.REGISTRY)
            result.copied.append(f"{event.model} {event.version} ({version.md5}) "
                                 f"{'copied' if copied else 'already there'}")
    for planned in plan.tags:
        event = planned.event
        model = registry.model(event.model)
        name = event.version if event.kind != STAGE_UNASSIGNED else event.previous
        version = model.version(name) if model and name else None
        pr, approvers = github.pull_request_for_commit(planned.commit) if github else (None, None)
        planned.message = tags.message(planned, version.metrics if version else None, pr, approvers)
        tagger = (event.history or {}).get("by") if event.kind in (STAGE_ASSIGNED, STAGE_UNASSIGNED) else None
        tagger = tagger or (version.author if version else None) or "modelreg"
        git.create_tag(planned.name, planned.target, json.dumps(planned.message, indent=2, sort_keys=True),
                       planned.date, tagger, root)
    if push_to and plan.tags:
        git.push_tags([t.name for t in plan.tags], push_to, root, token)
    result.tags = plan.tags
    if github:
        result.releases = github.sync_releases(_release_notes(root, registry, github.settings.web_url))
    if notify_urls and plan.tags:
        from ..adapters import notifier
        from ..views.notification import messages

        outgoing = messages(plan.tags, registry, github.settings.web_url if github else None)
        result.notified, result.notify_failures = notifier.send(notify_urls, outgoing)
    return result


def _revalidate(root: Path, relative: str, notify_urls: list[str] | None) -> None:
    """The registry on main must be valid before anything is tagged.

    Two pull requests can each pass alone and merge into an invalid state (one
    archives the version the other promotes): then nothing is tagged or copied,
    the run fails with the problems, and the notification targets hear of it.
    """
    text = git.show_file("HEAD", relative, root)
    try:
        parse_valid(text or "", relative)
    except ModelregError as error:
        if notify_urls:
            from ..adapters import notifier
            from ..views.notification import Message

            body = "\n".join(p.render() for p in error.problems)
            notifier.send(notify_urls, [Message("modelreg: the registry on main is invalid; nothing was released",
                                                body)])
        raise ModelregError([*error.problems, *ModelregError(
            "the registry on main is invalid (two merged pull requests may conflict): nothing was tagged or "
            "copied; fix it in a pull request, then the release runs again").problems]) from None


def _release_notes(root: Path, registry: Registry, web_url: str) -> dict[str, tuple[str, str]]:
    """Title and model card of every tagged version; PR and approvers come from its tag's message."""
    existing = git.tags(root)
    wanted = {}
    for model in registry.models():
        for version in model.ordered_versions():
            tag = existing.get(f"{model.name}@{version.name}")
            if tag is None:
                continue
            data = tag.data or {}
            body = report.model_card(model, version, data.get("pr"), data.get("approvers"), web_url)
            wanted[tag.name] = (f"{model.name} {version.name}", body)
    return wanted
