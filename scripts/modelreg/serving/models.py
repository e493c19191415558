"""The models being served, swapped atomically, and how a new version gets there.

A request takes the current `Served` object once and uses it to the end, so
requests in flight finish on the model they started with while a swap
publishes the next one by replacing one reference.

The registry text is written by pull-request authors, so nothing in it may stop
the follower: any exception while reading, resolving or loading (a RecursionError
from a deeply nested value as much as a refused version) is caught, kept on the
model's `Status` or the follower for /healthz and /metrics, logged, and tried
again; the old version keeps serving meanwhile.
"""

from __future__ import annotations

import dataclasses
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
    answerer: Any = field(default=None, repr=False, compare=False)  # how answers are made (answering.py)
    signature: dict | None = field(default=None, compare=False)  # the version's input signature, if recorded
    resolved: Resolved | None = field(default=None, repr=False, compare=False)  # what was fetched (for workers)

    def __post_init__(self) -> None:
        if self.answerer is None:
            from .answering import Answerer

            object.__setattr__(self, "answerer", Answerer(self.model))


@dataclass
class Status:
    last_error: str | None = None
    failed_md5: str | None = None  # set when the version resolved but could not be loaded
    last_check: float | None = None
    swaps: int = 0
    errors: int = 0  # updates of this model that failed, since start


def describe(error: BaseException, limit: int = 1000) -> str:
    """One line of text for any exception, safe to log and to show: control characters escaped, bounded."""
    try:
        if isinstance(error, ModelregError) and error.problems:
            text = "; ".join(problem.render() for problem in error.problems[:3])
        else:
            detail = str(error)
            text = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    except Exception:  # an exception whose text cannot be made
        text = type(error).__name__
    cut = len(text) > limit
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit])
    return text[:limit] + "..." if cut or len(text) > limit else text


Loader = Callable[[Resolved], Any]  # fetch + verify + load an artifact


class Checked:
    """What a table that does not keep its models holds instead of an Answerer: how answers will be made."""

    def __init__(self, mode: str):
        self.mode = mode


class ModelTable:
    """The served models. After `drop_models()` (the supervisor of `serve --workers N`, which answers no
    request, once its workers are forked) a version is still pulled, verified, loaded and checked, then only
    its description is kept."""

    def __init__(self, names: list[str], stage: str, registry_name: str, loader: Loader,
                 samples: Callable[[Resolved], list | None] | None = None, two_pass: bool = False,
                 direct_trees: bool = True):
        self.names, self.stage, self.registry_name, self.loader = names, stage, registry_name, loader
        self.samples = samples  # the sample rows of a version, to check its one-pass answer at load time
        self.two_pass = two_pass  # always call predict and predict_proba (for comparison)
        self.direct_trees = direct_trees  # a forest's trees may be called directly once checked (serving/trees.py)
        self.keep_models = True
        self._served: dict[str, Served] = {}
        self.status: dict[str, Status] = {name: Status() for name in names}
        self._lock = threading.Lock()  # one update at a time; readers never wait for it

    def get(self, name: str) -> Served | None:
        return self._served.get(name)

    def all(self) -> dict[str, Served]:
        return dict(self._served)

    def drop_models(self) -> None:
        """Keep only how each version answers, not its model, from now on (the supervisor of
        `serve --workers N`, once its forked workers have the models)."""
        with self._lock:
            self.keep_models = False
            self._served = {name: dataclasses.replace(served, model=None, answerer=Checked(served.answerer.mode))
                            for name, served in self._served.items()}

    def update(self, text: str) -> list[str]:
        """Bring every model to what the registry text says holds the stage; returns what changed.

        Never raises for anything the text or an artifact can cause: a model that cannot be updated
        keeps its version and records why."""
        changed = []
        with self._lock:
            for name in self.names:
                status = self.status[name]
                status.last_check = time.time()
                try:
                    done = self._update_one(name, text, status)
                except (Exception, SystemExit) as error:  # SystemExit too: an unpickled object may raise it
                    status.last_error = f"cannot update {name}@{self.stage}: {describe(error)}"
                    status.failed_md5 = None
                    status.errors += 1
                    log.error("%s; still serving %s", status.last_error, self._serving(name))
                    continue
                if done:
                    changed.append(done)
        return changed

    def _serving(self, name: str) -> str:
        current = self._served.get(name)
        return current.version if current else "nothing"

    def _update_one(self, name: str, text: str, status: Status) -> str | None:
        try:
            answer = resolve(text, Reference(name, stage=self.stage), self.registry_name)
        except ModelregError as error:
            status.last_error = f"cannot resolve {name}@{self.stage}: {describe(error)}"
            status.failed_md5 = None
            status.errors += 1
            log.error("%s; still serving %s", status.last_error, self._serving(name))
            return None
        current = self._served.get(name)
        if current is not None and current.md5 == answer.md5:
            status.last_error, status.failed_md5 = None, None
            return None
        try:
            model = self.loader(answer)
        except (Exception, SystemExit) as error:  # a bad version must never take the server down
            status.last_error = f"{name} {answer.version} ({answer.md5}) was not loaded: {describe(error)}"
            status.failed_md5 = answer.md5
            status.errors += 1
            log.error("%s; still serving %s", status.last_error, self._serving(name))
            return None
        metrics, signature = _metrics(text, name, answer.version, self.registry_name)
        answerer = _answerer(model, self.samples, answer, self.two_pass, self.direct_trees)
        if not self.keep_models:  # checked; the workers load their own copies
            model, answerer = None, Checked(answerer.mode)
        self._served = {**self._served, name: Served(name, answer.version, answer.md5, self.stage, metrics, model,
                                                     answerer=answerer, signature=signature, resolved=answer)}
        status.last_error, status.failed_md5 = None, None
        status.swaps += 1
        log.info("%s %s %s (md5 %s)", "now serving" if self.keep_models else "the workers now load", name,
                 answer.version, answer.md5)
        return f"{name} {current.version if current else '-'} -> {answer.version}"


