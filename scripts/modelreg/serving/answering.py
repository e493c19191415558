"""One model pass per answer where it is exact, and adaptive batching of concurrent requests.

A classifier's answer carries predictions and probabilities. For most classifiers (scikit-learn's
among them) the prediction *is* the class of highest probability, `classes_[argmax(predict_proba)]`,
so one `predict_proba` call gives both. That is checked, not assumed: when a version is loaded its
`predict` and `predict_proba` are run on the model's sample rows (`models/NAME/sample.json` beside
the artifact), or, without a sample, on the rows of the first request, and the one-pass answer is
used only if every row agrees. Otherwise (or if the check cannot run) each answer costs two calls.

`Batcher` gathers concurrent requests for one model for at most a few milliseconds and answers them
with one vectorised call, as BentoML, Ray Serve and Triton do; each request gets its own rows back
with the version that answered it. The `Served` object is taken once per batch, so a swap never mixes
versions within a batch.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import Future
from typing import Any, Callable

log = logging.getLogger("modelreg.serve")

MAX_SAMPLE_ROWS = 100  # rows of the sample used for the check
MAX_BATCH_REQUESTS = 64  # requests answered by one call at most


class Answerer:
    """Answers rows for one loaded model: predictions, and probabilities when the model has them.

    `mode` says how, for GET /models/{name}; `one_pass` is None until the check has run."""

    def __init__(self, model: Any, sample: list | None = None, two_pass: bool = False, direct_trees: bool = True):
        self.model = model
        self.has_proba = hasattr(model, "predict_proba")
        self.one_pass: bool | None = None
        self.mode = "one pass (predict; the model has no predict_proba)"
        # a forest's answer through its trees (serving/trees.py), used once it gave the model's own bits
        self.direct: Callable[[list], Any] | None = None
        self._direct_candidate = None
        if direct_trees and not two_pass:
            from . import trees

            self._direct_candidate = trees.shortcut(model)
        self._lock = threading.Lock()
        if self.has_proba and two_pass:
            self.one_pass, self.mode = False, "two passes (modelreg serve --two-pass)"
        elif self.has_proba or self._direct_candidate is not None:
            self.mode = "undecided (checked on the rows of the first request: the model has no sample)"
            if sample:
                try:
                    self._check(sample[:MAX_SAMPLE_ROWS], "sample rows")
                except Exception as error:  # the sample does not fit the model: decide on a request instead
                    self.mode = (f"undecided (the sample rows could not be answered: {type(error).__name__}; "
                                 "checked on the rows of the first request)")

    def _check(self, rows: list, where: str) -> tuple[Any, Any]:
        """The model's own calls on `rows`; decide the mode from whether they agree, and whether the trees'
        shortcut gives the same bits. Returns both answers (probabilities None without predict_proba)."""
        predictions = self.model.predict(rows)
        probabilities = self.model.predict_proba(rows) if self.has_proba else None
        if self.has_proba:
            one_pass, why = _agrees(self.model, predictions, probabilities)
        else:
            one_pass, why = True, ""
        direct, differs = self._try_direct(rows, probabilities if self.has_proba else predictions, one_pass)
        if self.has_proba:
            described = (f"one pass (predictions from predict_proba{direct}, verified on {len(rows)} {where})"
                         if one_pass else f"two passes ({why}, on {len(rows)} {where})")
        else:
            described = f"one pass (predict{direct}, verified on {len(rows)} {where})"
        self.mode = described + differs
        self.one_pass = one_pass
        log.info("%s answers in %s", type(self.model).__name__, self.mode)
        return predictions, probabilities

    def _try_direct(self, rows: list, expected: Any, one_pass: bool) -> tuple[str, str]:
        """Adopt the trees' shortcut if it answers `rows` with exactly `expected`; (mode text, or why not)."""
        candidate, self._direct_candidate = self._direct_candidate, None
        if candidate is None or not one_pass:
            return "", ""
        import numpy

        try:
            direct = candidate.through_trees(rows)
            same = direct is not None and numpy.array_equal(numpy.asarray(direct), numpy.asarray(expected))
        except Exception as error:
            return "", f"; the forest's trees were not called directly: {type(error).__name__}"
        if direct is None:
            return "", ("; the forest's trees were not called directly: the rows checked are not all finite "
                        "numbers of the model's width, so the trees could not be checked on them")
        if not same:
            return "", "; the forest's trees were not called directly: their sum differed from the model's answer"
        self.direct = candidate
        return ", the forest's trees called directly", ""

    def answer(self, rows: list) -> tuple[Any, Any | None]:
        """(predictions, probabilities or None) for `rows`; raises whatever the model raises."""
        if self.one_pass is None and (self.has_proba or self._direct_candidate is not None):
            with self._lock:
                if self.one_pass is None:
                    return self._check(rows, "rows of the first request")
        if not self.has_proba:
            return (self.direct or self.model.predict)(rows), None
        if self.one_pass:
            import numpy

            probabilities = (self.direct or self.model.predict_proba)(rows)
            return numpy.asarray(self.model.classes_).take(numpy.asarray(probabilities).argmax(axis=1)), \
                probabilities
        return self.model.predict(rows), self.model.predict_proba(rows)


