"""Reading and writing models/registry.yaml: the only I/O the core needs."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import yamlread
from .problems import ModelregError, Problem

REGISTRY = Path("models") / "registry.yaml"
SCHEMA_LINE = "# yaml-language-server: $schema=registry.schema.json"


@dataclass
class Loaded:
    path: Path
    display: str
    text: str
    data: dict
    root: Any


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


def parse(text: str, name: str) -> tuple[dict, Any]:
    data, root = yamlread.load(text, name)
    if data is None:
        raise ModelregError([Problem(name, 1, 1, "", "the registry is empty",
                                     "start from 'schema: 1' and 'models: {}'")])
    if not isinstance(data, dict):
        raise ModelregError([Problem(name, 1, 1, "", "the registry must be a mapping with schema: and models:")])
    return data, root


def load(path: Path | None = None, check: bool = True) -> Loaded:
    from .rules import check_state

    path = path or find_registry()
    name = display_name(path)
    text = read_text(path)
    data, root = parse(text, name)
    if check:
        problems = check_state(data, root, name)
        if problems:
            raise ModelregError(problems)
    return Loaded(path, name, text, data, root)


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


def apply(loaded: Loaded, new: dict, dry_run: bool = False) -> tuple[str, list]:
    """Check the step loaded -> new, write it as a minimal edit, and return (text, events).

    Nothing is written unless every rule holds for the new state and the step,
    and the edited text parses back to exactly `new`.
    """
    from . import edit
    from .rules import check_change, check_state

    text = edit.render(loaded.text, loaded.data, new)
    try:
        parsed, _ = parse(text, loaded.display)
    except ModelregError as error:
        raise ModelregError([Problem(loaded.display, None, None, "", "internal error: the edited registry does "
                                     f"not parse ({error.problems[0].message}); nothing was written",
                                     "please report this with the registry file")]) from None
    if parsed != new:
        raise ModelregError([Problem(loaded.display, None, None, "", "internal error: the edit would not "
                                     "produce the intended registry; nothing was written",
                                     "please report this with the registry file")])
    problems = check_state(new, loaded.root, loaded.display)
    events, step_problems = check_change(loaded.data, new, loaded.root, loaded.display)
    if problems or step_problems:
        raise ModelregError(problems + step_problems)
    if not dry_run:
        write_atomic(loaded.path, text)
    return text, events
