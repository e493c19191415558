"""modelreg init: adopt the registry in an existing repository, never overwriting a file."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ..core.problems import ModelregError


def add_parser(sub) -> None:
    parser = sub.add_parser("init", help="add the registry, schema, workflows, CODEOWNERS and hooks to this repository")
    parser.add_argument("--owner", action="append", default=[], metavar="LOGIN",
                        help="owner of the models found in dvc.yaml (repeatable; default: none)")
    parser.add_argument("--metric", metavar="NAME",
                        help="the primary metric of the models (one their evaluation stage writes); without it "
                             "init lists the metrics it found")
    parser.add_argument("--goal", choices=("max", "min"),
                        help="whether a higher or lower --metric is better (default: min for losses and errors, "
                             "else max)")
    parser.set_defaults(run=run)


_LOWER_IS_BETTER = ("loss", "error", "mse", "mae", "rmse", "mape", "logloss", "perplexity", "latency")


def run(args: argparse.Namespace) -> int:
    from ..adapters import registry_file
    from ..adapters import dvcfiles, git
    from ..views.codeowners import codeowners_text
    from ..core.policy import maintainers
    from ..core.registry import Registry
    from ..core.schema import schema_text

    root = git.toplevel(Path.cwd())
    spec = dvcfiles.read_dvc_yaml(root) if (root / "dvc.yaml").exists() else {}
    artifacts = spec.get("artifacts") or {}
    found, messages = _models(root, spec, args)
    registry_text = _registry_text(found)
    existing = root / "models" / "registry.yaml"
    # the registry that is there decides the owners and artifacts; otherwise the one made from the project
    registry_data = registry_file.load(existing).data if existing.exists() \
        else registry_file.parse(registry_text, "models/registry.yaml")[0]
    registry = Registry(registry_data)
    templates = resources.files("modelreg").joinpath("templates")
    files: dict[str, str] = {
        "models/registry.yaml": registry_text,
        "models/registry.schema.json": schema_text(),
        # CODEOWNERS matches the registry that is (or will be) there
        ".github/CODEOWNERS": codeowners_text(registry, maintainers=maintainers(registry_data)),
        ".github/zizmor.yml": templates.joinpath("zizmor.yml").read_text("utf-8"),
        ".pre-commit-config.yaml": PRE_COMMIT,
    }
    for workflow in templates.joinpath("workflows").iterdir():
        files[f".github/workflows/{workflow.name}"] = workflow.read_text("utf-8")
    written, skipped = [], []
    for relative, text in files.items():
        target = root / relative
        if target.exists():
            skipped.append(f"{relative}: exists, left as it is")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, "utf-8")
        written.append(relative)
    declared = _declare_artifacts(root, registry, artifacts)
    if declared:
        written.append(f"dvc.yaml: declared {', '.join(declared)} under artifacts:")
    elif registry.model_names:
        skipped.append("dvc.yaml: its artifacts: section already declares every model")
    for line in messages:
        print(line)
    for line in written:
        print(f"wrote {line}")
    for line in skipped:
        print(f"skipped {line}")
    gto = _gto_tags(root)
    if gto:
        print(gto)
    print("next: commit these files, set the branch ruleset (README), and run modelreg validate")
    return 0


@dataclass
class Found:
    name: str
    model: dict
    metrics: dict[str, float]
    metric_files: list[str]


def _models(root: Path, spec: dict, args: argparse.Namespace) -> tuple[list[Found], list[str]]:
    """The project's models: the `type: model` artifacts of dvc.yaml and GTO's artifacts.yaml, each with the
    metrics of the stage that evaluates it; and what init has to say about them."""
    from ..adapters import dvcfiles
    from ..core import yamlread
    from ..core.formats import FORMATS_BY_SUFFIX
    from ..core.registry import NAME_RE

    declared: dict[str, tuple[str, dict]] = {}
    for name, entry in (spec.get("artifacts") or {}).items():
        declared[str(name)] = ("dvc.yaml", entry)
    gto_index = root / "artifacts.yaml"
    if gto_index.is_file():
        try:
            index = yamlread.load(gto_index.read_text("utf-8"), "artifacts.yaml")[0]
        except ModelregError:
            index = None
        for name, entry in (index.items() if isinstance(index, dict) else ()):
            if isinstance(entry, dict):
                entry = {**entry, "desc": entry.get("description") or entry.get("desc")}
            declared.setdefault(str(name), ("artifacts.yaml", entry))
    found: list[Found] = []
    messages: list[str] = []
    for name, (source, entry) in declared.items():
        if not isinstance(entry, dict) or not entry.get("path"):
            messages.append(f"skipped {source} artifact {name!r}: no path")
            continue
        if entry.get("type") != "model":
            kind = f"type: {entry['type']}" if entry.get("type") else "no type"
            messages.append(f"skipped {source} artifact {name!r} ({kind}): only type: model artifacts are models")
            continue
        if not NAME_RE.match(name):
            messages.append(f"skipped {source} artifact {name!r}: not a registry name (lowercase letters, digits, "
                            "dashes)")
            continue
        path = str(entry["path"])
        meta = entry.get("meta") if isinstance(entry.get("meta"), dict) else {}
        model: dict[str, Any] = {"description": entry.get("desc") or "", "path": path,
                                 "format": meta.get("format") or FORMATS_BY_SUFFIX.get(Path(path).suffix, "directory"),
                                 "owners": list(args.owner)}
        if not model["description"]:
            del model["description"]
        files = dvcfiles.metrics_files(root, name, spec=spec, path=path)
        evaluating = dvcfiles.evaluating_stages(spec, path)
        if meta.get("metrics"):
            where = f"artifacts meta ({', '.join(files)})"
        elif evaluating:
            where = f"stage {', '.join(evaluating)} ({', '.join(files)})"
        else:
            where = ""
            messages.append(f"{name}: no stage evaluates {path} (a stage with it among its deps and a metrics: "
                            "output)" + (f"; register reads every metrics file of dvc.yaml for it "
                                         f"({', '.join(files)})" if files else "; its versions will have no "
                                                                               "metrics"))
            files = []
        present = [f for f in files if (root / f).is_file()]
        try:
            metrics = dvcfiles.read_metrics(root, present)
        except ModelregError:
            metrics = {}
        if args.metric:
            if metrics and args.metric not in metrics:
                messages.append(f"{name}: {where} has no metric {args.metric!r} (found: {', '.join(sorted(metrics))}"
                                "); primary metric not set")
            else:
                goal = args.goal or ("min" if any(w in args.metric.lower() for w in _LOWER_IS_BETTER) else "max")
                model["metric"] = {"name": args.metric, "goal": goal}
                messages.append(f"{name}: primary metric {args.metric} ({goal})" + (f", from {where}" if where
                                                                                     else ""))
        elif metrics:
            messages.append(f"{name}: metrics found in {where}: {', '.join(sorted(metrics))}; set the primary one "
                            f"with --metric NAME (e.g. --metric {sorted(metrics)[0]})")
        elif files:
            messages.append(f"{name}: metrics come from {where}, which is not in the workspace yet (dvc repro); "
                            "set the primary one with --metric NAME")
        model.update({"stages": {}, "versions": {}, "history": []})
        found.append(Found(name, model, metrics, files))
    return found, messages


def _registry_text(found: list[Found]) -> str:
    from ..adapters import registry_file
    from ..core.edit import block_lines

    lines = [registry_file.SCHEMA_LINE,
             "# The model registry: which versions exist and which version holds each stage.",
             "# Change it with modelreg register | promote | archive | rollback, in a pull request.",
             "schema: 1"]
    if not found:
        return "\n".join(lines + ["models: {}"]) + "\n"
    lines.append("models:")
    for item in found:
        lines.append(f"  {item.name}:")
        for key, value in item.model.items():
            if key == "stages":
                lines += suggested_gates(item)
            lines += block_lines(key, value, 4)
    return "\n".join(lines) + "\n"


def suggested_gates(item: Found) -> list[str]:
    """Gates to start from, as YAML comments inside the model (uncomment to enforce)."""
    metric = item.model.get("metric") or {}
    name, goal = metric.get("name"), metric.get("goal", "max")
    lines = ["    # Suggested gates: uncomment and adjust. modelreg checks them before every promotion, and the",
             "    # pull request check runs the same code. signature: compatible is production's default."]
    value = item.metrics.get(name) if name else None
    if name and value is not None:
        bound = "min" if goal == "max" else "max"
        staging, production = (_round(value * 0.95), _round(value * 0.98)) if goal == "max" \
            else (_round(value * 1.05), _round(value * 1.02))
        lines += ["    # gates:",
                  f"    #   staging: {{{name}: {{{bound}: {staging:g}}}}}",
                  f"    #   production: {{{name}: {{{bound}: {production:g}}}, beat_production: 0.0, "
                  "signature: compatible}"]
    elif name:
        lines += ["    # gates:",
                  f"    #   staging: {{{name}: {{{'min' if goal == 'max' else 'max'}: ...}}}}",
                  "    #   production: {beat_production: 0.0, signature: compatible}"]
    else:
        known = ", ".join(sorted(item.metrics)) or "the metrics your evaluation writes"
        lines += [f"    # metric: {{name: ..., goal: max}}   # one of: {known}",
                  "    # gates:",
                  "    #   production: {beat_production: 0.0, signature: compatible}"]
    return lines


def _round(value: float) -> float:
    """Three significant digits: a bound people can read."""
    return float(f"{value:.3g}")


def _gto_tags(root: Path) -> str:
    """What init says about GTO's tags in the repository (not modelreg's own): how many, for which
    artifacts, which stage names the registry lacks, and what to run."""
    from ..flows.import_gto import read_tags

    tags, _ = read_tags(root)
    if not tags:
        return ""
    artifacts = sorted({t.artifact for t in tags})
    stages = sorted({t.stage for t in tags if t.stage})
    example = ", ".join(t.name for t in tags[:3])
    text = (f"found {len(tags)} GTO tag(s) for {', '.join(artifacts)} (e.g. {example}): run `modelreg import-gto` "
            "to bring their versions, stage history and deprecations into models/registry.yaml (docs/adoption.md)")
    unknown = [s for s in stages if s not in ("staging", "production")]
    if unknown:
        text += (f"; GTO uses stage(s) {', '.join(unknown)}: map them, e.g. `modelreg import-gto --stage "
                 f"{unknown[0]}=production`, or add them to settings.stages")
    return text


def _declare_artifacts(root: Path, registry, artifacts: dict) -> list[str]:
    """Add the registry's models to dvc.yaml's artifacts: section, as a minimal edit of the file."""
    from ..core import edit, yamlread

    missing = {model.name: {"path": model.path, "type": "model", **({"desc": model.description}
                                                                      if model.description else {})}
               for model in registry.models() if model.name not in artifacts}
    if not missing:
        return []
    path = root / "dvc.yaml"
    text = path.read_text("utf-8") if path.exists() else ""
    old = (yamlread.load(text, "dvc.yaml")[0] if text.strip() else None) or {}
    if not isinstance(old, dict):
        raise ModelregError("dvc.yaml is not a mapping; add an artifacts: section by hand")
    new = {**old, "artifacts": {**(old.get("artifacts") or {}), **missing}}
    result = edit.rewrite(text, old, new) if old else edit.rewrite("{}\n", {}, new)
    if yamlread.load(result, "dvc.yaml")[0] != new:  # the same safety net as registry writes
        raise ModelregError("could not add the artifacts: section to dvc.yaml as a minimal edit; add it by hand")
    path.write_text(result, "utf-8")
    return list(missing)


PRE_COMMIT = """# Runs modelreg validate before each commit that touches the registry (pip install pre-commit).
repos:
  - repo: local
    hooks:
      - id: modelreg-validate
        name: modelreg validate
        entry: modelreg validate
        language: system
        files: ^(models/registry\\.yaml|\\.github/CODEOWNERS)$
        pass_filenames: false
"""
