"""The registry's history on a branch: every commit that changed it, as events, oldest first.

The release plans tags from it, and the audit log maps history entries to the
main commits that made them.
"""

from __future__ import annotations

from pathlib import Path

from ..adapters import git
from ..core.diff import diff
from ..core.document import parse
from ..core.problems import ModelregError
from ..core.tags import RegistryCommit


def registry_history(root: Path, relative: str) -> tuple[list[RegistryCommit], dict | None, list[str]]:
    """Every change main made to the registry, as events per commit, and the latest state."""
    changes, warnings, previous = [], [], None
    for sha, date in git.registry_changes(relative, root):
        text = git.show_file(sha, relative, root)
        if text is None:
            continue
        try:
            state, _ = parse(text, f"{sha[:12]}:{relative}")
        except ModelregError as error:
            warnings.append(f"{sha[:12]}: the registry does not parse there ({error.problems[0].message}); "
                            "its changes are taken from the next commit that parses")
            continue
        events, _ = diff(previous, state)
        changes.append(RegistryCommit(sha, date, tuple(events)))
        previous = state
    return changes, previous, warnings
