"""`modelreg ci check`: the pull request gate.

Trust model: the code that runs and the policy it applies come from the base
commit; everything of the pull request (its registry, dvc.lock, .dvc files) is
read from the git objects of its head commit and treated as data. From
events = diff(registry at base, registry at head) it runs the full validation,
DVC's record and the candidates remote for each new version, the base's gates
for each stage change, the history entries against the pull request, and the
approval gate: an owner in the base who did not write the change approved its
head commit. Policy changes, new models, settings and the registry's machinery
need the approval of the base's owners or maintainers. It reports through
annotations, a job summary and one sticky comment, and exits 1 while anything
is missing.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..adapters import git, registry_file
from ..core import approvals, policy
from ..core.compare import compare
from ..core.diff import STAGE_ASSIGNED, STAGE_UNASSIGNED, VERSION_REGISTERED, Event
from ..core.positions import locate
from ..core.problems import ModelregError, Problem, dotted
from ..core.reproduction import Reproduction
from ..core.registry import Registry
from ..core.rules import check_change, check_state
from ..views import report
from ..views.codeowners import MACHINERY, codeowners_text
from ..views.markdown import md, reproduction_table
from . import verify

CLOCK_SKEW = 600  # seconds a history entry's `at` may lie outside [base commit, now]


@dataclass
class PullRequest:
    number: int
    head_sha: str
    base_sha: str
    author: str
    merge_group: bool = False  # a merge queue's combined commit: head_sha is not the PR's own head


@dataclass
class Requirement:
    """Whose approval a part of the change needs, and why."""

    subject: str
    owners: list[str]
    reasons: list[str] = field(default_factory=list)
    bootstrap: bool = False  # a registry with no owners yet: any approval by a non-writer counts


@dataclass
class Checked:
    events: list[Event] = field(default_factory=list)
    policy: list[policy.PolicyChange] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # what still blocks the merge, in words
    approvals: dict[str, approvals.Approval] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    comparisons: list[str] = field(default_factory=list)
    reproductions: list[Reproduction] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.missing

    def verdict(self) -> str:
        count = len(self.events) + len(self.policy)
        if self.ok:
            return "modelreg check passed" + (f": {count} change(s)" if count else ": no changes")
        reasons = [f"{len(self.problems)} problem(s) in the registry"] if self.problems else []
        return "modelreg check failed: " + "; ".join(reasons + self.missing)

    def markdown(self, pr: PullRequest | None) -> str:
        lines = [report.COMMENT_MARKER, "## modelreg check", ""]
        lines.append(("✅ " if self.ok else "❌ ") + md(self.verdict()))
        lines += ["", "### What this pull request changes", ""]
        lines += [f"- {md(e.describe())}" for e in self.events]
        lines += [f"- policy: {md(c.describe())}" for c in self.policy]
        if not self.events and not self.policy:
            lines.append("- nothing in the registry")
        if self.problems:
            lines += ["", "### Problems", ""]
            lines += [f"- `{md(p.file)}:{p.line}` {md(p.path)}: {md(p.message)}" + (f" ({md(p.hint)})" if p.hint else "")
                      for p in self.problems]
        if self.approvals:
            lines += ["", "### Approvals", ""]
            lines += [f"- {'✅' if a.ok else '⏳'} {md(subject)}: {md(a.detail)}" for subject, a in self.approvals.items()]
        if self.missing:
            lines += ["", "### Still missing", ""] + [f"- {md(m)}" for m in self.missing]
        if self.reproductions:
            lines += ["", "### Metrics reproduced by the base's evaluation", ""]
            lines.append(reproduction_table(self.reproductions))
        for section in self.comparisons:
            lines += ["", section]
        if self.notes:
            lines += ["", "### Notes", ""] + [f"- {md(n)}" for n in self.notes]
        if pr:
            lines += ["", f"<sub>checked {pr.head_sha[:12]} against {pr.base_sha[:12]} with the base's code and "
                          "policy</sub>"]
        return "\n".join(lines).rstrip() + "\n"


def _head(root: Path, relative: str, head: str | None) -> registry_file.Loaded:
    """The PR's registry: from the head commit's objects, or (locally, no head given) the working tree."""
    if head is None:
        return registry_file.load(root / relative, check=False)
    text = git.show_file(head, relative, root)
    if text is None:
        raise ModelregError(f"{relative} does not exist in the pull request's head commit {head[:12]}; "
                            "a pull request may not delete the registry")
    return registry_file.from_text(root / relative, relative, text)


def run(root: Path, relative: str, base: str, *, head: str | None = None, pr: PullRequest | None = None,
        github=None, check_remote: bool = True, now: float | None = None,
        reproductions: list[Reproduction] | None = None, require_reproduction: bool = False) -> Checked:
    result = Checked()
    if head is not None and not git.has_commit(head, root):
        raise ModelregError(f"the head commit {head[:12]} is not in this clone; fetch it first "
                            f"(git fetch origin {head}), the check never reads the pull request's working tree")
    old = registry_file.at_revision(root, base, relative)
    loaded = _head(root, relative, head)
    new = loaded.data
    effective = policy.under_base_policy(old, new)  # gates and approval stages as the base has them
    result.problems = _unique(check_state(new, loaded.root, loaded.display) +
                              check_state(effective, loaded.root, loaded.display))
    result.events, step = check_change(old, effective, loaded.root, loaded.display)
    result.problems += step
    result.policy = policy.changes(old, new)
    _one_version_per_model(result, loaded)
    added = [e for e in result.events if e.kind == VERSION_REGISTERED]
    if added and not result.problems:
        result.problems += verify.dvc_records(loaded, root, result.events, revision=head)
        result.problems += verify.sha256_recorded(loaded, {(e.model, e.version) for e in added})
        if check_remote:
            result.problems += verify.remote_presence(loaded, root, "candidates",
                                                      {(e.model, e.version) for e in added})
            if not result.problems:
                result.problems += verify.remote_identity(loaded, root, "candidates",
                                                          {(e.model, e.version) for e in added})
        else:
            result.notes.append("the candidates remote was not checked (--no-remote)")
    recorded = _sha256_recorded(old, new)
    if recorded and check_remote and not result.problems:
        result.problems += verify.remote_identity(loaded, root, "registry", recorded)
    _reproductions(result, old, effective, reproductions, require_reproduction, head)
    touched = git.changed_paths(base, head, root)
    machinery = sorted(p for p in touched if _is_machinery(p))
    result.problems += _codeowners_problems(root, relative, base, head, old, new, machinery)
    requirements = _requirements(result, old, machinery)
    if pr is not None and github is not None:
        _approval_gate(result, requirements, pr, github)
        _history_against_pr(result, pr, loaded, root, base, now if now is not None else time.time())
    elif requirements:
        subjects = ", ".join(r.subject for r in requirements)
        result.notes.append(f"approval gate skipped (no pull request or no GitHub token): {subjects} need approval")
    registry = Registry(new)
    for name in dict.fromkeys(e.model for e in result.events):
        model = registry.model(name)
        if model is None or not model.versions:
            continue
        touched_versions = [e.version for e in result.events if e.model == name and e.version in model.versions]
        previous = [e.previous for e in result.events if e.model == name and e.previous in model.versions]
        names = list(dict.fromkeys(touched_versions + previous)) or None
        result.comparisons.append(report.comparison_section(compare(model, names, registry.stage_names)))
    return result


def _sha256_recorded(old: dict | None, new: dict) -> set[tuple[str, str]]:
    """Versions registered before sha256 existed whose sha256 this change records (modelreg sha256)."""
    found = set()
    for name, model in (new.get("models") or {}).items():
        before = ((old or {}).get("models") or {}).get(name) if isinstance(old, dict) else None
        for version, record in ((model or {}).get("versions") or {}).items() if isinstance(model, dict) else ():
            earlier = ((before or {}).get("versions") or {}).get(version) if isinstance(before, dict) else None
            if isinstance(earlier, dict) and isinstance(record, dict) and not earlier.get("sha256") \
                    and record.get("sha256"):
                found.add((name, version))
    return found


def _unique(problems: list[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def _reproductions(result: Checked, old: dict | None, effective: dict, found: list[Reproduction] | None,
                    required: bool, head: str | None) -> None:
    """Versions the change registers or moves need their metrics reproduced when the base's policy says so."""
    registry = Registry(effective)
    wanted = list(dict.fromkeys((e.model, e.version) for e in result.events
                                if e.kind in (VERSION_REGISTERED, STAGE_ASSIGNED) and e.version))
    by_key = {(r.model, r.version): r for r in found or []}
    for name, version_name in wanted:
        model = registry.model(name)
        version = model.version(version_name) if model else None
        spec = model.raw.get("evaluation") if model else None
        if version is None or not isinstance(spec, dict):
            continue
        if spec.get("skip"):
            result.notes.append(f"{name} {version_name} is not re-evaluated: {spec['skip']}")
            continue
        reproduction = by_key.get((name, version_name))
        if reproduction is not None and (reproduction.md5 != version.md5 or (head and reproduction.head != head)):
            reproduction = None  # a result for other bytes or another commit proves nothing here
        if reproduction is None:
            message = f"{name} {version_name}: no reproduction of its metrics for this commit (the evaluation job)"
            (result.missing if required else result.notes).append(
                message if required else message + " was not given; run modelreg evaluate")
            continue
        result.reproductions.append(reproduction)
        if not reproduction.trusted:
            result.notes.append(f"{reproduction.summary()}; it cannot satisfy a gate on its own")
        elif not reproduction.ok:
            result.missing.append(reproduction.summary())


