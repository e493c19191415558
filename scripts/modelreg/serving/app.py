"""The HTTP API: predict, model info, health and Prometheus metrics."""

from __future__ import annotations

import time
from typing import Any

from .models import Follower, ModelTable


def create_app(table: ModelTable, follower: Follower | None = None):
    from fastapi import Body, FastAPI, HTTPException
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
    failures = Gauge("modelreg_last_update_failed", "1 while the newest registry version could not be loaded",
                     ["model"], registry=metrics)

    app = FastAPI(title="modelreg", description="Serves the models that hold a stage in the registry.")

    @app.post("/models/{name}/predict")
    def predict(name: str, payload: dict[str, Any] = Body(...)) -> dict:
        current = table.get(name)  # taken once: a swap during this request does not affect it
        if current is None:
            requests.labels(name, "-", "unavailable").inc()
            raise HTTPException(404 if name not in table.names else 503,
                                f"model {name} is not served" if name not in table.names
                                else f"no version of {name} is loaded yet")
        rows = payload.get("rows")
        if not isinstance(rows, list) or not rows or not all(isinstance(r, list) for r in rows):
            requests.labels(name, current.version, "bad_request").inc()
            raise HTTPException(422, 'send {"rows": [[feature, ...], ...]}')
        started = time.perf_counter()
        try:
            predictions = current.model.predict(rows)
            answer = {"model": name, "version": current.version, "predictions": _plain(predictions)}
            if hasattr(current.model, "predict_proba"):
                answer["probabilities"] = _plain(current.model.predict_proba(rows))
        except Exception as error:  # the model refused the input
            requests.labels(name, current.version, "error").inc()
            raise HTTPException(422, f"{name} {current.version} could not predict: {error}") from None
        latency.labels(name, current.version).observe(time.perf_counter() - started)
        requests.labels(name, current.version, "ok").inc()
        return answer

    @app.get("/models/{name}")
    def describe(name: str) -> dict:
        current = table.get(name)
        if current is None:
            raise HTTPException(404, f"model {name} is not served")
        return {"name": name, "version": current.version, "md5": current.md5, "stage": current.stage,
                "metrics": current.metrics, "loaded_at": current.loaded_at}

    @app.get("/healthz")
    def health() -> JSONResponse:
        models = {}
        for name in table.names:
            current, status = table.get(name), table.status[name]
            models[name] = {"version": current.version if current else None,
                            "md5": current.md5 if current else None,
                            "last_error": status.last_error, "swaps": status.swaps}
        missing = [name for name in table.names if table.get(name) is None]
        degraded = any(m["last_error"] for m in models.values()) or (follower and follower.last_poll_error)
        state = "unavailable" if missing else "degraded" if degraded else "ok"
        body = {"status": state, "models": models,
                "source_error": follower.last_poll_error if follower else None}
        return JSONResponse(body, status_code=503 if missing else 200)

    @app.get("/metrics")
    def prometheus() -> PlainTextResponse:
        served.clear()
        for name in table.names:
            current = table.get(name)
            if current is not None:
                served.labels(name, current.version, current.md5).set(1)
            failures.labels(name).set(1 if table.status[name].last_error else 0)
        return PlainTextResponse(generate_latest(metrics).decode(), media_type=CONTENT_TYPE_LATEST)

    return app


def _plain(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") else list(value)
