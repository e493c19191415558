"""How many instructions a command's process executes, counted by valgrind (cachegrind, no cache simulation).

On a shared machine the wall and CPU times of one command vary by up to 2x from minute to minute,
which hides a change of a few percent however many runs are taken. The number of instructions the
process executes barely varies (hash seeds fixed), so before/after comparisons of it are exact to
well under a percent. It counts the Python process only, not the git processes it starts, and it
says nothing about time lost waiting (I/O, pipes): it is a figure beside the timings, not instead of them.

    python bench/run.py --instructions ...      python bench/history.py --instructions ...
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

_REFS = re.compile(r"I\s+refs:\s+([\d,]+)")


def available() -> bool:
    return shutil.which("valgrind") is not None


def count(command: list[str], cwd: Path | str | None = None, env: dict | None = None) -> int:
    """Instructions executed by `command` (run once under valgrind, ~50x slower than without)."""
    env = {**(os.environ if env is None else env), "PYTHONHASHSEED": "0"}
    result = subprocess.run(["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                             *command], cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    found = _REFS.search(result.stderr)
    if result.returncode != 0 or found is None:
        raise SystemExit(f"{' '.join(command)} failed under valgrind:\n{result.stderr[-2000:]}")
    return int(found.group(1).replace(",", ""))
