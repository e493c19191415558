"""The models being served, swapped atomically, and how a new version gets there.

A request takes the current `Served` object once and uses it to the end, so
requests in flight finish on the model they started with while a swap
publishes the next one by replacing one reference.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from ..core.lookup import Reference, Resolved, resolve
from ..core.problems import ModelregError

log = logging.getLogger("modelreg.serve")


@dataclass(frozen=True)
class Served:
    name: str
    version: str
    md5: str
    stage: str
    metrics: dict
    model: Any = field(repr=False)
    loaded_at: float = field(default_factory=time.time)


@dataclass
class Status:
    last_error: str | None = None
    failed_md5: str | None = None
    last_check: float | None = None
    swaps: int = 0


Loader = Callable[[Resolved], Any]  # fetch + verify + load an artifact


class ModelTable:
    def __init__(self, names: list[str], stage: str, registry_name: str, loader: Loader):
        self.names, self.stage, self.registry_name, self.loader = names, stage, registry_name, loader
        self._served: dict[str, Served] = {}
        self.status: dict[str, Status] = {name: Status() for name in names}
        self._lock = threading.Lock()  # one update at a time; readers never wait for it

    def get(self, name: str) -> Served | None:
        return self._served.get(name)

    def all(self) -> dict[str, Served]:
        return dict(self._served)

    def update(self, text: str) -> list[str]:
        """Bring every model to what the registry text says holds the stage; returns what changed."""
        changed = []
        with self._lock:
            for name in self.names:
                status = self.status[name]
                status.last_check = time.time()
                try:
                    answer = resolve(text, Reference(name, stage=self.stage), self.registry_name)
                except ModelregError as error:
                    status.last_error = f"cannot resolve {name}@{self.stage}: {error.problems[0].message}"
                    log.error(status.last_error)
                    continue
                current = self._served.get(name)
                if current is not None and current.md5 == answer.md5:
                    continue
                try:
                    model = self.loader(answer)
                except Exception as error:  # a bad version must never take the server down
                    status.last_error = f"{name} {answer.version} ({answer.md5}) was not loaded: {error}"
                    status.failed_md5 = answer.md5
                    log.error("%s; still serving %s", status.last_error,
                              current.version if current else "nothing")
                    continue
                metrics = _metrics(text, name, answer.version, self.registry_name)
                self._served = {**self._served, name: Served(name, answer.version, answer.md5, self.stage, metrics,
                                                             model)}
                status.last_error, status.failed_md5 = None, None
                status.swaps += 1
                changed.append(f"{name} {current.version if current else '-'} -> {answer.version}")
                log.info("now serving %s %s (md5 %s)", name, answer.version, answer.md5)
        return changed


def _metrics(text: str, name: str, version: str, registry_name: str) -> dict:
    from ..adapters import registry_file
    from ..core.registry import Registry

    try:
        data, _ = registry_file.parse(text, registry_name)
        found = Registry(data).model(name).version(version)
        return dict(found.metrics) if found else {}
    except (ModelregError, AttributeError):
        return {}


def artifact_loader(root: Path, remote: str) -> Loader:
    """Fetch by md5 through the verified local cache (see flows.artifacts.cached_artifact), then load."""
    def load(answer: Resolved) -> Any:
        from ..flows.artifacts import cached_artifact, load_verified

        return load_verified(cached_artifact(root, answer, remote), answer.format)
    return load


class Follower:
    """Polls a source and updates the table in a background thread."""

    def __init__(self, table: ModelTable, source, interval: float, retry_every: int = 10,
                 text: str | None = None):
        self.table, self.source, self.interval, self.retry_every = table, source, interval, retry_every
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._text = text  # the registry text last applied
        self._polls = 0
        self.last_poll_error: str | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="modelreg-follower", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def poll_once(self) -> list[str]:
        try:
            text = self.source.poll()
            self.last_poll_error = None
        except Exception as error:  # a flaky source must not stop the loop
            self.last_poll_error = f"cannot read {self.source.name}: {error}"
            log.error(self.last_poll_error)
            return []
        self._polls += 1
        if text is None:
            failing = any(status.failed_md5 for status in self.table.status.values())
            if not (failing and self._text is not None and self._polls % self.retry_every == 0):
                return []
            text = self._text  # a failed load may have been a passing fault: try it again now and then
        self._text = text
        return self.table.update(text)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll_once()
