"""The package's folders are its layers, and imports run one way.

    commands, serving, api, cli  ->  flows  ->  views, adapters  ->  core

A module may import its own layer and the layers below it, never above; views
and adapters do not import each other (a view renders data, an adapter moves
it). The core imports nothing of the outside world but PyYAML and jsonschema.
Every import counts, including the ones inside functions.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "scripts" / "modelreg"

ALLOWED = {
    "core": {"core"},
    "adapters": {"core", "adapters"},
    "views": {"core", "views"},
    "flows": {"core", "adapters", "views", "flows"},
    "serving": {"core", "adapters", "views", "flows", "serving"},
    "commands": {"core", "adapters", "views", "flows", "serving", "commands"},
    "api": {"core", "flows"},
    "cli": {"core", "views", "commands", "package"},
    "package": {"package", "api", "cli"},  # modelreg/__init__.py and __main__.py
}
CORE_THIRD_PARTY = {"yaml", "jsonschema"}


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1 or parts[1] in ("__init__", "__main__"):
        return "package"
    return {"api": "api", "cli": "cli"}.get(parts[1], parts[1])


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path, package_dir: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(), str(path))
    name = module_name(path, package_dir)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if node.level and not node.module:  # from . import a, b: a name is a module or the package's
                folder = package_dir.parent.joinpath(*target.split("."))
                found += [(node.lineno, f"{target}.{alias.name}" if (folder / f"{alias.name}.py").exists()
                           or (folder / alias.name).is_dir() else target) for alias in node.names]
            else:
                found.append((node.lineno, target))
    return found


def violations(package: Path = PACKAGE) -> list[str]:
    wrong = []
    for path in sorted(package.rglob("*.py")):
        source = module_name(path, package)
        layer = layer_of(source)
        for line, target in imports(path, package):
            where = f"{path.relative_to(package.parent)}:{line}"
            if target == "modelreg" or target.startswith("modelreg."):
                if target == "modelreg":
                    continue
                if layer_of(target) not in ALLOWED[layer]:
                    wrong.append(f"{where}: {layer} may not import {target} ({layer_of(target)})")
            elif layer == "core":
                top = target.split(".")[0]
                if top not in CORE_THIRD_PARTY and top not in sys.stdlib_module_names and top != "__future__":
                    wrong.append(f"{where}: the core may not import {target}")
    return wrong


def test_every_module_belongs_to_a_layer():
    for path in PACKAGE.rglob("*.py"):
        assert layer_of(module_name(path)) in ALLOWED, f"{path}: not in a known layer; add its folder to ALLOWED"


def test_imports_run_one_way():
    assert violations() == []


def test_the_checker_sees_an_upward_import(tmp_path):
    """A planted upward import (core -> flows) must be reported, so the test above can fail."""
    fake = tmp_path / "modelreg"
    (fake / "core").mkdir(parents=True)
    (fake / "flows").mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "core" / "__init__.py").write_text("")
    (fake / "flows" / "__init__.py").write_text("")
    (fake / "flows" / "release.py").write_text("X = 1\n")
    (fake / "core" / "rules.py").write_text("def f():\n    from ..flows import release\n    import dvc\n")
    found = violations(fake)
    assert any("core/rules.py:2: core may not import modelreg.flows (flows)" in v for v in found)
    assert any("core/rules.py:3: the core may not import dvc" in v for v in found)
