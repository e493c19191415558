"""`modelreg ci release`: bring tags, artifacts and releases in line with the registry on main.

It never reads github.event.before: GitHub cancels pending runs of a
concurrency group, so every run reconciles "the registry's history on main"
with "what exists" and catches up on everything, in order. Running it twice
changes nothing the second time.

The history is read from the newest release on (see flows/history.py: the
tags' messages say which main commit they describe, and a walk from there gives
the same tags as a walk of the whole history), so a rerun with nothing to do
costs one `git for-each-ref`, one short `git log` and one parse, whatever the
length of main's history.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..adapters import git
from ..core.diff import STAGE_ASSIGNED, STAGE_UNASSIGNED, VERSION_REGISTERED, VERSION_UNARCHIVED
from ..core.document import parse_valid
from ..core.problems import ModelregError
from ..core.registry import Registry, Version
from ..core import tags
from .history import walk


def md(value) -> str:
    """views.markdown.md, imported only when a summary shows registry text (a rerun with nothing to do shows none)."""
    from ..views.markdown import md as escape

    return escape(value)


@dataclass
class Released:
    copied: list[str] = field(default_factory=list)
    tags: list[tags.PlannedTag] = field(default_factory=list)
    releases: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    notified: int = 0
    notify_failures: list[str] = field(default_factory=list)
    since: str | None = None  # the history was read after this release commit (None: all of it)

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
        notify_urls: list[str] | None = None, full_history: bool = False,
        sign: Callable[[Version], str] | None = None, reproduce: Callable[[str, str], dict] | None = None
        ) -> Released:
    """full_history: walk main's whole first-parent history even when the tags allow starting after the
    newest release (the result is the same; tests compare the two)."""
    result = Released()
    with git.TagReader(root) as reading:  # git reads the tags while the registry is parsed and checked
        try:
            blobs = git.BlobReader(root)
            with blobs:
                head = blobs.read("HEAD", relative)
                state = _revalidate(head[1], relative, notify_urls, reading.result) if head else None
                existing = reading.result()
                walked = walk(root, relative, existing, blobs=blobs, head=(head[0], state) if head else None,
                              full=full_history)
        except (ModelregError, OSError):  # OSError: cat-file gone before it was asked (no repository there)
            reading.result()  # git's refusal to read the tags comes first, as when they were read first
            raise
    if walked.state is None:
        raise ModelregError(f"{relative} has no history on this branch; nothing to release")
    if state is None:
        state = _revalidate(None, relative, notify_urls)
    result.warnings, result.since = walked.warnings, walked.since
    registry = Registry(state)
    registered = {(m.name, v) for m in registry.models() for v in (m.raw.get("versions") or {})}  # m.versions' keys
    plan = tags.plan(walked.changes, existing, registered, _verified_training_commits(root, registry, existing))
    if plan.conflicts:
        raise ModelregError([*(ModelregError(c).problems[0] for c in plan.conflicts), *ModelregError(
            "tags that modelreg did not make claim versions on other commits than the registry's: nothing was "
            "copied, tagged or pushed").problems])
    result.warnings += plan.warnings
    result.warnings += [f"{e.model} {e.version} was restored from the archive; GTO has no tag for that, its "
                        f"{e.model}@{e.version}! tag stays" for c in walked.changes for e in c.events
                        if e.kind == VERSION_UNARCHIVED]
    if dry_run:
        result.tags = plan.tags
        return result
    if copy_artifacts:  # bytes first: a tag never names a version the store lacks
        result.copied = _copy_needed(root, registry, plan.tags)
    signatures = {}  # md5 -> the bundle's sha256, recorded in the version tag's message
    if sign is not None:  # signed after the copy, before the tags: the tag message names the bundle
        for planned in plan.tags:
            if planned.event.kind == VERSION_REGISTERED:
                version = registry.model(planned.event.model).version(planned.event.version)
                signatures[version.md5] = sign(version)
    created = []
    for planned in plan.tags:
        event = planned.event
        model = registry.model(event.model)
        name = event.version if event.kind != STAGE_UNASSIGNED else event.previous
        version = model.version(name) if model and name else None
        pr, approvers = github.pull_request_for_commit(planned.commit) if github else (None, None)
        planned.message = tags.message(planned, version.metrics if version else None, pr, approvers)
        if version is not None and event.kind == VERSION_REGISTERED and version.md5 in signatures:
            planned.message["signature_sha256"] = signatures[version.md5]
        if version is not None and event.kind == VERSION_REGISTERED and reproduce is not None:
            planned.message["reproduced"] = reproduce(event.model, event.version)
        tagger = (event.history or {}).get("by") if event.kind in (STAGE_ASSIGNED, STAGE_UNASSIGNED) else None
        tagger = tagger or (version.author if version else None) or "modelreg"
        created.append((planned.name, planned.target, json.dumps(planned.message, indent=2, sort_keys=True),
                        planned.date, tagger))
    git.create_tags(created, root)
    if push_to and plan.tags:
        git.push_tags([t.name for t in plan.tags], push_to, root, token)
    result.tags = plan.tags
    conflicts = []
    if github:
        now = {**existing, **{name: tags.ExistingTag(name, target, date, text.strip())
                              for name, target, text, date, _ in created}}
        conflicts = _publish_releases(root, registry, now, github, result)
    if notify_urls and plan.tags:
        from ..adapters import notifier
        from ..views.notification import messages

        outgoing = messages(plan.tags, registry, github.settings.web_url if github else None)
        result.notified, result.notify_failures = notifier.send(notify_urls, outgoing)
    if conflicts:  # after the notifications: the tags are out, and people hear of them
        raise ModelregError("; also: ".join(conflicts) + " (tags, release notes and the other assets are done; "
                            "the release fails until this is resolved)")
    return result


def _publish_releases(root: Path, registry: Registry, now: dict[str, tags.ExistingTag], github,
                      result: Released) -> list[str]:
    """One GitHub Release per version tag, its notes the model card; a version whose tag names a signature bundle
    gets the bundle as a release asset (created as a draft, given the asset, then published). Returns the asset
    conflicts, which must fail the run."""
    from .signing import release_assets

    notes = _release_notes(now, registry, github.settings.web_url)
    bundles = {tag: asset for tag, asset in release_assets(root, registry, now).items() if tag in notes}
    if not bundles:
        result.releases = github.sync_releases(notes)
        return []
    result.releases = github.sync_releases(notes, drafts=set(bundles))
    attached = github.attach_assets(bundles)
    for tag, what in attached.done.items():
        before = result.releases.get(tag, "unchanged")
        result.releases[tag] = what if before == "unchanged" else f"{before}; {what}"
    result.warnings += attached.warnings
    return attached.problems


def _verified_training_commits(root: Path, registry: Registry, existing: dict) -> dict[tuple[str, str], str]:
    """For versions that a foreign (GTO) version tag names: the training commit the record states, kept only when
    DVC's record at that commit is the version's md5 — the record's text is the PR author's, the check is ours."""
    found = {}
    for model in registry.models():
        for name in model.raw.get("versions") or {}:  # the records are read only where a foreign tag names one
            tag = existing.get(f"{model.name}@{name}")
            if tag is None or tag.data is not None:
                continue
            version = model.versions[name]
            if not version.commit or tag.target != version.commit:
                continue
            from ..adapters import dvcfiles  # only for a foreign version tag: most runs never need it

            record = dvcfiles.find_out(root, model.path, git.show_file(version.commit, "dvc.lock", root) or "",
                                       git.show_file(version.commit, model.path + ".dvc", root) or "")
            if record is not None and record.md5 == version.md5:
                found[(model.name, version.name)] = version.commit
    return found


def _copy_needed(root: Path, registry: Registry, planned: list[tags.PlannedTag]) -> list[str]:
    """Copy to the `registry` remote every version a stage holds or a new tag names, that it lacks.

    Presence is asked of the remote (dvc.remote_status), never inferred from tags:
    a version GTO registered, or one an older run tagged without copying, is
    copied as well. After copying, the remote is asked again; anything still
    missing or of the wrong size stops the run before a tag is made.
    """
    wanted: dict[tuple[str, str], str] = {}  # (model, version) -> why
    for tag in planned:
        event = tag.event
        if event.kind == VERSION_REGISTERED or event.kind == STAGE_ASSIGNED:
            wanted.setdefault((event.model, event.version), "new")
    for model in registry.models():
        for version in set(model.stages.values()):
            wanted.setdefault((model.name, version), "stage")
    records = {}
    for (name, version_name) in wanted:
        model = registry.model(name)
        version = model.version(version_name) if model else None
        if version is not None:
            records[(name, version_name)] = version
    if not records:
        return []
    from ..adapters import dvc

    objects = {version.md5: version.size for version in records.values()}
    status = dvc.remote_status(root, dvc.REGISTRY, objects)
    copied = []
    for (name, version_name), version in records.items():
        if status.get(version.md5):
            dvc.copy(root, version.md5, dvc.CANDIDATES, dvc.REGISTRY, sha256=version.sha256)
            copied.append(f"{name} {version_name} ({version.md5}) copied")
        elif wanted[(name, version_name)] == "new" and any(
                p.event.kind == VERSION_REGISTERED and (p.event.model, p.event.version) == (name, version_name)
                for p in planned):
            copied.append(f"{name} {version_name} ({version.md5}) already there")
    still = dvc.remote_status(root, dvc.REGISTRY, {md5: size for md5, size in objects.items() if status.get(md5)})
    problems = [f"{name} {v.name} ({v.md5}): {still[v.md5]}" for (name, _), v in records.items() if still.get(v.md5)]
    if problems:
        raise ModelregError([*(ModelregError(p).problems[0] for p in problems), *ModelregError(
            f"DVC remote '{dvc.REGISTRY}' does not hold what the registry needs: nothing was tagged").problems])
    return copied


def _revalidate(text: str | None, relative: str, notify_urls: list[str] | None,
                before_refusing: Callable[[], object] | None = None) -> dict:
    """The registry on main must be valid before anything is tagged; returns its data.

    Two pull requests can each pass alone and merge into an invalid state (one
    archives the version the other promotes): then nothing is tagged or copied,
    the run fails with the problems, and the notification targets hear of it.
    """
    try:
        return parse_valid(text or "", relative)[0]
    except ModelregError as error:
        if before_refusing is not None:  # e.g. git's refusal to read the tags, which comes first
            before_refusing()
        if notify_urls:
            from ..adapters import notifier
            from ..views.notification import Message

            body = "\n".join(p.render() for p in error.problems)
            notifier.send(notify_urls, [Message("modelreg: the registry on main is invalid; nothing was released",
                                                body)])
        raise ModelregError([*error.problems, *ModelregError(
            "the registry on main is invalid (two merged pull requests may conflict): nothing was tagged or "
            "copied; fix it in a pull request, then the release runs again").problems]) from None


def _release_notes(existing: dict[str, tags.ExistingTag], registry: Registry,
                   web_url: str) -> dict[str, tuple[str, str]]:
    """Title and model card of every tagged version; PR and approvers come from its tag's message."""
    from ..views import report  # only when there is a GitHub to publish to

    wanted = {}
    for model in registry.models():
        for version in model.ordered_versions():
            tag = existing.get(f"{model.name}@{version.name}")
            if tag is None:
                continue
            data = tag.data or {}
            body = report.model_card(model, version, data.get("pr"), data.get("approvers"), web_url,
                                     data.get("reproduced"))
            wanted[tag.name] = (f"{model.name} {version.name}", body)
    return wanted
