"""Printing: JSON for machines, tables for people (rich when installed, plain text otherwise).

Terminal and log lines are a sink of their own: registry text printed here goes
through `safe` (control and bidi characters shown as escapes, so a reason cannot
move the cursor, fake a line or reorder what a reader sees), and every command
runs behind `CommandGuard`, through which no line can start a GitHub Actions
workflow command (`::add-mask::`, `::stop-commands::`, a forged `::error::`).
"""

from __future__ import annotations

import io
import json
import sys
from typing import Any, Sequence

from ..core.problems import escaped

_COMMAND_STARTS = ("::", "##[")  # the runner obeys both at the start of a line (## is the older syntax)
NEUTRALISED = "\u203a"  # the mark put before a line that would otherwise be a workflow command


safe = escaped  # one line of terminal text from registry text: every non-printable character as an escape


class CommandGuard(io.TextIOBase):
    """A text stream that neutralises workflow commands at line starts, line by line.

    modelreg's own annotations are written past it (`unguarded`), by adapters/actions.py.
    """

    def __init__(self, stream):
        self.unguarded = stream
        self._pending = ""
        self._at_start = True

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self.unguarded.isatty()

    @property
    def encoding(self):  # type: ignore[override]
        return getattr(self.unguarded, "encoding", "utf-8")

    def fileno(self) -> int:
        return self.unguarded.fileno()

    def write(self, text: str) -> int:
        self._pending += text
        while "\n" in self._pending:
            line, self._pending = self._pending.split("\n", 1)
            self._emit(line + "\n")
            self._at_start = True
        return len(text)

    def _emit(self, text: str) -> None:
        if self._at_start and text.lstrip(" \t").startswith(_COMMAND_STARTS):
            text = NEUTRALISED + text
        self.unguarded.write(text)

    def flush(self) -> None:
        if self._pending:
            self._emit(self._pending)
            self._at_start = self._pending.endswith("\n")
            self._pending = ""
        self.unguarded.flush()


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> None:
    cells = [[safe(c) for c in row] for row in rows]
    if sys.stdout.isatty():
        try:
            from rich.console import Console
            from rich.table import Table
        except ImportError:
            pass
        else:
            from rich.text import Text

            rich_table = Table(*headers, title=title)
            for row in cells:  # Text, not str: rich reads "[link=...]" in a str as markup
                rich_table.add_row(*(Text(cell) for cell in row))
            Console().print(rich_table)
            return
    if title:
        print(title)
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip())
