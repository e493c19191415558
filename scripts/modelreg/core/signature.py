"""Model input signatures: what a version takes, recorded at registration. Pure.

A signature is what MLflow calls a model's input schema, kept to what a tabular
model needs and what the registry can know without running the model:

    signature: {features: 12, names: [f0, f1, ...], dtypes: [double, double, ...]}

`features` is always there; `names` and `dtypes` (MLflow's column types) only
where the artifact (scikit-learn's feature_names_in_) or the sample input kept
beside the model (models/NAME/sample.json) says them. From it:

- `build` / `from_sample` make one at registration;
- `compare` says whether a new version takes what the old one took (compatible)
  or not (breaking), with reasons - `compare` and the PR comment show it;
- `signature_gate` is the `signature` gate (`compatible` for production unless
  the gate says `signature: any`);
- `check_rows` tells a server, in words, why rows do not fit a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .registry import PRODUCTION, Model, Version

DTYPES = ("boolean", "integer", "long", "float", "double", "string", "binary", "datetime")  # MLflow's
GATE_VALUES = ("compatible", "any")
# a new version may accept more than the old one did: values of the old type still fit
_WIDER = {("integer", "long"), ("integer", "float"), ("integer", "double"), ("long", "float"), ("long", "double"),
          ("float", "double")}
_MAX_PROBLEMS = 8


# ---- building ----

def _dtype(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    return None


def _column_dtype(values: list[Any]) -> str | None:
    kinds = {_dtype(v) for v in values if v is not None}
    if not kinds or None in kinds:
        return None
    if len(kinds) == 1:
        return kinds.pop()
    if kinds <= {"long", "double"}:
        return "double"
    return None  # mixed kinds: no one type describes the column


def dtypes_of(rows: list[list[Any]], width: int) -> list[str] | None:
    """MLflow column types inferred from sample rows (as pandas reads JSON), or None when unclear."""
    if not rows or any(not isinstance(row, list) or len(row) != width for row in rows):
        return None
    types = [_column_dtype([row[i] for row in rows]) for i in range(width)]
    return None if any(t is None for t in types) else types  # type: ignore[return-value]


def from_sample(data: Any) -> tuple[list[str] | None, list[list[Any]]]:
    """(column names or None, rows as lists) from a sample input file's JSON.

    Accepted: {"columns": [...], "rows"|"data": [[...], ...]} (the template's sample.json,
    pandas' split orient), {"rows": [...]}, [[...], ...] and [{"name": value, ...}, ...].
    """
    names: list[str] | None = None
    rows: Any = data
    if isinstance(data, dict):
        columns = data.get("columns")
        names = [str(c) for c in columns] if isinstance(columns, list) else None
        rows = data.get("rows", data.get("data", data.get("inputs", [])))
    if not isinstance(rows, list):
        return names, []
    if rows and all(isinstance(row, dict) for row in rows):
        keys = list(rows[0])
        if all(list(row) == keys for row in rows):
            names = names or [str(k) for k in keys]
            return names, [[row[k] for k in keys] for row in rows]
        return names, []
    return names, [row for row in rows if isinstance(row, list)]


def build(*, features: int | None = None, names: list[str] | None = None,
          rows: list[list[Any]] | None = None) -> tuple[dict | None, list[str]]:
    """A signature from what is known, and notes on what was left out.

    `features` (the model's n_features_in_) decides the width when it is known;
    names and dtypes of another width are not recorded.
    """
    notes: list[str] = []
    rows = rows or []
    width = features
    if width is None:
        width = len(names) if names else (len(rows[0]) if rows and isinstance(rows[0], list) else None)
    if width is None:
        return None, notes
    signature: dict[str, Any] = {"features": int(width)}
    if names:
        if len(names) == width and len(set(names)) == len(names):
            signature["names"] = [str(n) for n in names]
        else:
            notes.append(f"{len(names)} feature names for {width} features; names not recorded")
    if rows:
        types = dtypes_of(rows, width)
        if types is not None:
            signature["dtypes"] = types
        elif rows and len(rows[0]) != width:
            notes.append(f"the sample rows have {len(rows[0])} values, the model takes {width}; dtypes not recorded")
    return signature, notes


def valid(signature: Any) -> bool:
    """A well-formed signature (the schema checks the file; this guards code paths that read raw data)."""
    if not isinstance(signature, dict):
        return False
    features = signature.get("features")
    if not isinstance(features, int) or isinstance(features, bool) or features < 0:
        return False
    for key in ("names", "dtypes"):
        value = signature.get(key)
        if value is not None and (not isinstance(value, list) or len(value) != features):
            return False
    return True


def describe(signature: dict | None) -> str:
    """A short text: '12 features', '3 features (age, income, plan)'."""
    if not valid(signature):
        return "-"
    assert signature is not None
    text = f"{signature['features']} feature{'s' if signature['features'] != 1 else ''}"
    names = signature.get("names")
    if names:
        shown = ", ".join(names[:4]) + (", …" if len(names) > 4 else "")
        text += f" ({shown})"
    return text


# ---- comparing ----

SAME, COMPATIBLE, BREAKING, UNKNOWN = "same", "compatible", "breaking", "unknown"


@dataclass(frozen=True)
class SignatureChange:
    status: str  # same, compatible, breaking, unknown (a side has no signature)
    reasons: list[str] = field(default_factory=list)  # every difference, breaking ones first
    breaks: list[str] = field(default_factory=list)  # the differences that make it breaking

    @property
    def breaking(self) -> bool:
        return self.status == BREAKING

    def as_dict(self) -> dict:
        return {"status": self.status, "reasons": list(self.reasons)}


def compare(old: dict | None, new: dict | None) -> SignatureChange:
    """Does `new` take what `old` took? Breaking when a client of `old` would send rows `new` refuses."""
    if not valid(old) or not valid(new):
        missing = "either version" if not valid(old) and not valid(new) else \
            ("the old version" if not valid(old) else "the new version")
        return SignatureChange(UNKNOWN, [f"no input signature recorded for {missing}"])
    assert old is not None and new is not None
    breaking: list[str] = []
    compatible: list[str] = []
    if old["features"] != new["features"]:
        breaking.append(f"takes {new['features']} features instead of {old['features']}")
    old_names, new_names = old.get("names"), new.get("names")
    if old_names and new_names and old_names != new_names:
        removed = [n for n in old_names if n not in new_names]
        added = [n for n in new_names if n not in old_names]
        if removed:
            breaking.append("no longer takes " + ", ".join(removed[:5]) + (" …" if len(removed) > 5 else ""))
        if added:
            breaking.append("now requires " + ", ".join(added[:5]) + (" …" if len(added) > 5 else ""))
        if not removed and not added:
            at = next(i for i, (a, b) in enumerate(zip(old_names, new_names)) if a != b)
            breaking.append(f"feature order changed (position {at + 1}: {old_names[at]} -> {new_names[at]})")
    elif old_names and not new_names:
        compatible.append("feature names are no longer recorded")
    elif new_names and not old_names:
        compatible.append("feature names are recorded now")
    old_types, new_types = old.get("dtypes"), new.get("dtypes")
    if old_types and new_types and old["features"] == new["features"]:
        names = new_names or old_names or [f"#{i + 1}" for i in range(new["features"])]
        for name, before, after in zip(names, old_types, new_types):
            if before == after:
                continue
            if (before, after) in _WIDER:
                compatible.append(f"{name} accepts {after} (was {before})")
            else:
                breaking.append(f"{name} changes type {before} -> {after}")
    if breaking:
        return SignatureChange(BREAKING, breaking + compatible, breaking)
    return SignatureChange(COMPATIBLE if compatible else SAME, compatible)


# ---- the gate ----

def signature_of(model: Model, version: Version | str | None) -> dict | None:
    """The signature a version's record holds (Version objects do not carry it), or None."""
    name = version.name if isinstance(version, Version) else version
    if not isinstance(name, str):
        return None
    versions = model.raw.get("versions")
    record = versions.get(name) if isinstance(versions, dict) else None
    signature = record.get("signature") if isinstance(record, dict) else None
    return signature if valid(signature) else None


def gate_rule(model: Model, stage: str) -> str | None:
    """The stage's `signature` gate: 'compatible', 'any', or None (production defaults to compatible)."""
    rule = (model.gates.get(stage) or {}).get("signature") if isinstance(model.gates.get(stage), dict) else None
    if rule in GATE_VALUES:
        return rule
    return "compatible" if stage == PRODUCTION else None


def signature_gate(model: Model, version: Version | str, production: Version | str | None,
                   stage: str = PRODUCTION) -> list[str]:
    """Why `version` may not enter `stage` because its input differs from production's; [] when it may.

    The gate holds for production unless its gates say `signature: any`, and for another stage
    when its gates say `signature: compatible`. It compares with the version holding production
    before the change; with no production version, or no signature on either side, it passes.
    """
    if gate_rule(model, stage) != "compatible" or production is None:
        return []
    name = version.name if isinstance(version, Version) else version
    production_name = production.name if isinstance(production, Version) else production
    if name == production_name:
        return []
    change = compare(signature_of(model, production_name), signature_of(model, name))
    if not change.breaking:
        return []
    return [f"{name}'s input is not compatible with {production_name} ({PRODUCTION}): {reason}"
            for reason in change.breaks]


# ---- checking requests ----

def _fits(value: Any, dtype: str) -> bool:
    if dtype in ("double", "float"):
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if dtype in ("long", "integer"):
        return isinstance(value, int) and not isinstance(value, bool)
    if dtype == "boolean":
        return isinstance(value, bool)
    if dtype in ("string", "datetime"):
        return isinstance(value, str)
    return True  # binary: whatever the caller's encoding is


def check_rows(signature: dict | None, rows: Any) -> list[str]:
    """Why `rows` do not fit the signature, in words; [] when they do (or no signature is recorded).

    Rows are lists in the model's feature order or, when the signature has names,
    mappings of name to value. At most a few problems are listed.
    """
    if not valid(signature):
        return []
    assert signature is not None
    if not isinstance(rows, list) or not rows:
        return ["expected a non-empty list of rows"]
    width, names, types = signature["features"], signature.get("names"), signature.get("dtypes")
    problems: list[str] = []
    for index, row in enumerate(rows, 1):
        if isinstance(row, dict):
            if not names:
                problems.append(f"row {index}: the model records no feature names; send a list of "
                                f"{width} values in its feature order")
                continue
            missing = [n for n in names if n not in row]
            unknown = [str(k) for k in row if k not in names]
            if missing:
                problems.append(f"row {index}: missing {', '.join(missing[:5])}" + (" …" if len(missing) > 5 else ""))
            if unknown:
                problems.append(f"row {index}: unknown feature {', '.join(unknown[:5])}" +
                                (" …" if len(unknown) > 5 else "") + f" (the model takes {', '.join(names[:8])}" +
                                (" …)" if len(names) > 8 else ")"))
            if missing or unknown:
                continue
            values = [row[n] for n in names]
        elif isinstance(row, list):
            if len(row) != width:
                problems.append(f"row {index}: {len(row)} values, the model takes {width}")
                continue
            values = row
        else:
            problems.append(f"row {index}: expected a list of {width} values" +
                            (" or a mapping of feature names" if names else ""))
            continue
        for position, value in enumerate(values):
            label = names[position] if names else f"feature {position + 1}"
            if value is None:
                problems.append(f"row {index}: {label} has no value")
            elif types and not _fits(value, types[position]):
                problems.append(f"row {index}: {label} must be {types[position]}, not {type(value).__name__} "
                                f"{str(value)[:30]!r}")
        if len(problems) > _MAX_PROBLEMS:
            break
    if len(problems) > _MAX_PROBLEMS:
        problems = problems[:_MAX_PROBLEMS] + ["… (more problems not shown)"]
    return problems


def as_lists(signature: dict | None, rows: list) -> list[list[Any]]:
    """Rows in the model's feature order (mappings reordered by the recorded names); check_rows first."""
    names = (signature or {}).get("names")
    return [[row[n] for n in names] if isinstance(row, dict) and names else row for row in rows]
