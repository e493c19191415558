"""The HTTP API: predict, model info, health and Prometheus metrics.

No `from __future__ import annotations` here: FastAPI reads the endpoints' annotations, and
`Request` is imported inside create_app (FastAPI loads only when serving).
"""

import math
import threading
import time
from typing import Any

from .answering import Batcher, Refused
from ..core.signature import check_rows, describe as describe_signature
from .limits import DEFAULT_MAX_BODY_BYTES, SHAPE, BadInput, BodyLimit, parse_rows
from .models import Follower, ModelTable

_PREDICT_BODY = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "type": "object", "required": ["rows"],
    "properties": {"rows": {"type": "array", "minItems": 1,
                            "items": {"type": "array", "items": {"type": "number"}}}}}}}}}


def create_app(table: ModelTable, follower: Follower | None = None, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               allow_non_finite: bool = False, batch_ms: float = 0.0):
    """The app; `batch_ms` > 0 gathers concurrent requests for a model for at most that long and answers
    them with one call (answering.Batcher), 0 answers each request by itself."""
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
    served = Gauge("modelreg_model_info", "The version being served (value 1)", ["model", "version", "md5"],
                   registry=metrics)
    failures = Gauge("modelreg_last_update_failed", "1 while the newest registry version could not be loaded "
                     "or the registry could not be resolved for the model", ["model"], registry=metrics)
    follower_errors = Gauge("modelreg_follower_errors", "Errors the registry follower caught and survived "
                            "since start (reading the source, resolving, loading)", registry=metrics)
    follower_failed = Gauge("modelreg_follower_last_update_failed",
                            "1 while the last registry text read could not be fully applied", registry=metrics)
    follower_up = Gauge("modelreg_follower_up", "1 while the registry follower thread runs", registry=metrics)

    app = FastAPI(title="modelreg", description="Serves the models that hold a stage in the registry.")
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)

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
        state = "unavailable" if missing else "degraded" if degraded else "ok"
        return JSONResponse({"status": state, **body}, status_code=503 if missing else 200)

    @app.get("/metrics")
    def prometheus() -> PlainTextResponse:
        served.clear()
        for name in table.names:
            current = table.get(name)
            if current is not None:
                served.labels(name, current.version, current.md5).set(1)
            failures.labels(name).set(1 if table.status[name].last_error else 0)
        if follower is not None:
            follower_errors.set(follower.error_count)
            follower_failed.set(1 if follower.last_update_error or any(
                table.status[name].last_error for name in table.names) else 0)
            follower_up.set(1 if follower.running else 0)
        return PlainTextResponse(generate_latest(metrics).decode(), media_type=CONTENT_TYPE_LATEST)

    return app


def _plain(value: Any) -> Any:
    """Plain JSON data; a NaN or infinity in a model's answer (JSON has none) becomes null."""
    return _finite(value.tolist() if hasattr(value, "tolist") else list(value))


def _finite(value: Any) -> Any:
    if isinstance(value, list):
        return [_finite(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
