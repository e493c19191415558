"""The template's workflows: least privilege, pinned actions, no dangerous triggers, valid structure."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
BIN = Path(sys.executable).parent


def test_zizmor_pedantic_is_clean():
    result = subprocess.run([str(BIN / "zizmor"), "--offline", "--strict-collection", "--persona", "pedantic",
                             str(ROOT)], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout


def test_workflows_match_the_github_workflow_schema():
    result = subprocess.run([str(BIN / "check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                             *map(str, WORKFLOWS)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_security_rules(path):
    text = path.read_text()
    data = yaml.safe_load(text)
    triggers = data[True] if True in data else data["on"]  # YAML 1.1 reads "on" as true
    assert "pull_request_target" not in triggers and "workflow_run" not in triggers
    assert data["permissions"] == {"contents": "read"}
    for name, job in data["jobs"].items():
        assert "permissions" in job, f"{name} sets its own permissions"
        for step in job.get("steps", []):
            uses = step.get("uses")
            if uses:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", uses), uses
                if uses.startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False
            assert "${{" not in step.get("run", ""), f"{name}: expression inside run:"


def test_release_runs_in_one_group_without_cancelling():
    data = yaml.safe_load((ROOT / ".github" / "workflows" / "registry-release.yml").read_text())
    assert data["concurrency"] == {"group": "registry-release", "cancel-in-progress": False}
    assert data["jobs"]["deploy"]["needs"] == "release"


def test_check_cancels_superseded_runs_per_pull_request():
    data = yaml.safe_load((ROOT / ".github" / "workflows" / "registry-check.yml").read_text())
    assert data["concurrency"]["cancel-in-progress"] is True
    assert "pull_request.number" in data["concurrency"]["group"]
    assert data["jobs"]["check"]["permissions"] == {"contents": "read", "pull-requests": "write",
                                                    "id-token": "write"}


def test_aws_credentials_only_through_oidc_roles():
    for path in WORKFLOWS:
        text = path.read_text()
        assert "aws-access-key-id" not in text and "AWS_SECRET_ACCESS_KEY" not in text
        for job in yaml.safe_load(text)["jobs"].values():
            for step in job.get("steps", []):
                if step.get("uses", "").startswith("aws-actions/configure-aws-credentials@"):
                    assert set(step["with"]) == {"role-to-assume", "aws-region"}
                    assert step["if"].startswith("${{ vars.AWS_")
