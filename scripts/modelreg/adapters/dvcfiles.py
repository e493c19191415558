"""Reading dvc.yaml, dvc.lock and .dvc files as data, without importing DVC.

`modelreg validate --dvc` and `register` need only what these small files
record; DVC itself (a second of imports) is loaded only to move bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core import yamlread
from ..core.problems import ModelregError, Problem


@dataclass
class OutRecord:
    """What DVC recorded for one output: where, and by which stage."""

    path: str
    md5: str
    size: int | None
    source: str  # "dvc.lock" or the .dvc file
    stage: str | None = None
    nfiles: int | None = None


@dataclass
class StageLock:
    name: str
    deps: list[dict] = field(default_factory=list)
    outs: list[dict] = field(default_factory=list)
    params: dict[str, dict] = field(default_factory=dict)


def _load_yaml(path: Path) -> Any:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return None
    data, _ = yamlread.load(text, str(path))
    return data


def read_dvc_yaml(root: Path) -> dict:
    return _load_yaml(root / "dvc.yaml") or {}


def read_lock(root: Path, text: str | None = None) -> dict[str, StageLock]:
    if text is not None:
        data, _ = yamlread.load(text, "dvc.lock") if text else (None, None)
    else:
        data = _load_yaml(root / "dvc.lock")
    stages = {}
    for name, stage in ((data or {}).get("stages") or {}).items():
        stages[name] = StageLock(name, stage.get("deps") or [], stage.get("outs") or [],
                                 stage.get("params") or {})
    return stages


def outputs(lock: dict[str, StageLock]) -> set[str]:
    """Every path some stage of dvc.lock produces: data, as opposed to code kept in git."""
    return {out["path"].rstrip("/") for stage in lock.values() for out in stage.outs}


def _norm(path: str) -> str:
    return str(Path(path).as_posix()).rstrip("/")


def find_out(root: Path, path: str, lock_text: str | None = None,
             dvc_file_text: str | None = None) -> OutRecord | None:
    """DVC's record of `path`: the dvc.lock output, or the `path`.dvc file."""
    target = _norm(path)
    for stage in read_lock(root, lock_text).values():
        for out in stage.outs:
            if _norm(out.get("path", "")) == target and out.get("md5"):
                return OutRecord(target, out["md5"], out.get("size"), "dvc.lock", stage.name, out.get("nfiles"))
    dvc_file = root / (target + ".dvc")
    if dvc_file_text is not None:
        data, _ = yamlread.load(dvc_file_text, str(dvc_file)) if dvc_file_text else (None, None)
    else:
        data = _load_yaml(dvc_file)
    for out in (data or {}).get("outs") or []:
        if out.get("md5"):
            return OutRecord(target, out["md5"], out.get("size"), f"{target}.dvc", None, out.get("nfiles"))
    return None


def artifact(root: Path, name: str) -> dict | None:
    return (read_dvc_yaml(root).get("artifacts") or {}).get(name)


def metrics_files(root: Path, name: str) -> list[str]:
    """The metrics files that describe `name`: its artifacts meta, else every metrics file of dvc.yaml."""
    spec = read_dvc_yaml(root)
    meta = ((spec.get("artifacts") or {}).get(name) or {}).get("meta") or {}
    if meta.get("metrics"):
        return [meta["metrics"]] if isinstance(meta["metrics"], str) else list(meta["metrics"])
    files = list(spec.get("metrics") or [])
    for stage in (spec.get("stages") or {}).values():
        for item in stage.get("metrics") or []:
            files.append(item if isinstance(item, str) else next(iter(item)))
    return files


def read_metrics(root: Path, files: list[str]) -> dict[str, float]:
    """Numeric metrics from JSON (or YAML) files, nested keys joined with dots."""
    metrics: dict[str, float] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), child)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            metrics[prefix] = value

    for name in files:
        path = root / name
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            raise ModelregError([Problem(name, None, None, "", "metrics file not found",
                                         "run the pipeline (dvc repro) first")]) from None
        try:
            data = json.loads(text) if name.endswith(".json") else yamlread.load(text, name)[0]
        except json.JSONDecodeError as error:
            raise ModelregError([Problem(name, error.lineno, error.colno, "", f"not valid JSON: {error.msg}")]) \
                from None
        walk("", data)
    return metrics
