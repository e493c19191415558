"""The HTTP API: predict, model info, health and Prometheus metrics.

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations, and
`Request` is imported inside create_app (FastAPI loads only when serving).
"""

import contextlib
import math
import os
import threading
import time
from typing import Any, Callable

from .answering import Batcher, Refused
from ..core.signature import check_rows, describe as describe_signature
from .limits import DEFAULT_MAX_BODY_BYTES, SHAPE, BadInput, BodyLimit, parse_rows
from .models import Follower, ModelTable

_PREDICT_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["rows"],
    "properties": {"rows": {"type": "array", "minItems": 1,
                            "items": {"type": "array", "items": {"type": "number"}}}}}}}}}


def create_app(table: ModelTable, follower: Follower | None = None, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               allow_non_finite: bool = False, batch_ms: float = 0.0, multiprocess_dir: str | None = None,
               peers: Callable[[], list[dict]] | None = None, on_shutdown: Callable[[], None] | None = None):
    """The app; `batch_ms` > 0 gathers concurrent requests for a model for at most that long and answers
    them with one call (answering.Batcher), 0 answers each request by itself.

    One worker of `serve --workers N` (serving/workers.py) passes `multiprocess_dir` (prometheus-client's
    multiprocess directory: /metrics then adds up every worker's files, and the gauges are set whenever
    the table changes, by `app.state.refresh_metrics`, not only when this worker is scraped), `peers`
    (every live worker's state, for /healthz) and `on_shutdown`."""
    from fastapi import FastAPI, HTTPException, Request
    from fastapi.concurrency import run_in_threadpool
    from fastapi.responses import JSONResponse, PlainTextResponse
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

    metrics = CollectorRegistry()
    requests = Counter("modelreg_requests", "Predict requests by model, version and outcome",
                       ["model", "version", "outcome"], registry=metrics)
    latency = Histogram("modelreg_request_duration_seconds", "Time to answer a predict request",
                        ["model", "version"], registry=metrics,
                        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5))
    # with several workers each gauge is one value per live worker, shown as their max (min for _up): a
    # version is served while any worker serves it, an update failed if it failed anywhere
    served = Gauge("modelreg_model_info", "The version being served (value 1)", ["model", "version", "md5"],
                   registry=metrics, multiprocess_mode="livemax")
    failures = Gauge("modelreg_last_update_failed", "1 while the newest registry version could not be loaded "
                     "or the registry could not be resolved for the model", ["model"], registry=metrics,
                     multiprocess_mode="livemax")
    follower_errors = Gauge("modelreg_follower_errors", "Errors the registry follower caught and survived "
                            "since start (reading the source, resolving, loading)", registry=metrics,
                            multiprocess_mode="livemax")
    follower_failed = Gauge("modelreg_follower_last_update_failed",
                            "1 while the last registry text read could not be fully applied", registry=metrics,
                            multiprocess_mode="livemax")
    follower_up = Gauge("modelreg_follower_up", "1 while the registry follower thread runs", registry=metrics,
                        multiprocess_mode="livemin")
    exposed = metrics
    if multiprocess_dir is not None:  # /metrics reads every worker's files, the dead ones' counts included
        from prometheus_client.multiprocess import MultiProcessCollector

        exposed = CollectorRegistry()
        MultiProcessCollector(exposed, path=multiprocess_dir)

    lifespan = None
    if on_shutdown is not None:
        @contextlib.asynccontextmanager
        async def lifespan(_app):
            yield
            on_shutdown()

    app = FastAPI(title="modelreg", description="Serves the models that hold a stage in the registry.",
                  lifespan=lifespan)
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    app.add_middleware(WorkerHeader)

    batchers: dict[str, Batcher] = {}
    batchers_lock = threading.Lock()

    def batcher(name: str) -> Batcher:
        found = batchers.get(name)
        if found is None:
            with batchers_lock:
                found = batchers.get(name)
                if found is None:
                    found = batchers[name] = Batcher(name, lambda: table.get(name), batch_ms / 1000)
        return found

    def answer(name: str, body: bytes) -> dict:
        current = table.get(name)  # taken once: a swap during this request does not affect it
        if current is None:
            requests.labels(name, "-", "unavailable").inc()
            raise HTTPException(404 if name not in table.names else 503,
                                f"model {name} is not served" if name not in table.names
                                else f"no version of {name} is loaded yet")
        try:
            rows = parse_rows(body, allow_non_finite)
        except BadInput as error:
            requests.labels(name, current.version, "bad_request").inc()
            raise HTTPException(422, str(error)) from None
        mismatch = check_rows(current.signature, rows)
        if mismatch:  # the version's recorded input signature: a clear 422, before the model sees anything
            requests.labels(name, current.version, "bad_request").inc()
            raise HTTPException(422, f"{name} {current.version} expects {describe_signature(current.signature)}: "
                                     f"{'; '.join(mismatch)}")
        started = time.perf_counter()
        try:
            if batch_ms > 0:  # answered with other requests' rows, by the version current for the whole batch
                current, predictions, probabilities = batcher(name).submit(rows)
            else:
                predictions, probabilities = current.answerer.answer(rows)
            result = {"model": name, "version": current.version, "predictions": _plain(predictions)}
            if probabilities is not None:
                result["probabilities"] = _plain(probabilities)
        except Refused as refused:  # the model refused the input (in a batch)
            requests.labels(name, refused.served.version, "error").inc()
            raise HTTPException(422, f"{name} {refused.served.version} could not predict: {refused.error}") \
                from None
        except Exception as error:  # the model refused the input
            requests.labels(name, current.version, "error").inc()
            raise HTTPException(422, f"{name} {current.version} could not predict: {error}") from None
        latency.labels(name, current.version).observe(time.perf_counter() - started)
        requests.labels(name, current.version, "ok").inc()
        return result

    @app.post("/models/{name}/predict", openapi_extra=_PREDICT_BODY,
              description=f"{SHAPE}; features are finite numbers")
    async def predict(name: str, request: Request) -> dict:
        body = await request.body()  # at most max_body_bytes: BodyLimit has already read it
        return await run_in_threadpool(answer, name, body)  # parsing, checking and predicting off the loop

    @app.get("/models/{name}")
    def describe(name: str) -> dict:
        current = table.get(name)
        if current is None:
            raise HTTPException(404, f"model {name} is not served")
        return {"name": name, "version": current.version, "md5": current.md5, "stage": current.stage,
                "metrics": current.metrics, "loaded_at": current.loaded_at, "answer": current.answerer.mode,
                "batching": f"requests gathered for at most {batch_ms:g} ms" if batch_ms > 0 else "off"}

    @app.get("/healthz")
    def health() -> JSONResponse:
        models = {}
        for name in table.names:
            current, status = table.get(name), table.status[name]
            models[name] = {"version": current.version if current else None,
                            "md5": current.md5 if current else None,
                            "last_error": status.last_error, "swaps": status.swaps, "errors": status.errors,
                            "last_check": status.last_check}
        missing = [name for name in table.names if table.get(name) is None]
        body = {"models": models, "source_error": follower.last_poll_error if follower else None}
        if follower is not None:
            body["follower"] = {"running": follower.running, "errors": follower.error_count,
                                "last_poll": follower.last_poll, "last_error": follower.last_update_error}
        degraded = any(m["last_error"] for m in models.values()) or (follower is not None and (
            follower.last_poll_error or follower.last_update_error or follower.stopped_unexpectedly))
        if peers is not None:  # several workers: this one answered; every live worker's state is shown
            body["worker"] = os.getpid()
            body["workers"] = peers()
            degraded = degraded or any(peer["last_error"] or any(version is None for version in
                                                                 peer["models"].values()) for peer in body["workers"])
        state = "unavailable" if missing else "degraded" if degraded else "ok"
        return JSONResponse({"status": state, **body}, status_code=503 if missing else 200)

    shown: set[tuple[str, str, str]] = set()
    gauges_lock = threading.Lock()

    def refresh_metrics() -> None:
        """Set the gauges from the table and the follower."""
        nonlocal shown
        with gauges_lock:
            now = {(name, current.version, current.md5) for name in table.names
                   if (current := table.get(name)) is not None}
            if multiprocess_dir is None:
                served.clear()
            else:  # a label cannot be removed from the other workers' view: a version no longer served is 0
                for labels in shown - now:
                    served.labels(*labels).set(0)
            for labels in now:
                served.labels(*labels).set(1)
            shown = now
            for name in table.names:
                failures.labels(name).set(1 if table.status[name].last_error else 0)
            if follower is not None:
                follower_errors.set(follower.error_count)
                follower_failed.set(1 if follower.last_update_error or any(
                    table.status[name].last_error for name in table.names) else 0)
                follower_up.set(1 if follower.running else 0)

    app.state.refresh_metrics = refresh_metrics

    @app.get("/metrics")
    def prometheus() -> PlainTextResponse:
        refresh_metrics()
        return PlainTextResponse(generate_latest(exposed).decode(), media_type=CONTENT_TYPE_LATEST)

    return app


class WorkerHeader:
    """ASGI middleware: every response names the process that answered it (`X-Modelreg-Worker: PID`), so a
    client of `serve --workers N` can tell the workers apart."""

    def __init__(self, app):
        self.app, self.header = app, (b"x-modelreg-worker", str(os.getpid()).encode())

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def marked(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), self.header]}
            await send(message)

        await self.app(scope, receive, marked)


def _plain(value: Any) -> Any:
    """Plain JSON data; a NaN or infinity in a model's answer (JSON has none) becomes null."""
    return _finite(value.tolist() if hasattr(value, "tolist") else list(value))


def _finite(value: Any) -> Any:
    if isinstance(value, list):
        return [_finite(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
