"""Problems and the exceptions that carry them.

Every refusal in modelreg is a list of `Problem`s, so that a user sees all of
them at once and each one points at a place in a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .positions import locate

def escaped(value: Any) -> str:
    """One line of terminal text from registry or artifact text: every non-printable character as an
    escape (the layers above print through it: views.terminal.safe is this function)."""
    text = "" if value is None else str(value)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class Problem:
    file: str
    line: int | None
    column: int | None
    path: str
    message: str
    hint: str = ""

    def render(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: " if where else ""
        if self.path:
            text += f"{self.path}: "
        text += self.message
        if self.hint:
            text += f" ({self.hint})"
        return text

    def as_dict(self) -> dict:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "hint": self.hint,
        }


class ModelregError(Exception):
    """A refusal: the command could not do what was asked and changed nothing."""

    exit_code = EXIT_INVALID

    def __init__(self, problems: list[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem("", None, None, "", problems)]
        self.problems = list(problems)
        super().__init__("\n".join(p.render() for p in self.problems))


class Refusal(ModelregError):
    """A refusal found on registry data, before its file is known: the caller places it.

    Pure functions raise it with the field path; the command that loaded the
    file turns it into a Problem with file, line and column (see at()).
    """

    def __init__(self, message: str, path: tuple = (), hint: str = ""):
        self.path = path
        self.message = message
        self.hint = hint
        super().__init__([Problem("", None, None, dotted(path), message, hint)])

    def at(self, file: str, root) -> ModelregError:
        where = locate(root, self.path)
        if self.path and where == locate(root, ()):
            where = None  # no part of the path exists: the top of the file would only mislead
        line, column = where or (None, None)
        return ModelregError([Problem(file, line, column, dotted(self.path), self.message, self.hint)])


def dotted(path: tuple) -> str:
    text = ""
    for step in path:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else str(step))
    return text


class UsageError(ModelregError):
    """The command line itself is wrong (exit 2)."""

    exit_code = EXIT_USAGE


@dataclass
class ProblemList:
    """Collects problems while a check runs over a whole document."""

    file: str
    items: list[Problem] = field(default_factory=list)

    def add(self, line, column, path, message, hint="") -> None:
        self.items.append(Problem(self.file, line, column, path, message, hint))

    def raise_if_any(self) -> None:
        if self.items:
            raise ModelregError(self.items)
