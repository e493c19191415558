"""`modelreg ci check`: the pull request gate.

From events = diff(registry at base, registry at head): the full validation,
DVC's record and the candidates remote for each new version, gates for each
stage change, and the approval gate. It reports through annotations, a job
summary and one sticky comment, and exits 1 while anything is missing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..adapters import registry_file
from ..core import approvals
from ..core.compare import compare
from ..core.diff import STAGE_ASSIGNED, STAGE_UNASSIGNED, VERSION_REGISTERED, Event
from ..core.problems import ModelregError, Problem
from ..core.registry import Registry
from ..core.rules import check_change, check_state
from ..views import report
from ..views.markdown import md
from . import verify


@dataclass
class PullRequest:
    number: int
    head_sha: str
    base_sha: str
    author: str


@dataclass
class Checked:
    events: list[Event] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # what still blocks the merge, in words
    approvals: dict[str, approvals.Approval] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    comparisons: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.missing

    def verdict(self) -> str:
        if self.ok:
            return "modelreg check passed" + (f": {len(self.events)} change(s)" if self.events else ": no changes")
        reasons = [f"{len(self.problems)} problem(s) in the registry"] if self.problems else []
        return "modelreg check failed: " + "; ".join(reasons + self.missing)

    def markdown(self, pr: PullRequest | None) -> str:
        lines = [report.COMMENT_MARKER, "## modelreg check", ""]
        lines.append(("✅ " if self.ok else "❌ ") + self.verdict())
        lines += ["", "### What this pull request changes", ""]
        lines += [f"- {md(e.describe())}" for e in self.events] or ["- nothing in the registry"]
        if self.problems:
            lines += ["", "### Problems", ""]
            lines += [f"- `{p.file}:{p.line}` {md(p.path)}: {md(p.message)}" + (f" ({md(p.hint)})" if p.hint else "")
                      for p in self.problems]
        if self.approvals:
            lines += ["", "### Approvals", ""]
            lines += [f"- {'✅' if a.ok else '⏳'} {md(model)}: {md(a.detail)}" for model, a in self.approvals.items()]
        if self.missing:
            lines += ["", "### Still missing", ""] + [f"- {md(m)}" for m in self.missing]
        for section in self.comparisons:
            lines += ["", section]
        if self.notes:
            lines += ["", "### Notes", ""] + [f"- {md(n)}" for n in self.notes]
        if pr:
            lines += ["", f"<sub>checked {pr.head_sha[:12]} against {pr.base_sha[:12]}</sub>"]
        return "\n".join(lines).rstrip() + "\n"


def run(root: Path, relative: str, base: str, *, pr: PullRequest | None = None, github=None,
        check_remote: bool = True) -> Checked:
    result = Checked()
    loaded = registry_file.load(root / relative, check=False)
    old = registry_file.at_revision(root, base, relative)
    result.problems = check_state(loaded.data, loaded.root, loaded.display)
    result.events, step = check_change(old, loaded.data, loaded.root, loaded.display)
    result.problems += step
    registry = Registry(loaded.data)
    added = [e for e in result.events if e.kind == VERSION_REGISTERED]
    for model, count in Counter(e.model for e in added).items():
        if count > 1:
            versions = ", ".join(e.version for e in added if e.model == model)
            result.problems.append(Problem(loaded.display, None, None, f"models.{model}.versions",
                                           f"this pull request adds {count} versions of {model} ({versions})",
                                           "register one version per pull request, so each is reviewed"))
    if added and not result.problems:
        result.problems += verify.dvc_records(loaded, root, result.events)
        if check_remote:
            result.problems += verify.remote_presence(loaded, root, "candidates",
                                                      {(e.model, e.version) for e in added})
        else:
            result.notes.append("the candidates remote was not checked (--no-remote)")
    _approval_gate(result, registry, pr, github)
    for name in dict.fromkeys(e.model for e in result.events):
        model = registry.model(name)
        if model is None or not model.versions:
            continue
        touched = [e.version for e in result.events if e.model == name and e.version in model.versions]
        previous = [e.previous for e in result.events if e.model == name and e.previous in model.versions]
        names = list(dict.fromkeys(touched + previous)) or None
        result.comparisons.append(report.comparison_section(compare(model, names, registry.stage_names)))
    return result


def _approval_gate(result: Checked, registry: Registry, pr: PullRequest | None, github) -> None:
    gated = sorted({e.model for e in result.events if e.kind in (STAGE_ASSIGNED, STAGE_UNASSIGNED)
                    and e.stage in registry.approval_stages})
    if not gated:
        return
    if pr is None or github is None:
        result.notes.append(f"approval gate skipped (no pull request or no GitHub token): "
                            f"{', '.join(gated)} change {'/'.join(registry.approval_stages)}")
        return
    reviews = github.reviews(pr.number)
    for name in gated:
        model = registry.model(name)
        approval = approvals.evaluate(model.owners if model else [], reviews, pr.head_sha, pr.author,
                                      github.is_member)
        result.approvals[name] = approval
        if not approval.ok:
            result.missing.append(f"{name}: {approval.detail}")


def pull_request_from_event(event: dict) -> PullRequest:
    """The PR of a pull_request or pull_request_review event payload."""
    pull = event.get("pull_request")
    if not isinstance(pull, dict):
        raise ModelregError("the event has no pull_request: run `modelreg ci check` on pull_request or "
                            "pull_request_review events, or locally with --base REV")
    return PullRequest(int(pull["number"]), pull["head"]["sha"], pull["base"]["sha"], pull["user"]["login"])
