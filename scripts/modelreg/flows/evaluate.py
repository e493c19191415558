"""Re-evaluate a candidate with reviewed code: the base's evaluation, the candidate's bytes, fixed data.

A model declares its evaluation in the registry's policy (so the base's
declaration is the one used):

    evaluation: {stage: evaluate, data: data/prepared, tolerance: {default: 0.001, roc_auc: 0.005}}

or `evaluation: {skip: "too large to re-evaluate on a runner"}`. The base
commit's files are exported into a scratch folder; the candidate artifact is
fetched by md5 from `candidates` and the evaluation data by the md5 the base's
DVC records give it, both verified; the stage's command (from the base's
dvc.yaml) runs there with no secrets in its environment; its metrics file is
read back and compared with the registered metrics (core/reproduction.py).
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..adapters import dvc, dvcfiles, git
from ..core.policy import under_base_policy
from ..core.problems import ModelregError
from ..core.registry import PRODUCTION, Registry
from ..core.reproduction import Reproduction, compare

SAFE_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONHASHSEED", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE",
            "OMP_NUM_THREADS")


def evaluate(root: Path, base: str, head_data: dict, name: str, version_name: str, stages: list[str], *,
             base_data: dict | None, remote: str = dvc.CANDIDATES, timeout: int = 3600,
             head: str | None = None) -> Reproduction:
    """Reproduce `name` `version_name` of `head_data` with the evaluation the base declares."""
    effective = Registry(under_base_policy(base_data, head_data))
    model = effective.model(name)
    version = model.version(version_name) if model else None
    if model is None or version is None:
        raise ModelregError(f"{name} has no version {version_name} in the registry being evaluated")
    spec = model.raw.get("evaluation")
    result = Reproduction(name, version_name, version.md5, version.format or model.format, head=head)
    if not isinstance(spec, dict):
        result.skipped = "the model declares no evaluation"
        return result
    if spec.get("skip"):
        result.skipped = f"skipped by policy: {spec['skip']}"
        return result
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="modelreg-evaluate-") as scratch:
        work = Path(scratch) / "workspace"
        try:
            reproduced = _run(root, base, work, model.path, version.md5, version.size, spec, remote, timeout)
        except ModelregError as error:
            result.error = error.problems[0].message
            return result
    production_name = (Registry(base_data or {"models": {}}).model(name) or model).stages.get(PRODUCTION)
    production = model.version(production_name) if production_name else None
    result.metrics, result.gate_failures = compare(spec, model, version, reproduced, stages, production)
    result.seconds = round(time.monotonic() - started, 1)
    return result


def _run(root: Path, base: str, work: Path, artifact: str, md5: str, size: int, spec: dict, remote: str,
         timeout: int) -> dict[str, float]:
    work.mkdir()
    git.export_tree(base, work, root)
    stage_name, data_path = spec.get("stage"), spec.get("data")
    stage = (dvcfiles.read_dvc_yaml(work).get("stages") or {}).get(stage_name) if stage_name else None
    command = spec.get("command") or (stage or {}).get("cmd")
    if not command:
        raise ModelregError(f"the evaluation names stage {stage_name!r}, which the base's dvc.yaml does not have")
    metrics_files = [spec["metrics"]] if spec.get("metrics") else _stage_metrics(stage or {})
    if not metrics_files:
        raise ModelregError("the evaluation writes no metrics file: declare evaluation.metrics or a metrics "
                            "output of the stage")
    dvc.pull(root, md5, dvc.inside(work, artifact), remote=remote, size=size)
    if data_path:
        record = dvcfiles.find_out(work, data_path)
        if record is None:
            raise ModelregError(f"the base's DVC files record no md5 for the evaluation data {data_path}")
        dvc.pull(root, record.md5, dvc.inside(work, data_path), remote=spec.get("remote") or dvc.CANDIDATES)
    for name in metrics_files:
        (work / name).unlink(missing_ok=True)  # a committed metrics file must not pass for a reproduction
    env = {key: os.environ[key] for key in SAFE_ENV if key in os.environ}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "/usr/bin:/bin")])
    commands = command if isinstance(command, list) else [command]
    for line in commands:
        try:
            done = subprocess.run(shlex.split(line), cwd=work, env=env, capture_output=True, text=True,
                                  timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ModelregError(f"the evaluation command {line!r} could not run: {error}") from None
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            raise ModelregError(f"the evaluation command {line!r} failed ({done.returncode}): {' | '.join(tail)}")
    return dvcfiles.read_metrics(work, metrics_files)


def _stage_metrics(stage: dict) -> list[str]:
    names = []
    for item in stage.get("metrics") or []:
        names.append(next(iter(item)) if isinstance(item, dict) else str(item))
    return names
