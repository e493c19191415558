"""The audit trail: timeline and the state of every stage at a past time."""

from __future__ import annotations

import csv
import io
import json

import pytest

from modelreg.core import yamlread
from modelreg.core.timeline import parse_time, state_at, timeline
from modelreg.core.problems import UsageError
from modelreg.core.registry import Registry

from conftest import SAMPLE, git, init_git

REGISTRY = Registry(yamlread.load(SAMPLE, "s")[0])
NAME = "churn-classifier"


def test_timeline_joins_history_commits_and_tag_messages():
    changes = timeline(REGISTRY, REGISTRY.model_names, {(NAME, 1): "c" * 40},
                       {(NAME, 1): {"pr": 12, "approvers": ["bob"]}})
    assert [(c.at, c.stage, c.version) for c in changes] == [
        ("2026-11-01T11:00:00Z", "production", "v1.0.0"), ("2026-11-20T11:00:00Z", "production", "v1.2.0"),
        ("2026-11-26T11:00:00Z", "staging", "v1.3.0")]
    second = changes[1]
    assert (second.pr, second.approvers, second.commit, second.source) == (12, ["bob"], "c" * 40, "tag")
    assert second.requester == "alice" and second.reason.startswith("+0.03 AUC")
    assert changes[0].source == "history" and changes[0].approvers == []


@pytest.mark.parametrize("moment, expected", [
    ("2026-10-31", {}),
    ("2026-11-01", {(NAME, "production"): "v1.0.0"}),  # a date means the end of that day
    ("2026-11-20T10:59:59Z", {(NAME, "production"): "v1.0.0"}),
    ("2026-11-20T11:00:00Z", {(NAME, "production"): "v1.2.0"}),
    ("2026-12-01", {(NAME, "production"): "v1.2.0", (NAME, "staging"): "v1.3.0"}),
])
def test_state_at(moment, expected):
    state = state_at(timeline(REGISTRY, [NAME], {}, {}), parse_time(moment))
    assert {key: change.version for key, change in state.items()} == expected


def test_bad_time_is_a_usage_error():
    with pytest.raises(UsageError):
        parse_time("last tuesday")


def test_audit_command_offline(cli, registry_file):
    root = registry_file.parent.parent
    init_git(root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "sample", cwd=root)
    sha = git("rev-parse", "HEAD", cwd=root).strip()
    code, out, _ = cli("audit", NAME, "--json", cwd=root)
    rows = json.loads(out)
    assert code == 0 and len(rows) == 3 and {row["commit"] for row in rows} == {sha}
    code, out, _ = cli("audit", "--at", "2026-11-21", "--csv", cwd=root)
    table = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [(r["model"], r["stage"], r["version"]) for r in table] == [(NAME, "production", "v1.2.0")]
    code, _, err = cli("audit", "nope", cwd=root)
    assert code == 1 and "no model named 'nope'" in err
