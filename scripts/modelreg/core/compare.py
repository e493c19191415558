"""Side-by-side comparison of a model's versions. Pure: used by the CLI, PR bodies and comments."""

from __future__ import annotations

from dataclasses import dataclass, field

from . import gates
from . import signature as signatures
from .registry import PRODUCTION, Model, Version, version_key


@dataclass
class Comparison:
    model: Model
    versions: list[Version]
    baseline: Version | None  # the production version deltas are measured against
    metrics: list[str]
    best: str | None
    gate_results: dict[str, dict[str, list[gates.GateCheck]]] = field(default_factory=dict)
    differing_params: dict[str, dict[str, object]] = field(default_factory=dict)
    data: dict[str, dict | None] = field(default_factory=dict)
    signatures: dict[str, dict | None] = field(default_factory=dict)  # version -> its input signature
    signature_changes: dict[str, signatures.SignatureChange] = field(default_factory=dict)  # against the baseline

    @property
    def has_signatures(self) -> bool:
        return any(s is not None for s in self.signatures.values())

    def delta(self, version: Version, metric: str) -> float | None:
        if self.baseline is None or version.name == self.baseline.name:
            return None
        ours, theirs = version.metrics.get(metric), self.baseline.metrics.get(metric)
        return None if ours is None or theirs is None else ours - theirs

    def passes(self, version: Version) -> list[str]:
        return [stage for stage, checks in self.gate_results[version.name].items()
                if checks and all(c.passed for c in checks)]

    def as_dict(self) -> dict:
        return {
            "model": self.model.name,
            "metric": self.model.metric,
            "goal": self.model.goal,
            "baseline": self.baseline.name if self.baseline else None,
            "best": self.best,
            "versions": [{
                "version": v.name,
                "stages": self.model.stages_of(v.name),
                "archived": v.archived,
                "metrics": v.metrics,
                "deltas": {m: self.delta(v, m) for m in self.metrics},
                "gates": {stage: [{"gate": c.name, "passed": c.passed, "detail": c.detail} for c in checks]
                          for stage, checks in self.gate_results[v.name].items()},
                "data": v.data,
                "signature": self.signatures.get(v.name),
                "signature_change": self.signature_changes[v.name].as_dict()
                if v.name in self.signature_changes else None,
            } for v in self.versions],
            "differing_params": self.differing_params,
        }


def flatten(params: dict, prefix: str = "") -> dict:
    """{"train": {"max_depth": 6}} -> {"train.max_depth": 6}: how params are compared and shown."""
    flat: dict = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, name + "."))
        else:
            flat[name] = value
    return flat


def compare(model: Model, names: list[str] | None, stage_names: tuple[str, ...]) -> Comparison:
    if names:
        versions = [model.versions[n] for n in names]
    else:
        versions = [v for v in model.versions.values() if not v.archived]
    production_name = model.stages.get(PRODUCTION)
    baseline = model.versions.get(production_name) if production_name else None
    if baseline is not None and baseline not in versions:
        versions.append(baseline)
    versions.sort(key=lambda v: version_key(v.name))
    metrics = sorted({m for v in versions for m in v.metrics},
                     key=lambda m: (m != model.metric, m))
    best = model.best_version(versions)
    result = Comparison(model, versions, baseline, metrics, best.name if best else None)
    for version in versions:
        result.gate_results[version.name] = {
            stage: gates.evaluate(model, stage, version, baseline,
                                  rollback=gates.held_production_before(model, version.name))
            for stage in stage_names if stage in model.gates}
    flat = {v.name: flatten(v.params) for v in versions}
    for key in sorted({k for params in flat.values() for k in params}):
        values = {name: params.get(key) for name, params in flat.items()}
        if len({repr(x) for x in values.values()}) > 1:
            result.differing_params[key] = values
    result.data = {v.name: v.data for v in versions}
    result.signatures = {v.name: signatures.signature_of(model, v) for v in versions}
    if baseline is not None:
        for version in versions:
            if version.name != baseline.name:
                result.signature_changes[version.name] = signatures.compare(result.signatures.get(baseline.name),
                                                                            result.signatures[version.name])
    return result
