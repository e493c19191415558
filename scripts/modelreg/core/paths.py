"""What a model's path may name: its own files, and nothing else of the repository's. Pure.

A model's path is more than a place: `modelreg codeowners` gives its owners that path (the last
matching CODEOWNERS line wins) and `modelreg pull` writes the artifact there. The schema keeps it a
normalised relative path inside the repository; these rules keep it off what belongs to others:
the machinery (maintainers'), the registry itself, git's and DVC's control files, another model's
path, wildcards (a CODEOWNERS line with `*` owns more than the model), characters that do not
show what they are, and names that some file systems fold into `.git` (case, trailing dots,
ignorable characters). A red-team session found each of these accepted (SECURITY.md).
"""

from __future__ import annotations

import unicodedata
from typing import Iterable

# The machinery CODEOWNERS gives the maintainers (views/codeowners.py), the registry, and the files
# that steer git and DVC. A model path may be none of them, hold none and lie inside none.
RESERVED = ("scripts", ".github", ".dvc", "pyproject.toml", "dvc.yaml", "dvc.lock", ".gitignore",
            ".gitattributes", ".gitmodules", ".dvcignore", "models/registry.yaml", "models/registry.schema.json")


def _segments(path: str) -> tuple[str, ...]:
    """The path's segments as file systems may compare them: without case, and without trailing dots
    and spaces (NTFS drops them: `models/a ` is `models/a` there)."""
    return tuple(segment.casefold().rstrip(". ") for segment in path.strip("/").split("/"))


def folds_to_git(segment: str) -> bool:
    """`.GIT`, `.git.` and `.git ` (NTFS drops trailing dots and spaces), `.g<U+200C>it` (HFS+ ignores
    such characters): names some file systems open as `.git`."""
    kept = "".join(ch for ch in segment if unicodedata.category(ch) != "Cf")
    return kept.rstrip(". ").casefold() == ".git"


def _strange(path: str) -> str | None:
    """A character that does not show what it is: a format character (zero-width, bidi, soft hyphen,
    byte order mark), a control, a line or paragraph separator, or a space other than " "."""
    for ch in path:
        category = unicodedata.category(ch)
        if category in ("Cf", "Cc", "Zl", "Zp") or (category == "Zs" and ch != " "):
            return f"U+{ord(ch):04X}"
    return None


def _overlap(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Equal, or one inside the other."""
    shorter = min(len(a), len(b))
    return a[:shorter] == b[:shorter]


def path_problems(paths: Iterable[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(model, message, hint) for each model path (name, path) that names what is not the model's own."""
    problems, seen = [], []
    hint = "give each model a folder of its own, e.g. models/NAME/model.skops"
    for name, path in paths:
        segments = _segments(path)
        strange = _strange(path)
        if strange:
            problems.append((name, f"path {path!r} holds {strange}, which does not show what it is",
                             "write the path in visible characters"))
            continue
        wildcard = next((ch for ch in "*?[]" if ch in path), None)
        if wildcard:
            problems.append((name, f"path {path!r} holds {wildcard!r}, which CODEOWNERS reads as a wildcard",
                             "name the file without * ? [ ]"))
            continue
        if any(folds_to_git(segment) for segment in segments):
            problems.append((name, f"path {path!r} names a folder some file systems open as .git", hint))
            continue
        reserved = next((r for r in RESERVED if _overlap(segments, _segments(r))), None)
        if reserved is not None:
            problems.append((name, f"path {path!r} is, holds or lies inside {reserved}, which is not a model's",
                             hint))
            continue
        other = next((other for other, taken in seen if _overlap(segments, taken)), None)
        if other is not None:
            problems.append((name, f"path {path!r} is, holds or lies inside the path of model {other}", hint))
            continue
        seen.append((name, segments))
    return problems
