"""Deploy: pull exactly the artifact that holds a stage, verified, and smoke-test it.

For each model with a version in the stage (or just one model): pull it by md5
from the registry remote into deploy/NAME/, verify it, load it, and predict on
the sample input kept beside the model (models/NAME/sample.json). A pickle or joblib
version is refused before it is pulled unless `allow_pickle` (loading one runs code).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..adapters import registry_file
from ..core.lookup import Reference
from ..core.problems import ModelregError
from ..core.registry import Registry
from ..core.signature import check_rows, signature_of
from .artifacts import check_loadable, load_verified, pull, resolve_reference


@dataclass(frozen=True)
class Deployed:
    name: str
    version: str
    md5: str
    outcome: str  # what the smoke test did, in words


def deploy(stage: str = "production", model: str = "", into: Path = Path("deploy"),
           allow_pickle: bool = False) -> list[Deployed]:
    registry = Registry(registry_file.load().data)
    names = [model] if model else [m.name for m in registry.models() if stage in m.stages]
    done = []
    for name in names:
        answer = resolve_reference(Reference(name, stage=stage))
        check_loadable(answer, allow_pickle)
        target = pull(answer, into / name / Path(answer.path).name)
        loaded = load_verified(target, answer.format, allow_pickle=allow_pickle)
        sample = Path(answer.path).parent / "sample.json"
        if not hasattr(loaded, "predict"):
            outcome = "loaded (not a predictor: no smoke test)"
        elif not sample.is_file():
            raise ModelregError(f"{name} {answer.version}: no sample input at {sample}; the smoke test needs one "
                                "(rows the model must answer) so a deploy cannot pass without predicting")
        else:
            rows = _sample_rows(sample)
            problems = check_rows(signature_of(registry.model(name), answer.version), rows)
            if problems:
                raise ModelregError(f"{name} {answer.version}: the sample input does not fit the version's input "
                                    f"signature: {'; '.join(problems)}")
            predictions = loaded.predict(rows)
            outcome = f"{len(predictions)} predictions on {sample}"
        done.append(Deployed(name, answer.version, answer.md5, outcome))
    return done


def _sample_rows(sample: Path) -> list:
    try:
        rows = json.loads(sample.read_text("utf-8"))["rows"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ModelregError(f"{sample}: not a sample input ({{\"rows\": [[...], ...]}}): {error}") from None
    if not isinstance(rows, list) or not rows:
        raise ModelregError(f"{sample}: \"rows\" must be a non-empty list of rows")
    return rows
