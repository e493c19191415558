"""Every validation rule of DESIGN.md, as pure functions returning Problems.

check_state() looks at one registry; check_change() at the step from one
registry to the next (the PR check and every write run both).
"""

from __future__ import annotations

from typing import Any

from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from . import gates
from .diff import STAGE_ASSIGNED, Event, diff
from .paths import path_problems
from .problems import Problem, dotted
from .registry import PRODUCTION, Model, Registry, Version
from .schema import _kind, _show, schema_errors
from .positions import locate, tree
from .yamlread import construct


class _Collector:
    def __init__(self, filename: str, root: Any):
        self.filename, self.root, self.items = filename, root, []

    def add(self, path: tuple, message: str, hint: str = "", key: bool = False) -> None:
        path = _spelled(self.root, path)
        where = locate(self.root, path, key=key) if self.root is not None else None
        line, column = where if where else (None, None)
        self.items.append(Problem(self.filename, line, column, dotted(path), message, hint))


def _spelled(root: Any, path: tuple) -> tuple:
    """`path` with each mapping key as the file spells it, so that a key YAML typed (true, ~, 0x1f)
    is found at its own line and shown as written, not as Python's True, None or 31."""
    node, spelled = tree(root), []
    for step in path:
        if isinstance(node, MappingNode):
            found = next((pair for pair in node.value if _is_key(pair[0], step)), None)
            if found is None:
                break
            spelled.append(found[0].value)
            node = found[1]
        elif isinstance(node, SequenceNode) and type(step) is int and 0 <= step < len(node.value):
            spelled.append(step)
            node = node.value[step]
        else:
            break
    return tuple(spelled) + tuple(path[len(spelled):])


def _is_key(node: Any, step: Any) -> bool:
    if not isinstance(node, ScalarNode):
        return False
    if isinstance(step, str):
        return node.value == step
    value = construct(node, False)
    return type(value) is type(step) and value == step


def check_state(data: Any, root: Any, filename: str) -> list[Problem]:
    out = _Collector(filename, root)
    flagged = set()
    for path, message, hint in schema_errors(data):
        out.add(path, message, hint, key=message.startswith(("unknown field", "key ")))
        flagged.add(path)
    if not isinstance(data, dict) or not isinstance(data.get("models"), dict):
        return out.items
    registry = Registry(data)
    names = registry.stage_names if _is_str_list(registry.settings.get("stages")) else None
    if names is not None:
        approval = registry.settings.get("require_approval")
        for stage in approval if isinstance(approval, list) else ():
            if stage not in names:
                out.add(("settings", "require_approval"), f"'{stage}' is not a configured stage",
                        f"configured: {', '.join(names)}")
    for name in registry.model_names:
        raw = data["models"][name]
        if isinstance(raw, dict):
            _check_model(Model(str(name), raw), names or (), out)
    paths = [(name, raw["path"]) for name, raw in data["models"].items()  # a path the schema refused: said
             if isinstance(raw, dict) and isinstance(raw.get("path"), str) and ("models", name, "path") not in flagged]
    for name, message, hint in path_problems(paths):
        out.add(("models", name, "path"), message, hint)
    return out.items


def _is_str_list(value: Any) -> bool:
    return value is None or (isinstance(value, list) and all(isinstance(v, str) for v in value))


