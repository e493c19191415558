"""Reading dvc.yaml, dvc.lock and .dvc files as data, without importing DVC.

`modelreg validate --dvc` and `register` need only what these small files
record; DVC itself (a second of imports) is loaded only to move bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

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


def _stage_metrics(stage: Any) -> list[str]:
    files = []
    for item in (stage.get("metrics") or []) if isinstance(stage, dict) else []:
        if isinstance(item, str):
            files.append(item)
        elif isinstance(item, dict) and item:
            files.append(str(next(iter(item))))
    return files


def _covers(a: str, b: str) -> bool:
    """Whether paths a and b name the same data: equal, or one a folder holding the other."""
    a, b = _norm(a), _norm(b)
    return a == b or b.startswith(a + "/") or a.startswith(b + "/")


def evaluating_stages(spec: dict, path: str) -> list[str]:
    """The dvc.yaml stages that evaluate the artifact at `path`: it is among their deps and they write metrics."""
    names = []
    for name, stage in ((spec.get("stages") or {}) if isinstance(spec, dict) else {}).items():
        if not isinstance(stage, dict) or not _stage_metrics(stage):
            continue
        deps = [d for d in stage.get("deps") or [] if isinstance(d, str)]
        if any(_covers(dep, path) for dep in deps):
            names.append(str(name))
    return names


def metrics_files(root: Path, name: str, spec: dict | None = None, path: str | None = None) -> list[str]:
    """The metrics files that describe `name`: its artifacts meta; else those of the stages that evaluate
    its path (the model among their deps, a metrics output); else every metrics file of dvc.yaml."""
    spec = read_dvc_yaml(root) if spec is None else spec
    entry = (spec.get("artifacts") or {}).get(name) or {}
    meta = entry.get("meta") or {}
    if meta.get("metrics"):
        return [meta["metrics"]] if isinstance(meta["metrics"], str) else list(meta["metrics"])
    path = path or entry.get("path")
    if path:
        files = [f for stage in evaluating_stages(spec, path) for f in _stage_metrics(spec["stages"][stage])]
        if files:
            return list(dict.fromkeys(files))
    files = list(spec.get("metrics") or [])
    for stage in (spec.get("stages") or {}).values():
        files += _stage_metrics(stage)
    return files


def read_metrics(root: Path, files: list[str]) -> dict[str, float]:
    """Numeric metrics from JSON (or YAML) files, nested keys joined with dots."""
    return metrics_from(workspace(root), files)


def metrics_from(read: "Reader", files: list[str]) -> dict[str, float]:
    """read_metrics through a reader: the workspace, or a commit (`git show COMMIT:FILE`)."""
    metrics: dict[str, float] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for key, child in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), child)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            metrics[prefix] = value

    for name in files:
        text = read(name)
        if text is None:
            raise ModelregError([Problem(name, None, None, "", "metrics file not found",
                                         "run the pipeline (dvc repro) first")]) from None
        try:
            data = json.loads(text) if name.endswith(".json") else yamlread.load(text, name)[0]
        except json.JSONDecodeError as error:
            raise ModelregError([Problem(name, error.lineno, error.colno, "", f"not valid JSON: {error.msg}")]) \
                from None
        walk("", data)
    return metrics


# ---- the pipeline's graph, from dvc.lock: lineage over every stage upstream of a model ----

Reader = Callable[[str], "str | None"]  # a file's text by its repository path, or None when it is not there


def workspace(root: Path) -> Reader:
    """A reader of the working tree."""
    def read(relative: str) -> str | None:
        try:
            return (root / relative).read_text("utf-8")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    return read


@dataclass
class Lineage:
    """What DVC recorded about how an output was made: the stages up to it (sources first, its own
    last), their params, its direct data input and the pipeline's source inputs."""

    stages: list[StageLock] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    data: dict | None = None  # {path, md5, sources?}
    code: list[str] = field(default_factory=list)  # deps kept in git: the code and files of those stages
    param_files: list[str] = field(default_factory=list)


def _merge(into: dict, values: dict) -> None:
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _producer(lock: dict[str, StageLock], path: str) -> str | None:
    for stage in lock.values():
        if any(_covers(out.get("path", ""), path) for out in stage.outs):
            return stage.name
    return None


def upstream(lock: dict[str, StageLock], path: str) -> list[StageLock]:
    """The stages whose outputs `path` is made from, following outs -> deps: sources first, its producer last."""
    order: list[StageLock] = []
    seen: set[str] = set()

    def visit(target: str) -> None:
        name = _producer(lock, target)
        if name is None or name in seen:
            return
        seen.add(name)
        for dep in lock[name].deps:
            visit(dep.get("path", ""))
        order.append(lock[name])

    visit(path)
    return order


def lineage(read: Reader, path: str, lock_text: str | None = None) -> Lineage:
    """Lineage of `path` from dvc.lock (read through `read`, or given as text): every upstream stage's
    params, the producing stage's first DVC-tracked data input, and the pipeline's source inputs
    (deps no stage produces that a .dvc file tracks), each with the md5 its consumer recorded."""
    text = read("dvc.lock") if lock_text is None else lock_text
    lock = read_lock(Path("."), text or "")
    stages = upstream(lock, path)
    result = Lineage(stages)
    if not stages:
        return result
    produced = {_norm(out.get("path", "")) for stage in lock.values() for out in stage.outs}
    tracked: dict[str, bool] = {}

    def is_tracked(dep_path: str) -> bool:
        if dep_path not in tracked:
            tracked[dep_path] = read(dep_path + ".dvc") is not None
        return tracked[dep_path]

    def is_produced(dep_path: str) -> bool:
        return any(_covers(out, dep_path) for out in produced)

    for stage in stages:
        for values in stage.params.values():
            if isinstance(values, dict):
                _merge(result.params, values)
        result.param_files += [f for f in stage.params if f not in result.param_files]
    sources: list[dict] = []
    for stage in stages:
        for dep in stage.deps:
            dep_path = _norm(dep.get("path", ""))
            if is_produced(dep_path):
                continue
            if dep.get("md5") and is_tracked(dep_path):
                if all(s["path"] != dep_path for s in sources):
                    sources.append({"path": dep_path, "md5": dep["md5"]})
            elif dep_path not in result.code:
                result.code.append(dep_path)
    own = stages[-1]
    for dep in own.deps:
        dep_path = _norm(dep.get("path", ""))
        if dep.get("md5") and (is_produced(dep_path) or is_tracked(dep_path)):
            result.data = {"path": dep_path, "md5": dep["md5"]}
            break
    if result.data is not None:
        others = [s for s in sources if s["path"] != result.data["path"]]
        if others:
            result.data["sources"] = others
    elif sources:
        result.data = dict(sources[0])
        if sources[1:]:
            result.data["sources"] = sources[1:]
    return result
