"""Metrics the gate can trust: registered numbers against numbers the base's own evaluation reproduced. Pure.

The registered metrics are written by the pull request's author. The
reproduction runs the base branch's evaluation code on the candidate bytes and
a fixed evaluation data set; this module decides whether the two agree within
the model's tolerances and whether the reproduced numbers pass the gates.
Loading a pickle or joblib file runs code chosen by the author, which could
forge the reproduction: such results are shown but never trusted.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from . import gates
from .registry import Model, Version

TRUSTED_FORMATS = ("skops", "onnx")  # formats whose loading runs no code of the author's


@dataclass(frozen=True)
class MetricCheck:
    name: str
    registered: float | None
    reproduced: float | None
    tolerance: float

    @property
    def delta(self) -> float | None:
        if self.registered is None or self.reproduced is None:
            return None
        return self.reproduced - self.registered

    @property
    def ok(self) -> bool:
        delta = self.delta
        return delta is not None and math.isfinite(delta) and abs(delta) <= self.tolerance + 1e-12


@dataclass
class Reproduction:
    """One version's reproduction, as the evaluation job reports it and the check reads it."""

    model: str
    version: str
    md5: str
    format: str | None
    metrics: list[MetricCheck] = field(default_factory=list)
    gate_failures: list[str] = field(default_factory=list)
    skipped: str | None = None  # why no reproduction ran (declared skip, no evaluation declared)
    error: str | None = None  # the evaluation could not run
    head: str | None = None  # the commit whose registry was evaluated
    seconds: float | None = None

    @property
    def trusted(self) -> bool:
        return self.format in TRUSTED_FORMATS

    @property
    def ok(self) -> bool:
        if self.skipped:
            return True
        return self.error is None and all(m.ok for m in self.metrics) and not self.gate_failures

    def summary(self) -> str:
        if self.skipped:
            return f"{self.model} {self.version}: not re-evaluated ({self.skipped})"
        if self.error:
            return f"{self.model} {self.version}: evaluation failed: {self.error}"
        bad = [m for m in self.metrics if not m.ok]
        parts = [f"{m.name} registered {_num(m.registered)}, reproduced {_num(m.reproduced)}" for m in bad]
        parts += self.gate_failures
        verdict = "reproduced" if not parts else "does not reproduce: " + "; ".join(parts)
        trust = "" if self.trusted else f" (informational: {self.format} loading runs the author's code)"
        return f"{self.model} {self.version}: {verdict}{trust}"

    def as_dict(self) -> dict:
        data = dataclasses.asdict(self)
        data["trusted"], data["ok"] = self.trusted, self.ok
        return data

    @classmethod
    def from_dict(cls, data: dict) -> "Reproduction":
        fields = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in fields}
        values["metrics"] = [MetricCheck(str(m["name"]), _float(m.get("registered")), _float(m.get("reproduced")),
                                         float(m.get("tolerance") or 0.0)) for m in data.get("metrics") or []]
        values["gate_failures"] = [str(g) for g in data.get("gate_failures") or []]
        return cls(**values)


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"


def tolerance(spec: dict, metric: str) -> float:
    table = spec.get("tolerance") or {}
    value = table.get(metric, table.get("default", 0.0))
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def compare(spec: dict, model: Model, version: Version, reproduced: dict[str, float], stages: list[str],
            production: Version | None) -> tuple[list[MetricCheck], list[str]]:
    """Each registered metric against its reproduction, and the gates of `stages` on the reproduced numbers.

    `model` carries the base's policy (gates, metric, goal); `production` is the
    version holding production before the change.
    """
    names = list(dict.fromkeys([*version.metrics, *(m for m in reproduced if m in version.metrics)]))
    checks = [MetricCheck(n, _float(version.metrics.get(n)), _float(reproduced.get(n)), tolerance(spec, n))
              for n in names]
    redone = dataclasses.replace(version, metrics={k: v for k, v in reproduced.items() if _float(v) is not None})
    failures = []
    for stage in stages:
        rollback = gates.held_production_before(model, version.name)
        for check in gates.failures(gates.evaluate(model, stage, redone, production, rollback)):
            failures.append(f"reproduced {check.detail} ({stage} gate)")
    return checks, failures