def _check_model(model: Model, stage_names: tuple[str, ...], out: _Collector) -> None:
    base = ("models", model.name)
    versions = model.raw.get("versions") if isinstance(model.raw.get("versions"), dict) else {}
    known = ", ".join(sorted(str(v) for v in versions)) or "none"  # a key YAML typed (1.2, true) is a schema error
    configured = ", ".join(stage_names)
    for section in ("stages", "gates"):
        value = model.raw.get(section)
        for stage in value if isinstance(value, dict) and stage_names else ():
            if stage not in stage_names:
                out.add(base + (section, stage), f"unknown stage '{stage}' (configured: {configured})",
                        "fix the name, or add it to settings.stages", key=True)
    by_md5: dict[str, str] = {}
    for version, record in versions.items():
        if isinstance(record, dict):  # params is the one free-form mapping: the schema checks every other key
            _string_keys(record.get("params"), base + ("versions", version, "params"), out)
        if isinstance(record, dict) and isinstance(record.get("md5"), str):
            first = by_md5.setdefault(record["md5"], version)
            if first != version:
                out.add(base + ("versions", version, "md5"),
                        f"{version} has the same md5 as {first}: one artifact is registered twice",
                        f"remove {version}, or register the artifact you meant")
    stages = model.raw.get("stages")
    for stage, holder in (stages.items() if isinstance(stages, dict) else ()):
        if not isinstance(holder, str):
            continue
        record = versions.get(holder)
        if not isinstance(record, dict):
            out.add(base + ("stages", stage), f"{holder} is not a registered version (registered: {known})",
                    "point the stage at a registered version")
            continue
        if record.get("archived"):
            out.add(base + ("stages", stage), f"{holder} is archived ({record['archived']}) and cannot hold "
                    f"{stage}", "promote another version, or remove the stage")
            continue
        version = _version(model, holder)
        if version is None:
            continue  # its record is malformed; the schema errors say how
        for check in gates.failures(gates.evaluate(model, stage, version)):
            if check.name != "beat_production":
                out.add(base + ("stages", stage), f"{holder} fails the {stage} gate: {check.detail}",
                        "promote a version that passes, or change the gate under review")
    _check_history(model, stage_names, versions, out)


def _version(model: Model, name: Any) -> Version | None:
    """The version `name` names, or None where there is none or its record is malformed (the schema says how)."""
    try:
        return model.version(name)
    except (KeyError, TypeError):
        return None


def _string_keys(value: Any, path: tuple, out: _Collector) -> None:
    """JSON has only string keys: refuse the ones YAML typed (1, true, null, 2026-01-01 stays text)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                out.add(path + (key,), f"key must be a string, not {_kind(key)} {_show(key)}",
                        "YAML reads it as a number, boolean or null: put it in quotes", key=True)
            _string_keys(item, path + (key,), out)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _string_keys(item, path + (index,), out)


def _check_history(model: Model, stage_names: tuple[str, ...], versions: dict, out: _Collector) -> None:
    base = ("models", model.name, "history")
    history = model.raw.get("history")
    if not isinstance(history, list):
        history = []
    last: dict[str, Any] = {}
    for index, entry in enumerate(history):
        if not isinstance(entry, dict):
            continue
        stage = entry.get("stage")
        if stage_names and isinstance(stage, str) and stage not in stage_names:
            out.add(base + (index, "stage"), f"unknown stage '{stage}'")
        for key in ("version", "previous"):
            value = entry.get(key)
            if isinstance(value, str) and value not in versions:
                out.add(base + (index, key), f"{value} is not a registered version")
        if isinstance(stage, str):
            last[stage] = (index, entry.get("version"))
    stages = model.raw.get("stages") if isinstance(model.raw.get("stages"), dict) else {}
    for stage in set(stages) | set(last):
        holder = stages.get(stage)
        if stage not in last:
            if holder is not None:
                out.add(("models", model.name, "stages", stage),
                        f"{stage} holds {holder} but history has no entry for {stage}",
                        "add a history entry that records who put it there and why")
            continue
        index, recorded = last[stage]
        if recorded != holder:
            out.add(base + (index,), f"the last history entry for {stage} says {recorded}, but {stage} "
                    f"holds {holder}", "stage changes and history entries go together")


def check_change(old: dict | None, new: dict, root: Any, filename: str) -> tuple[list[Event], list[Problem]]:
    """Events of the step old -> new, and the problems of the step itself."""
    events, violations = diff(old, new)
    out = _Collector(filename, root)
    for violation in violations:
        out.add(violation.path, violation.message, violation.hint, key=violation.at_key)
    old_registry = Registry(old or {"models": {}})
    new_registry = Registry(new)
    for event in events:
        if event.kind != STAGE_ASSIGNED:
            continue
        model = new_registry.model(event.model)
        version = _version(model, event.version) if model else None
        if version is None:
            continue  # check_state reports the dangling pointer or the malformed record
        before = old_registry.model(event.model)
        production_name = before.stages.get(PRODUCTION) if before else None
        production = _version(before, production_name) if before and production_name else None
        rollback = before is not None and gates.held_production_before(before, event.version)
        for check in gates.failures(gates.evaluate(model, event.stage, version, production, rollback)):
            if check.name in ("beat_production", "signature"):  # need production as it was before the step
                out.add(("models", event.model, "stages", event.stage),
                        f"{event.version} fails the {event.stage} gate: {check.detail}",
                        "promote a better version, or change the gate under review")
    return events, out.items
