"""Markdown for people and workflow commands for Actions. Pure functions of registry data."""

from __future__ import annotations

from ..core.compare import Comparison, flatten
from ..core.problems import Problem
from ..core.registry import Model, Version
from .format import number
from .markdown import comparison_markdown, markdown_table, md

COMMENT_MARKER = "<!-- modelreg:check -->"


def model_card(model: Model, version: Version, pr: int | None = None, approvers: list[str] | None = None,
               repo_url: str | None = None, reproduced: dict | None = None) -> str:
    """Release notes for NAME@vX.Y.Z: everything a reviewer or an auditor asks about the version."""
    lines = [f"## {md(model.name)} {md(version.name)}", ""]
    if model.description:
        lines += [md(model.description), ""]
    stages = model.stages_of(version.name)
    lines.append(f"**Stages:** {md(', '.join(stages)) if stages else 'none'}" +
                 (f"  \n**Archived:** {md(version.archived)}" if version.archived else ""))
    lines += ["", "### Metrics", ""]
    if version.metrics:
        primary = model.metric
        lines.append(markdown_table(["metric", "value"], [[f"{k} (primary)" if k == primary else k, number(v)]
                                                          for k, v in version.metrics.items()]))
    else:
        lines.append("none recorded")
    if isinstance(reproduced, dict) and isinstance(reproduced.get("metrics"), dict):
        trust = "counts" if reproduced.get("trusted") else "informational: loading it runs the author's code"
        lines += ["", f"Reproduced at release by the evaluation on `main` ({md(trust)}):", ""]
        lines.append(markdown_table(["metric", "reproduced"], [[k, number(v)] for k, v in
                                                               reproduced["metrics"].items()]))
    params = flatten(version.params)
    if params:
        lines += ["", "### Params", "", markdown_table(["param", "value"], [[k, number(v)] for k, v in params.items()])]
    lines += ["", "### Lineage", ""]
    commit = version.commit or "unknown"
    if repo_url and version.commit:
        commit = f"[{version.commit[:12]}]({repo_url}/commit/{version.commit})"
    lines.append(f"- artifact: {md(model.path)} md5 `{version.md5}`, {version.size} bytes")
    lines.append(f"- trained from commit {commit} by {md(version.author or 'unknown')} at {md(version.created)}")
    if version.data:
        lines.append(f"- data: {md(version.data.get('path'))} md5 {md(version.data.get('md5'))}")
    if version.notes:
        lines.append(f"- notes: {md(version.notes)}")
    lines += ["", "### Approvals", ""]
    if pr is not None:
        link = f"[#{pr}]({repo_url}/pull/{pr})" if repo_url else f"#{pr}"
        lines.append(f"- registered in pull request {link}" + (f", approved by {md(', '.join(approvers))}"
                                                                if approvers else ""))
    history = [e for e in model.history if e.version == version.name or e.previous == version.name]
    for entry in history:
        verb = "entered" if entry.version == version.name else "left"
        via = f" (#{entry.pr})" if entry.pr else ""
        lines.append(f"- {md(entry.at)}: {verb} {md(entry.stage)}, asked by {md(entry.by)}{via}: {md(entry.reason)}")
    if pr is None and not history:
        lines.append("- none recorded")
    return "\n".join(lines) + "\n"


def annotation(problem: Problem, level: str = "error") -> str:
    """A workflow command that puts the problem on its line in the pull request's diff."""
    def escape(text: str, prop: bool = False) -> str:
        text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        return text.replace(":", "%3A").replace(",", "%2C") if prop else text

    props = [f"file={escape(problem.file, True)}"]
    if problem.line:
        props.append(f"line={problem.line}")
    if problem.column:
        props.append(f"col={problem.column}")
    props.append(f"title={escape(problem.path or 'registry', True)}")
    message = problem.message + (f" ({problem.hint})" if problem.hint else "")
    return f"::{level} {','.join(props)}::{escape(message)}"


def mermaid_text(value: str) -> str:
    """Text for a quoted mermaid label: only characters that cannot end the quote, the block or the fence."""
    return "".join(ch for ch in str(value) if ch.isalnum() or ch in " _.:/-")[:100]


def mermaid_chart(model: Model) -> str:
    """The primary metric across versions, as a mermaid xychart (renders in comments and summaries)."""
    versions = [v for v in model.ordered_versions() if model.metric_value(v) is not None][-20:]
    if not model.metric or len(versions) < 2:
        return ""
    values = [model.metric_value(v) for v in versions]
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or 0.01
    labels = ", ".join(f'"{mermaid_text(v.name)}"' for v in versions)
    metric = mermaid_text(model.metric)
    return "\n".join([
        "```mermaid", "xychart-beta", f'    title "{mermaid_text(model.name)}: {metric} by version"',
        f"    x-axis [{labels}]", f'    y-axis "{metric}" {low - pad:.4f} --> {high + pad:.4f}',
        f"    line [{', '.join(f'{x:.4f}' for x in values)}]", "```"])


def comparison_section(comparison: Comparison) -> str:
    chart = mermaid_chart(comparison.model)
    return comparison_markdown(comparison) + ("\n" + chart + "\n" if chart else "")
