"""Gates: what a version must show to enter a stage. Pure functions."""

from __future__ import annotations

from dataclasses import dataclass

from . import signature
from .registry import PRODUCTION, Model, Version


@dataclass(frozen=True)
class GateCheck:
    stage: str
    name: str  # a metric name, or "beat_production"
    passed: bool
    detail: str

    @property
    def mark(self) -> str:
        return "pass" if self.passed else "FAIL"


def evaluate(model: Model, stage: str, version: Version, production: Version | None = None,
             rollback: bool = False) -> list[GateCheck]:
    """Check every gate of `stage` for `version`.

    `production` is the version holding production before the change; it is
    what beat_production compares against. A rollback (the version held
    production before) is exempt from beat_production: it returns to a known state.
    """
    checks: list[GateCheck] = []
    for name, rule in (model.gates.get(stage) or {}).items():
        if name == "signature":
            continue  # not a metric: checked below, against production's input signature
        if name == "beat_production":
            checks.append(_beat_production(model, stage, version, production, rule, rollback))
            continue
        value = version.metrics.get(name)
        if value is None:
            checks.append(GateCheck(stage, name, False, f"{version.name} has no metric '{name}'"))
            continue
        if not isinstance(rule, dict) or not _numbers(value, *rule.values()):
            # the schema reports the bad value itself; a gate cannot pass on it
            checks.append(GateCheck(stage, name, False, f"{name} or its gate is not a number"))
            continue
        if "min" in rule:
            ok = value >= rule["min"]
            checks.append(GateCheck(stage, name, ok, f"{name} {value:g} {'>=' if ok else '<'} min {rule['min']:g}"))
        if "max" in rule:
            ok = value <= rule["max"]
            checks.append(GateCheck(stage, name, ok, f"{name} {value:g} {'<=' if ok else '>'} max {rule['max']:g}"))
    if production is not None and not rollback and signature.gate_rule(model, stage) == "compatible" and \
            signature.signature_of(model, version) and signature.signature_of(model, production):
        reasons = signature.signature_gate(model, version, production, stage)
        checks.append(GateCheck(stage, "signature", not reasons,
                                "; ".join(reasons) or "input compatible with production"))
    return checks


def _beat_production(model: Model, stage: str, version: Version, production: Version | None,
                     margin: float, rollback: bool) -> GateCheck:
    name = "beat_production"
    if rollback:
        return GateCheck(stage, name, True, f"exempt: {version.name} held {PRODUCTION} before (rollback)")
    if production is None:
        return GateCheck(stage, name, True, f"no {PRODUCTION} version to beat yet")
    if production.name == version.name:
        return GateCheck(stage, name, True, f"{version.name} is the {PRODUCTION} version")
    metric = model.metric
    if not metric:
        return GateCheck(stage, name, False, "the model has no primary metric (set metric: {name: ...})")
    ours, theirs = version.metrics.get(metric), production.metrics.get(metric)
    if ours is not None and theirs is not None and not _numbers(ours, theirs, margin):
        return GateCheck(stage, name, False, f"{metric} or the margin is not a number")
    if ours is None or theirs is None:
        missing = version.name if ours is None else production.name
        return GateCheck(stage, name, False, f"{missing} has no metric '{metric}' to compare")
    delta = ours - theirs if model.goal == "max" else theirs - ours
    ok = delta >= margin
    return GateCheck(stage, name, ok, f"{metric} {ours:g} vs {production.name} {theirs:g}: "
                     f"{delta:+.4g} {'>=' if ok else '<'} required {margin:+g}")


def _numbers(*values) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def held_production_before(model: Model, version: str) -> bool:
    """True when history shows `version` in production at some point: a rollback target."""
    return any(entry.stage == PRODUCTION and entry.version == version for entry in model.history)


def failures(checks: list[GateCheck]) -> list[GateCheck]:
    return [check for check in checks if not check.passed]