def _one_version_per_model(result: Checked, loaded: registry_file.Loaded) -> None:
    added = [e for e in result.events if e.kind == VERSION_REGISTERED]
    for model, count in Counter(e.model for e in added).items():
        if count > 1:
            versions = ", ".join(e.version for e in added if e.model == model)
            result.problems.append(Problem(loaded.display, None, None, f"models.{model}.versions",
                                           f"this pull request adds {count} versions of {model} ({versions})",
                                           "register one version per pull request, so each is reviewed"))


def _is_machinery(path: str) -> bool:
    return any(path == m.strip("/") or (m.endswith("/") and path.startswith(m.strip("/") + "/"))
               for m in MACHINERY)


def _codeowners_problems(root: Path, relative: str, base: str, head: str | None, old: dict | None, new: dict,
                         machinery: list[str]) -> list[Problem]:
    """The base's CODEOWNERS must be the one the base registry implies; a PR that repairs it must be current."""
    if old is None:
        return []
    expected = codeowners_text(Registry(old), relative, policy.maintainers(old))
    if git.show_file(base, ".github/CODEOWNERS", root) == expected:
        return []
    ahead = codeowners_text(Registry(new), relative, policy.maintainers(new))
    current = git.show_file(head, ".github/CODEOWNERS", root) if head else \
        ((root / ".github" / "CODEOWNERS").read_text("utf-8") if (root / ".github" / "CODEOWNERS").is_file() else None)
    if ".github/CODEOWNERS" in machinery and current == ahead:
        return []  # this PR brings CODEOWNERS up to date; it needs the maintainers' approval (machinery)
    return [Problem(".github/CODEOWNERS", None, None, "", "the base branch's CODEOWNERS does not match its "
                    "registry, so GitHub may not be asking the right owners for reviews",
                    "run modelreg codeowners on main, merge that with a maintainer's approval, then rerun")]


