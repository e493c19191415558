"""The registry's web page: one self-contained HTML file (no CDN, no script), readable on a phone.

Pure: registry data and the audit trail in, HTML out. Every value from the
registry is escaped, so a crafted model note or reason cannot inject markup.
"""

from __future__ import annotations

import re
from html import escape as _html_escape
from typing import Iterable

from ..core.timeline import StageChange
from ..core.registry import Model, Registry, Version

STAGE_COLOURS = {"production": "#1a7f37", "staging": "#9a6700"}
CSS = """
:root{color-scheme:light dark;--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#fff;--card:#f6f8fa}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;--bg:#0d1117;--card:#151b23}}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,Segoe UI,sans-serif;color:var(--fg);
background:var(--bg)}main{max-width:980px;margin:0 auto;padding:16px}h1{font-size:1.5rem;margin:.5rem 0}
h2{font-size:1.25rem;margin:2rem 0 .25rem}h3{font-size:1rem;margin:1.25rem 0 .5rem}.muted{color:var(--muted)}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 16px;margin:12px 0}
.stages{display:flex;flex-wrap:wrap;gap:8px;margin:.5rem 0}.stage{border-radius:16px;padding:2px 10px;color:#fff;
font-weight:600}.scroll{overflow-x:auto}table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid var(--line);white-space:nowrap}td.wrap{white-space:normal}
td.wrap>div{min-width:16em;max-width:40em;overflow-wrap:anywhere}
svg{width:100%;height:auto;max-width:720px}svg text{fill:var(--muted);font-size:12px}a{color:#0969da}
"""

_SPECIAL = re.compile("[&<>\"']")


def escape(text: str, quote: bool = True) -> str:
    """html.escape; most values (names, dates, hashes) have nothing to escape and are returned as they are."""
    return _html_escape(text, quote) if _SPECIAL.search(text) else text


def _link(text: str, url: str | None) -> str:
    return f'<a href="{escape(url, quote=True)}">{escape(text)}</a>' if url else escape(text)


def chart(model: Model, changes: list[StageChange], ordered: list[Version] | None = None) -> str:
    """An SVG line of the primary metric across versions; versions that entered a stage are marked.

    ordered: the model's versions in order, when the caller has them (model.ordered_versions())."""
    metric = model.metric
    if not metric:
        return '<p class="muted">No primary metric to chart.</p>'
    pairs = [(v, v.metrics.get(metric)) for v in (model.ordered_versions() if ordered is None else ordered)]
    pairs = [(v, value) for v, value in pairs if value is not None]
    if not pairs:
        return '<p class="muted">No primary metric to chart.</p>'
    versions, values = [v for v, _ in pairs], [value for _, value in pairs]
    low, high = min(values), max(values)
    span = (high - low) or max(abs(high), 1) * 0.1
    low, high = low - span * 0.1, high + span * 0.1
    ticks = [f"{tick:.3f}" for tick in (low, (low + high) / 2, high)]
    # margins wide enough for the labels: the y ticks on the left, half of the first and last
    # version names under their points (text-anchor middle), so no label is cut at the edge
    half_first, half_last = _text_width(versions[0].name) / 2, _text_width(versions[-1].name) / 2
    width, height, top, bottom = 480, 220, 14, 46
    left = max(48, max(_text_width(t) for t in ticks) + 12, half_first + 6)
    right = max(12, half_last + 6)

    def x(i: int) -> float:
        return left + (width - left - right) * (i / max(len(versions) - 1, 1))

    def y(value: float) -> float:
        return top + (height - top - bottom) * (1 - (value - low) / (high - low))

    entered = {}
    for change in changes:
        if change.model == model.name and change.version:
            entered.setdefault(change.version, []).append(change.stage)
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(model.metric)} by version">',
             f'<line x1="{left:.0f}" y1="{height - bottom}" x2="{width - right:.0f}" y2="{height - bottom}" '
             'stroke="currentColor" stroke-opacity=".3"/>']
    for tick, label in zip((low, (low + high) / 2, high), ticks):
        parts.append(f'<text x="{left - 6:.0f}" y="{y(tick) + 4:.1f}" text-anchor="end">{label}</text>')
    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    parts.append(f'<polyline points="{points}" fill="none" stroke="#0969da" stroke-width="2"/>')
    for i, (version, value) in enumerate(zip(versions, values)):
        stages = entered.get(version.name, [])
        colour = STAGE_COLOURS.get(stages[-1], "#8250df") if stages else ("#8c959f" if version.archived else "#0969da")
        radius = 6 if stages else 4
        title = f"{version.name}: {model.metric} {value:g}" + (f"; entered {', '.join(stages)}" if stages else "")
        parts.append(f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="{radius}" fill="{colour}">'
                     f"<title>{escape(title)}</title></circle>")
        if stages:
            parts.append(f'<line x1="{x(i):.1f}" y1="{top}" x2="{x(i):.1f}" y2="{height - bottom}" stroke="{colour}" '
                         'stroke-dasharray="3 3" stroke-opacity=".6"/>')
        parts.append(f'<text x="{x(i):.1f}" y="{height - bottom + 16}" text-anchor="middle">'
                     f"{escape(version.name)}</text>")
    parts.append(f'<text x="{left:.0f}" y="{height - 6}">{escape(model.metric)} ({escape(model.goal)}) · dashed: '
                 "entered a stage</text></svg>")
    return "".join(parts)


