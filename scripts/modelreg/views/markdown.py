"""GitHub Markdown: the one escaper for registry text in comments, summaries and release notes,
and the comparison table that the PR comment, the proposal body and `compare --markdown` share."""

from __future__ import annotations

from typing import Any, Sequence

from ..core.compare import Comparison
from ..core.registry import Version
from ..core.reproduction import Reproduction
from .format import number


_MARKDOWN = str.maketrans({c: "\\" + c for c in "\\`*_[]|#~"})


def md(value: Any) -> str:
    """Text from a registry or a reviewer, safe inside GitHub Markdown: no HTML, links, emphasis,
    table breaks or @-mentions can come out of it (a PR author writes the reasons and notes)."""
    text = "" if value is None else str(value)
    if not text.isprintable():  # controls, bidi and zero-width characters: a space each (they could reorder
        text = "".join(ch if ch.isprintable() else " " for ch in text)  # or hide what reviewers read)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").translate(_MARKDOWN)
    # no mention, and no bare link GitHub would autolink (a zero-width space after "@", "://", "www")
    return text.replace("@", "@&#8203;").replace("://", ":&#8203;//").replace("www.", "www&#8203;.")


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(value: Any) -> str:
        return md(value)

    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _metric_cell(comparison: Comparison, version: Version, metric: str) -> str:
    value = version.metrics.get(metric)
    if value is None:
        return "-"
    delta = comparison.delta(version, metric)
    return number(value) + (f" ({delta:+.4f})" if delta is not None else "")


def _signature_cell(comparison: Comparison, version: Version, markdown: bool) -> str:
    """'12' for a version's input width; a change against production is marked (breaking / changed)."""
    from ..core.signature import BREAKING, COMPATIBLE

    signature = comparison.signatures.get(version.name)
    text = str(signature["features"]) if signature else "-"
    change = comparison.signature_changes.get(version.name)
    if change is not None and change.status == BREAKING:
        text += " ⚠️ breaking" if markdown else " (breaking)"
    elif change is not None and change.status == COMPATIBLE:
        text += " (changed, compatible)"
    return text


def rows(comparison: Comparison, markdown: bool = False) -> tuple[list[str], list[list[str]]]:
    yes, no = ("✅", "❌") if markdown else ("yes", "no")
    stages = [s for s in comparison.gate_results[comparison.versions[0].name]] if comparison.versions else []
    inputs = comparison.has_signatures
    headers = ["version", "stage", *comparison.metrics, *(["inputs"] if inputs else []),
               *[f"{s} gate" for s in stages], "best"]
    body = []
    for version in comparison.versions:
        stage = ", ".join(comparison.model.stages_of(version.name)) or ("archived" if version.archived else "")
        gate_cells = [yes if all(c.passed for c in comparison.gate_results[version.name][s]) else no
                      for s in stages]
        body.append([version.name, stage, *[_metric_cell(comparison, version, m) for m in comparison.metrics],
                     *([_signature_cell(comparison, version, markdown)] if inputs else []),
                     *gate_cells, "★" if version.name == comparison.best else ""])
    return headers, body


def signature_lines(comparison: Comparison) -> list[str]:
    """One line per version whose input differs from production's: what changed, breaking or not."""
    from ..core.signature import BREAKING, COMPATIBLE

    baseline = comparison.baseline.name if comparison.baseline else ""
    lines = []
    for version in comparison.versions:
        change = comparison.signature_changes.get(version.name)
        if change is None or change.status not in (BREAKING, COMPATIBLE):
            continue
        label = "breaking" if change.status == BREAKING else "compatible"
        lines.append(f"{version.name} vs {baseline}: {label}: " + "; ".join(change.reasons))
    return lines


def comparison_markdown(comparison: Comparison) -> str:
    model = comparison.model
    lines = [f"### {md(model.name)}: versions compared",
             f"Primary metric: {md(model.metric or 'none')} ({model.goal}); deltas are against "
             f"{comparison.baseline.name + ' (production)' if comparison.baseline else 'nothing (no production)'}.",
             ""]
    headers, body = rows(comparison, markdown=True)
    lines.append(markdown_table(headers, body))
    failed = [(v, c) for v in comparison.versions for checks in comparison.gate_results[v.name].values()
              for c in checks if not c.passed]
    if failed:
        lines += ["", "Gate failures:"] + [f"- {md(v.name)} {md(c.stage)}: {md(c.detail)}" for v, c in failed]
    if comparison.differing_params:
        lines += ["", "Params that differ:", ""]
        names = [v.name for v in comparison.versions]
        lines.append(markdown_table(["param", *names], [[k, *[number(vals.get(n)) for n in names]]
                                                         for k, vals in comparison.differing_params.items()]))
    changes = signature_lines(comparison)
    if changes:
        lines += ["", "Input signature changes:"] + [f"- {md(line)}" for line in changes]
    data = {v: (d or {}).get("md5") for v, d in comparison.data.items()}
    if len(set(data.values())) > 1:
        lines += ["", "Training data: " + ", ".join(f"{md(v)} {md((d or {}).get('path', '?'))} "
                                                    f"{md((data[v] or '?')[:8])}" for v, d in comparison.data.items())]
    return "\n".join(lines) + "\n"


def reproduction_table(reproductions: list[Reproduction]) -> str:
    """Registered against reproduced metrics, one row per metric, ✅/❌, and whether the result counts."""
    rows = []
    for r in reproductions:
        counts = "counts" if r.trusted else f"informational ({r.format}: loading runs the author's code)"
        if r.error:
            rows.append([f"{r.model} {r.version}", "-", "-", "-", "-", f"❌ {r.error}"])
        for m in r.metrics:
            delta = "-" if m.delta is None else f"{m.delta:+.4g}"
            rows.append([f"{r.model} {r.version}", m.name, number(m.registered), number(m.reproduced), delta,
                         ("✅" if m.ok else "❌") + f" (±{m.tolerance:g}, {counts})"])
        for failure in r.gate_failures:
            rows.append([f"{r.model} {r.version}", "gate", "-", "-", "-", f"❌ {failure}"])
    return markdown_table(["version", "metric", "registered", "reproduced", "delta", "result"], rows)