def _agrees(model: Any, predictions: Any, probabilities: Any) -> tuple[bool, str]:
    import numpy

    classes = getattr(model, "classes_", None)
    if classes is None:
        return False, "the model has no classes_"
    try:
        classes = numpy.asarray(classes)
        proba = numpy.asarray(probabilities, dtype=float)
        predicted = numpy.asarray(predictions)
        if proba.ndim != 2 or proba.shape[1] != len(classes) or predicted.shape != (proba.shape[0],):
            return False, "predict_proba's shape does not match classes_ and predict"
        derived = classes.take(proba.argmax(axis=1))
        differ = numpy.flatnonzero(derived != predicted)
    except Exception as error:
        return False, f"predict could not be compared with predict_proba ({type(error).__name__})"
    if len(differ):
        return False, f"predict differs from the class of highest probability on row {int(differ[0])}"
    return True, ""


class Refused(Exception):
    """The model refused a request's rows: `error` is what it raised, `served` the version that did."""

    def __init__(self, served: Any, error: Exception):
        super().__init__(str(error))
        self.served, self.error = served, error


class _Job:
    __slots__ = ("rows", "future")

    def __init__(self, rows: list):
        self.rows, self.future = rows, Future()


class Batcher:
    """Gathers requests for one model for at most `window` seconds and answers them with one call.

    `submit(rows)` blocks the calling (threadpool) thread until its answer is ready and returns
    (served, predictions, probabilities), the predictions and probabilities being this request's
    rows only, or raises Refused with what the model raised for its rows. If the batched call fails, each request
    of the batch is answered alone, so a bad request gets its own error and the others their answers.
    """

    def __init__(self, name: str, get: Callable[[], Any], window: float):
        self.name, self.get, self.window = name, get, window
        self._queue: queue.Queue[_Job] = queue.Queue()
        self.calls = 0  # batched calls made, for tests and curiosity
        self._thread = threading.Thread(target=self._run, name=f"modelreg-batch-{name}", daemon=True)
        self._thread.start()

    def submit(self, rows: list) -> tuple[Any, Any, Any]:
        job = _Job(rows)
        self._queue.put(job)
        return job.future.result()

    def _run(self) -> None:
        while True:
            jobs = [self._queue.get()]
            deadline = time.monotonic() + self.window
            while len(jobs) < MAX_BATCH_REQUESTS:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    jobs.append(self._queue.get(timeout=left))
                except queue.Empty:
                    break
            try:
                self._answer(jobs)
            except BaseException as error:  # the thread must outlive anything a model does
                for job in jobs:
                    if not job.future.done():
                        job.future.set_exception(error if isinstance(error, Exception) else RuntimeError(
                            f"{type(error).__name__} while answering"))

    def _answer(self, jobs: list[_Job]) -> None:
        served = self.get()  # once per batch: every request of the batch is answered by one version
        if served is None:
            for job in jobs:
                job.future.set_exception(LookupError(f"no version of {self.name} is loaded"))
            return
        by_width: dict[int, list[_Job]] = {}
        for job in jobs:
            by_width.setdefault(len(job.rows[0]), []).append(job)
        for group in by_width.values():
            self.calls += 1
            if len(group) == 1:
                _answer_alone(served, group[0])
                continue
            rows = [row for job in group for row in job.rows]
            try:
                predictions, probabilities = served.answerer.answer(rows)
            except Exception:  # some request's rows were refused: answer each alone for its own error
                for job in group:
                    _answer_alone(served, job)
                continue
            start = 0
            for job in group:
                end = start + len(job.rows)
                job.future.set_result((served, predictions[start:end],
                                       None if probabilities is None else probabilities[start:end]))
                start = end


def _answer_alone(served: Any, job: _Job) -> None:
    try:
        predictions, probabilities = served.answerer.answer(job.rows)
    except Exception as error:
        job.future.set_exception(Refused(served, error))
        return
    job.future.set_result((served, predictions, probabilities))
