"""modelreg init: adopt the registry in an existing repository, never overwriting a file."""

from __future__ import annotations

import argparse
from importlib import resources
from pathlib import Path

from ..core.problems import ModelregError


def add_parser(sub) -> None:
    parser = sub.add_parser("init", help="add the registry, schema, workflows, CODEOWNERS and hooks to this repository")
    parser.add_argument("--owner", action="append", default=[], metavar="LOGIN",
                        help="owner of the models found in dvc.yaml (repeatable; default: none)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ..adapters import registry_file
    from ..adapters import dvcfiles, git
    from ..core.formats import FORMATS_BY_SUFFIX
    from ..core.policy import maintainers
    from ..views.codeowners import codeowners_text
    from ..core.edit import block_lines
    from ..core.registry import NAME_RE, Registry
    from ..core.schema import schema_text

    root = git.toplevel(Path.cwd())
    artifacts = (dvcfiles.read_dvc_yaml(root).get("artifacts") or {}) if (root / "dvc.yaml").exists() else {}
    models = {}
    for name, spec in artifacts.items():
        if not NAME_RE.match(str(name)) or not isinstance(spec, dict) or not spec.get("path"):
            print(f"skipped dvc.yaml artifact {name!r}: not a registry name (lowercase letters, digits, dashes) "
                  "or no path")
            continue
        model = {"description": spec.get("desc", ""), "path": spec["path"],
                 "format": FORMATS_BY_SUFFIX.get(Path(spec["path"]).suffix, "directory"),
                 "owners": list(args.owner), "stages": {}, "versions": {}, "history": []}
        models[str(name)] = {k: v for k, v in model.items() if v != "" or k != "description"}
    lines = [registry_file.SCHEMA_LINE,
             "# The model registry: which versions exist and which version holds each stage.",
             "# Change it with modelreg register | promote | archive | rollback, in a pull request.",
             "schema: 1"]
    lines += ["models:"] + [line for name, model in models.items() for line in block_lines(name, model, 2)] \
        if models else ["models: {}"]
    registry_text = "\n".join(lines) + "\n"
    existing = root / "models" / "registry.yaml"
    # the registry that is there decides the owners and artifacts; otherwise the one made from dvc.yaml
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
    for line in written:
        print(f"wrote {line}")
    for line in skipped:
        print(f"skipped {line}")
    print("next: commit these files, set the branch ruleset (README), and run modelreg validate")
    return 0


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
