"""The GitHub Actions runner's environment: the event payload, the job summary, whether we run there."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ..core.problems import ModelregError


def running_in_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def event() -> dict | None:
    """The payload of the event that started the workflow, or None outside Actions."""
    path = os.environ.get("GITHUB_EVENT_PATH")
    if not path:
        return None
    try:
        return json.loads(Path(path).read_text("utf-8"))
    except (OSError, ValueError) as error:
        raise ModelregError(f"{path}: cannot read the event payload: {error}") from None


def add_summary(markdown: str) -> None:
    """Append to the job summary ($GITHUB_STEP_SUMMARY); nothing outside Actions."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with open(target, "a", encoding="utf-8") as handle:
            handle.write(markdown + "\n")


def command(line: str) -> None:
    """Print a workflow command of modelreg's own (an annotation), past the guard on stdout.

    The line must already be escaped as GitHub documents (views/report.annotation does).
    """
    out = sys.stdout
    out.flush()
    raw = getattr(out, "unguarded", out)
    raw.write(line.replace("\n", "%0A") + "\n")
    raw.flush()