def _requirements(result: Checked, old: dict | None, machinery: list[str]) -> list[Requirement]:
    """Who must approve what: base owners for stage changes and policy of a model, maintainers for the rest."""
    base = Registry(old or {"models": {}})
    maintainers = policy.maintainers(old)
    needed: dict[str, Requirement] = {}

    def need(subject: str, owners: list[str], reason: str) -> None:
        requirement = needed.setdefault(subject, Requirement(subject, owners, bootstrap=not maintainers))
        requirement.reasons.append(reason)

    for event in result.events:
        if event.kind in (STAGE_ASSIGNED, STAGE_UNASSIGNED) and event.stage in base.approval_stages:
            model = base.model(event.model)
            need(event.model, model.owners if model else maintainers, event.describe())
    for change in result.policy:
        if change.needs_maintainers:
            need("the registry (maintainers)", maintainers, change.describe())
        else:
            model = base.model(change.model)
            need(change.model, model.owners if model else maintainers, change.describe())
    if machinery:
        need("the registry (maintainers)", maintainers, "changes " + ", ".join(machinery[:5]) +
             (f" and {len(machinery) - 5} more" if len(machinery) > 5 else ""))
    return list(needed.values())


def _approval_gate(result: Checked, requirements: list[Requirement], pr: PullRequest, github) -> None:
    if not requirements:
        return
    number_head, author = pr.head_sha, pr.author
    if pr.merge_group:  # approvals were given on the PR's own head commit
        pull = github.pull_request(pr.number)
        number_head, author = pull.head.sha, pull.user.login
    reviews = github.reviews(pr.number)
    writers, unknown = github.pull_request_writers(pr.number)
    writers |= {author}
    if unknown:
        result.missing.append(f"commit(s) {', '.join(sha[:12] for sha in unknown)} have an author GitHub cannot "
                              "link to an account, so approvals cannot be checked against who wrote them: "
                              "commit with an e-mail address of your GitHub account")
    for requirement in requirements:
        if requirement.bootstrap and not requirement.owners:
            approval = _bootstrap_approval(reviews, number_head, writers)
        else:
            approval = approvals.evaluate(requirement.owners, reviews, number_head, writers, github.is_member)
        why = "; ".join(requirement.reasons)
        result.approvals[requirement.subject] = approvals.Approval(approval.ok, approval.approvers,
                                                                   f"{approval.detail} (for: {why})")
        if not approval.ok:
            result.missing.append(f"{requirement.subject} ({why}): {approval.detail}")


