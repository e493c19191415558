"""Reading and writing models/registry.yaml: the file, a git revision of it, and atomic writes.

The core sees only text; this module is where the text comes from and goes to.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.document import parse, parse_valid
from ..core.problems import ModelregError, Problem

REGISTRY = Path("models") / "registry.yaml"
SCHEMA_LINE = "# yaml-language-server: $schema=registry.schema.json"


@dataclass
class Loaded:
    """A registry file as read: its text, its data and its node tree (for line numbers)."""

    path: Path
    display: str
    text: str
    data: dict
    root: Any

    @property
    def repo(self) -> Path:
        return repo_of(self.path)

    def relative_to(self, folder: Path | None = None) -> str:
        """The registry's path inside `folder` (default: its repository), as git names it."""
        return self.path.resolve().relative_to(folder or self.repo).as_posix()


def repo_of(registry: Path) -> Path:
    """The repository a registry file belongs to: the folder above models/."""
    return registry.resolve().parent.parent


def find_registry(explicit: str | None = None) -> Path:
    """The registry file: --registry, $MODELREG_REGISTRY, or models/registry.yaml above the cwd."""
    chosen = explicit or os.environ.get("MODELREG_REGISTRY")
    if chosen:
        return Path(chosen)
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / REGISTRY).exists():
            return folder / REGISTRY
        if (folder / ".git").exists():
            break
    return here / REGISTRY


def display_name(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:  # pragma: no cover - other drive on Windows
        return str(path)


def read_text(path: Path) -> str:
    name = display_name(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ModelregError([Problem(name, None, None, "", "registry file not found",
                                     "run modelreg from the repository, pass --registry, or create it with "
                                     "modelreg init")]) from None
    except IsADirectoryError:
        raise ModelregError([Problem(name, None, None, "", "is a directory, not a registry file")]) from None
    except OSError as error:
        raise ModelregError([Problem(name, None, None, "", f"cannot read the registry: {error.strerror}",
                                     "check the file's permissions")]) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise ModelregError([Problem(name, line, None, "", f"not UTF-8 text (byte {error.start})",
                                     "save the file as UTF-8")]) from None


def load(path: Path | None = None, check: bool = True) -> Loaded:
    """The registry file, validated unless check=False (the PR check reports problems itself)."""
    path = path or find_registry()
    name = display_name(path)
    text = read_text(path)
    data, root = (parse_valid if check else parse)(text, name)
    return Loaded(path, name, text, data, root)


def from_text(path: Path, display: str, text: str) -> Loaded:
    """A registry read from somewhere else than its file (a git object), unchecked."""
    data, root = parse(text, display)
    return Loaded(path, display, text, data, root)


def at_revision(repo: Path, revision: str, relative: str) -> dict | None:
    """The registry's data at a git revision (unchecked), or None where the file does not exist there."""
    from . import git

    text = git.show_file(revision, relative, repo)
    return parse(text, f"{revision}:{relative}")[0] if text is not None else None


def write_atomic(path: Path, text: str) -> None:
    """Replace the file in one step: readers see the old bytes or the new, never half."""
    folder = path.parent
    fd, tmp = tempfile.mkstemp(prefix=".registry-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except FileNotFoundError:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