def _answerer(model: Any, samples: Callable[[Resolved], list | None] | None, answer: Resolved,
              two_pass: bool = False, direct_trees: bool = True):
    """The model's Answerer, its one-pass answer checked on the sample rows when there are any."""
    from .answering import Answerer

    sample = None
    if samples is not None and not two_pass:
        try:
            sample = samples(answer)
        except Exception as error:  # a missing or unreadable sample: the first request decides
            log.warning("no sample rows for %s %s: %s", answer.name, answer.version, describe(error))
    return Answerer(model, sample, two_pass, direct_trees)  # a sample the model cannot answer leaves the choice to the first request


def sample_reader(root: Path) -> Callable[[Resolved], list | None]:
    """The rows of models/NAME/sample.json beside the version's artifact path (None if there is none)."""
    def read(answer: Resolved) -> list | None:
        import json

        path = root / Path(answer.path).parent / "sample.json"
        if not path.is_file():
            return None
        rows = json.loads(path.read_text()).get("rows")
        return rows if isinstance(rows, list) and rows else None
    return read


def _metrics(text: str, name: str, version: str, registry_name: str) -> tuple[dict, dict | None]:
    """The version's metrics (shown on /models/NAME) and input signature (checked on every request)."""
    from ..adapters import registry_file
    from ..core.registry import Registry
    from ..core.signature import signature_of

    try:
        data, _ = registry_file.parse(text, registry_name)
        model = Registry(data).model(name)
        found = model.version(version)
        return (dict(found.metrics) if found else {}), signature_of(model, version)
    except Exception:  # shown and checked when readable: a text that resolved but cannot be read fully
        return {}, None


def artifact_loader(root: Path, remote: str, allow_pickle: bool = False) -> Loader:
    """Fetch by md5 through the verified local cache (see flows.artifacts.cached_artifact), then load
    as the version's recorded format says; pickle and joblib only with `allow_pickle`."""
    def load(answer: Resolved) -> Any:
        from ..flows.artifacts import cached_artifact, check_loadable, load_verified

        check_loadable(answer, allow_pickle)  # before anything is downloaded
        return load_verified(cached_artifact(root, answer, remote), answer.format, allow_pickle=allow_pickle)
    return load


class Background:
    """A daemon thread running `self._run` (which waits on `self._stop`) from start() until stop()."""

    thread_name = "modelreg-background"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=10)

    def _run(self) -> None:
        raise NotImplementedError


class Follower(Background):
    """Polls a source and updates the table in a background thread that nothing stops but stop().

    A text that could not be applied (a model failed to resolve, or the update itself failed) is
    tried again on every poll, even when the source has not changed; a version that resolved but
    failed to load is pulled again only every `retry_every` polls, as that costs a download.
    """

    thread_name = "modelreg-follower"

    def __init__(self, table: ModelTable, source, interval: float, retry_every: int = 10,
                 text: str | None = None):
        super().__init__()
        self.table, self.source, self.interval, self.retry_every = table, source, interval, retry_every
        self._text = text  # the registry text last applied
        self._polls = 0
        self.last_poll_error: str | None = None  # the source could not be read
        self.last_update_error: str | None = None  # the text could not be applied at all
        self.errors = 0  # errors the follower caught and survived, since start (models' own counted apart)
        self.last_poll: float | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopped_unexpectedly(self) -> bool:
        """The thread was started, is gone, and nobody asked it to stop (should never be true)."""
        return self._thread is not None and not self._thread.is_alive() and not self._stop.is_set()

    @property
    def error_count(self) -> int:
        return self.errors + sum(status.errors for status in self.table.status.values())

    def poll_once(self) -> list[str]:
        self.last_poll = time.time()
        try:
            text = self.source.poll()
            self.last_poll_error = None
        except Exception as error:  # a flaky source must not stop the loop
            self.last_poll_error = f"cannot read {self.source.name}: {describe(error)}"
            self.errors += 1
            log.error(self.last_poll_error)
            return []
        self._polls += 1
        if text is None:
            if self._text is None or not self._should_retry():
                return []
            text = self._text
        self._text = text
        try:
            changed = self.table.update(text)
        except Exception as error:  # update catches its own; this is the net under it
            self.last_update_error = f"cannot apply the registry from {self.source.name}: {describe(error)}"
            self.errors += 1
            log.error(self.last_update_error)
            return []
        self.last_update_error = None
        return changed

    def _should_retry(self) -> bool:
        statuses = self.table.status.values()
        if self.last_update_error or any(s.last_error and s.failed_md5 is None for s in statuses):
            return True  # the text could not be applied: every poll, it costs no download
        # a failed load may have been a passing fault: try it again now and then
        return any(s.failed_md5 for s in statuses) and self._polls % self.retry_every == 0

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.poll_once()
            except BaseException as error:  # the last net: this thread must not die while the server runs
                try:
                    self.last_update_error = f"the follower caught {describe(error)}"
                    self.errors += 1
                    log.error(self.last_update_error)
                except BaseException:  # even logging failed (MemoryError): go round again
                    pass