def _bootstrap_approval(reviews, head_sha: str, writers: set[str]) -> approvals.Approval:
    """A registry with no owners and no maintainers yet: the first approval by a non-writer counts."""
    excluded = {w.lower() for w in writers}
    found = sorted(r.user for login, r in approvals.standing(reviews).items()
                   if r.state.upper() == "APPROVED" and r.commit_id == head_sha and login not in excluded)
    if found:
        return approvals.Approval(True, tuple(found), f"approved by {', '.join(found)} (the base lists no owners "
                                                      "or maintainers yet: add settings.maintainers)")
    return approvals.Approval(False, (), "needs an approval of the latest commit by someone who did not write it "
                                         "(the base lists no owners or maintainers yet)")


def _history_against_pr(result: Checked, pr: PullRequest, loaded: registry_file.Loaded, root: Path, base: str,
                        now: float) -> None:
    """History entries the PR writes name its author, this PR, and a time between the base commit and now."""
    if pr.merge_group:
        return  # checked on each pull request; the queue's commit combines several
    earliest = git.commit_time(base, root) - CLOCK_SKEW
    for event in result.events:
        entry = event.history
        if event.kind not in (STAGE_ASSIGNED, STAGE_UNASSIGNED) or not isinstance(entry, dict):
            continue
        path = ("models", event.model, "history", event.history_index)

        def problem(key: str, message: str, hint: str) -> Problem:
            line, column = locate(loaded.root, path + (key,)) or (None, None)
            return Problem(loaded.display, line, column, dotted(path + (key,)), message, hint)

        if str(entry.get("by", "")).lstrip("@").lower() != pr.author.lower():
            result.problems.append(problem("by", f"{entry.get('by')!r} is not the pull request's author "
                                           f"({pr.author})", "history entries record who asked: the author of "
                                           "the pull request"))
        if entry.get("pr") is not None and entry.get("pr") != pr.number:
            result.problems.append(problem("pr", f"{entry.get('pr')} is not this pull request (#{pr.number})",
                                           "leave pr out, or name this pull request"))
        moment = _timestamp(str(entry.get("at", "")))
        if moment is None or not earliest <= moment <= now + CLOCK_SKEW:
            result.problems.append(problem("at", f"{entry.get('at')} is not between the base commit and now",
                                           "record the time the change was made (modelreg promote does)"))


def _timestamp(text: str) -> float | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def pull_request_from_event(event: dict, github=None) -> PullRequest:
    """The PR of a pull_request, pull_request_review or merge_group event payload."""
    pull = event.get("pull_request")
    if isinstance(pull, dict):
        return PullRequest(int(pull["number"]), pull["head"]["sha"], pull["base"]["sha"], pull["user"]["login"])
    group = event.get("merge_group")
    if isinstance(group, dict):
        match = re.search(r"/pr-(\d+)-[0-9a-f]+$", str(group.get("head_ref", "")))
        if not match:
            raise ModelregError(f"merge_group event: cannot tell the pull request from head_ref "
                                f"{group.get('head_ref')!r}; expected .../pr-NUMBER-SHA")
        return PullRequest(int(match.group(1)), group["head_sha"], group["base_sha"], "", merge_group=True)
    raise ModelregError("the event has no pull_request or merge_group: run `modelreg ci check` on pull_request, "
                        "pull_request_review or merge_group events, or locally with --base REV")