def _text_width(text: str, size: float = 12) -> float:
    """A generous estimate of a label's width in the chart's 12px font (digits and letters ~0.62em)."""
    return len(text) * size * 0.62


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(cell for cell in row) + "</tr>" for row in rows)
    return f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def page(registry: Registry, changes: list[StageChange], repo_url: str | None = None, generated: str = "",
           source: str = "") -> str:
    def commit_url(sha: str | None) -> str | None:
        return f"{repo_url}/commit/{sha}" if repo_url and sha else None

    def pr_url(number) -> str | None:
        return f"{repo_url}/pull/{number}" if repo_url and number else None

    by_model: dict[str, list[StageChange]] = {}
    for change in changes:
        by_model.setdefault(change.model, []).append(change)
    sections = []
    for model in registry.models():
        history = by_model.get(model.name, [])
        model_stages = model.stages
        stages = "".join(f'<span class="stage" style="background:{STAGE_COLOURS.get(s, "#8250df")}">'
                         f"{escape(s)}: {escape(v)}</span>" for s, v in model_stages.items()) or \
            '<span class="muted">no stage assigned</span>'
        metrics = sorted({m for v in model.versions.values() for m in v.metrics}, key=lambda m: (m != model.metric, m))
        ordered = model.ordered_versions()
        version_rows = []
        for version in reversed(ordered):
            state = ", ".join(stage for stage, holder in model_stages.items() if holder == version.name) or \
                ("archived" if version.archived else "")
            data = version.data or {}
            version_rows.append([f"<td>{escape(version.name)}</td>", f"<td>{escape(state)}</td>",
                                 *[f"<td>{escape(f'{version.metrics[m]:g}') if m in version.metrics else ''}</td>"
                                   for m in metrics],
                                 f"<td>{escape(version.created)}</td>", f"<td>{escape(version.author or '')}</td>",
                                 f"<td>{_link((version.commit or '')[:12], commit_url(version.commit))}</td>",
                                 f"<td>{escape(str(data.get('path', '')))} {escape(str(data.get('md5', ''))[:8])}</td>",
                                 '<td class="wrap"><div>' + escape(version.archived or version.notes or "") +
                                 "</div></td>"])
        audit_rows = [[f"<td>{escape(c.at)}</td>", f"<td>{escape(c.stage)}</td>", f"<td>{escape(c.version or '-')}</td>",
                       f"<td>{escape(c.previous or '-')}</td>", f"<td>{escape(c.requester)}</td>",
                       f"<td>{escape(', '.join(c.approvers) or '-')}</td>",
                       f"<td>{_link(f'#{c.pr}', pr_url(c.pr)) if c.pr else '-'}</td>",
                       f"<td>{_link((c.commit or '')[:12], commit_url(c.commit))}</td>",
                       f'<td class="wrap"><div>{escape(c.reason)}</div></td>'] for c in reversed(history)]
        sections.append(
            f'<section id="{escape(model.name, quote=True)}"><h2>{escape(model.name)}</h2>'
            f'<p>{escape(model.description)}</p><p class="muted">path {escape(model.path)} · format '
            f'{escape(model.format or "?")} · owners {escape(", ".join(model.owners) or "none")}</p>'
            f'<div class="stages">{stages}</div><div class="card">{chart(model, history, ordered)}</div>'
            f"<h3>Versions</h3>" + _table(["version", "stage", *metrics, "created", "author", "commit", "data",
                                           "notes"], version_rows) +
            "<h3>Audit log</h3>" + (_table(["at", "stage", "version", "previous", "requested by", "approved by",
                                            "pull request", "commit", "reason"], audit_rows)
                                    if audit_rows else '<p class="muted">No stage changes yet.</p>') + "</section>")
    index = "".join(f'<li><a href="#{escape(m.name, quote=True)}">{escape(m.name)}</a> — '
                    f'{escape(", ".join(f"{s} {v}" for s, v in m.stages.items()) or "no stages")}</li>'
                    for m in registry.models())
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<title>Model registry</title>"
            f"<style>{CSS}</style></head><body><main><h1>Model registry</h1>"
            f'<p class="muted">Generated {escape(generated)} from {escape(source)} by modelreg.</p>'
            f"<ul>{index}</ul>{''.join(sections)}</main></body></html>\n")
