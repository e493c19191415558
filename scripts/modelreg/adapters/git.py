"""The git command line, for the few facts modelreg needs from it."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from ..problems import ModelregError


def run(args: list[str], cwd: Path | str | None = None, check: bool = True) -> str:
    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError:
        raise ModelregError("git is not installed or not on PATH") from None
    if check and result.returncode != 0:
        raise ModelregError(f"git {' '.join(args)} failed: {result.stderr.strip() or result.stdout.strip()}")
    return result.stdout


def toplevel(cwd: Path | str | None = None) -> Path:
    return Path(run(["rev-parse", "--show-toplevel"], cwd).strip())


def head_commit(cwd: Path | str | None = None) -> str:
    return run(["rev-parse", "HEAD"], cwd).strip()


def user(cwd: Path | str | None = None) -> str:
    """Who is acting: $MODELREG_USER, $GITHUB_ACTOR, git's user.name, or the login name."""
    for variable in ("MODELREG_USER", "GITHUB_ACTOR"):
        if os.environ.get(variable):
            return os.environ[variable]
    name = run(["config", "user.name"], cwd, check=False).strip()
    if name:
        return name
    import getpass

    return getpass.getuser()


def dirty(paths: list[str], cwd: Path | str | None = None) -> list[str]:
    """Those of `paths` with uncommitted changes (modified, staged or untracked)."""
    if not paths:
        return []
    out = run(["status", "--porcelain", "--untracked-files=all", "--", *paths], cwd)
    return [line[3:] for line in out.splitlines() if line.strip()]


def show_file(rev: str, path: str, cwd: Path | str | None = None) -> str | None:
    result = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=cwd, capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else None


def commit(paths: list[str], message: str, cwd: Path | str | None = None) -> str:
    run(["add", "--", *paths], cwd)
    run(["commit", "-q", "-m", message, "--", *paths], cwd)
    return head_commit(cwd)


def first_commit_containing(text: str, path: str, cwd: Path | str | None = None) -> str | None:
    """The oldest commit (on HEAD's history) whose change to `path` added `text`, if any."""
    out = run(["log", "--reverse", "--format=%H", "-S", text, "--", path], cwd, check=False)
    commits = out.split()
    return commits[0] if commits else None
