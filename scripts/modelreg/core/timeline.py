"""The audit timeline: every stage change, oldest first, and what each stage held at a moment. Pure.

The facts come from the registry's history entries, the main commits that made
them and the release tags' messages; flows/audit.py gathers those.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from .problems import UsageError
from .registry import Registry


@dataclass
class StageChange:
    at: str
    model: str
    stage: str
    version: str | None
    previous: str | None
    requester: str
    reason: str
    pr: int | None = None
    approvers: list[str] = field(default_factory=list)
    commit: str | None = None  # the main commit that made the change
    source: str = "history"  # where pr/approvers came from: history, tag, github, or history alone

    def row(self) -> dict:
        data = asdict(self)
        data["approvers"] = ", ".join(self.approvers)
        return data


def parse_time(text: str) -> datetime:
    """ISO 8601 date or time; a date means the end of that day (UTC)."""
    value = text.strip().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--at {text!r} is not a date or time like 2026-11-26 or 2026-11-26T12:00:00Z") from None
    if len(value) == 10:
        moment = moment.replace(hour=23, minute=59, second=59)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def timeline(registry: Registry, names: list[str], commits: dict, tag_data: dict) -> list[StageChange]:
    """Every stage change of the named models, oldest first. Pure.

    commits: (model, history index) -> main commit; tag_data: (model, history index) -> tag message.
    """
    changes = []
    for name in names:
        model = registry.model(name)
        for index, entry in enumerate(model.history if model else []):
            data = tag_data.get((name, index)) or {}
            change = StageChange(entry.at, name, entry.stage, entry.version, entry.previous, entry.by, entry.reason,
                            entry.pr if entry.pr is not None else data.get("pr"), list(data.get("approvers") or []),
                            commits.get((name, index)), "tag" if data else "history")
            changes.append(change)
    return sorted(changes, key=lambda c: (parse_time(c.at), c.model))


def state_at(changes: list[StageChange], moment: datetime) -> dict[tuple[str, str], StageChange]:
    """(model, stage) -> the change that put the stage where it was at `moment`."""
    state: dict[tuple[str, str], StageChange] = {}
    for change in changes:
        if parse_time(change.at) <= moment:
            state[(change.model, change.stage)] = change
    return {key: change for key, change in state.items() if change.version is not None}
