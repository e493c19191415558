"""Strategies for what YAML makes of the text people type, at every place of a registry.

A registry is YAML, and YAML types a plain scalar by how it looks: `1.2` is a float,
`true`, `yes` and `on` are booleans, `~`, `null` and nothing at all are null, `0x1f`
and `017` are integers (YAML 1.1, which PyYAML reads), `.inf` and `.nan` are floats,
`2026-01-01` is a date. A person who writes a version, a stage or a metric name that
happens to look like one of these gets a value that is not a string, at a place where
the code expects one. These strategies put every such form at every place of a full
registry (keys and values: model names, version keys, stage names and values, metric
names and values, gates, history fields, settings, owners, paths ...), so a property
can check that each one ends in a clear error at a line of the file, never a crash.

`BASE` is the sample registry with every optional part present (settings, a history
entry with a pull request number), so that every kind of place exists in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from hypothesis import strategies as st
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

SAMPLE = (Path(__file__).resolve().parents[1] / "sample_registry.yaml").read_text()

BASE = SAMPLE.replace(
    "schema: 1\n",
    "schema: 1\n"
    "settings:\n"
    "  stages: [staging, production]\n"
    "  require_approval: [production]\n"
    "  maintainers: [alice, \"@acme/ml-leads\"]\n", 1,
).replace("previous: null, reason: More trees}", "previous: null, reason: More trees, pr: 7}", 1)

# Spellings that YAML (1.1, as PyYAML reads it) turns into something other than a string.
BOOLEANS = ["true", "false", "True", "FALSE", "yes", "No", "on", "OFF", "y_not_a_bool"]
NULLS = ["null", "~", "Null", "NULL", ""]
INTEGERS = ["0", "1", "-3", "+7", "42", "1_000", "0x1f", "0X1F", "017", "0o17", "0b101", "1:20", "9" * 25]
FLOATS = ["1.2", "-0.5", "1.0", ".5", "1e3", "1.0e+3", "6.8523015e+5", "1_000.5", "190:20:30.15",
          ".inf", "-.inf", "+.Inf", ".INF", ".nan", ".NaN", ".NAN"]
DATES = ["2026-01-01", "2026-11-26T10:04:00Z", "2026-11-26 10:04:00", "2026-11-26t10:04:00.5+01:00"]
OTHERS = ["v1.2", "1.2.3", "v1.2.3", "'1.2'", '"true"', "'~'", "[]", "{}", "[1, 2]", "{a: 1}", "[true]",
          "{1: 0.5}", "=", "<<", "!!str 1", "!!int 3", "!!float 1", "!!bool yes", "!!null ''", "!!timestamp 2026-01-01",
          "!!binary aGk=", "!!set {a}", "!!omap [a: 1]", "-", "?", "'", "#", "x: y", "&a 1", "*a",
          "!!bool maybe", "!!int abc", "!!float x", "!!int 1.5"]  # a tag that does not fit its value

SPELLINGS = BOOLEANS + NULLS + INTEGERS + FLOATS + DATES + OTHERS


def _float_text(value: float) -> str:
    if value != value:
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    return repr(value)  # "1e+16" has no dot: PyYAML 1.1 reads that one as a string, which is a case too


def scalars() -> st.SearchStrategy[str]:
    """The text of one YAML scalar (or small flow collection) of any type."""
    return st.one_of(
        st.sampled_from(SPELLINGS),
        st.integers(-10**20, 10**20).map(str),
        st.integers(0, 2**40).map(hex),
        st.integers(0, 2**20).map(lambda n: "0" + format(n, "o")),
        st.floats(allow_nan=True, allow_infinity=True).map(_float_text),
        st.booleans().map(lambda b: "true" if b else "false"),
        st.dates().map(lambda d: d.isoformat()),
        st.datetimes().map(lambda d: d.isoformat(sep="T") + "Z"),
    )


@dataclass(frozen=True)
class Place:
    """One scalar of BASE: a key or a value, with its path and its characters in the text."""

    path: tuple
    key: bool
    start: int
    end: int
    line: int  # 1-based

    @property
    def kind(self) -> str:
        """The kind of place, for hypothesis' statistics: which parts of a registry were hit."""
        path, key = self.path, self.key
        if path[:1] == ("settings",):
            return "settings"
        if path[:1] != ("models",) or len(path) == 1:
            return "top level"
        if len(path) == 2:
            return "model name" if key else "model"
        part = path[2]
        if part == "versions" and len(path) == 4 and key:
            return "version key"
        if part == "versions" and "metrics" in path[:-1]:
            return "metric name" if key and path[-1] != "metrics" else "metric value"
        if part == "versions":
            return "version field"
        if part == "stages":
            return "stage name" if key else "stage value"
        if part == "gates":
            return "gate"
        if part == "history":
            return "history field"
        if part == "metric":
            return "primary metric"
        return "model field"


def _places(text: str) -> list[Place]:
    found: list[Place] = []

    def walk(node, path):
        if isinstance(node, ScalarNode):
            found.append(Place(path, False, node.start_mark.index, node.end_mark.index, node.start_mark.line + 1))
            return
        if path:  # a whole mapping or list can be replaced too: `stages: 1.2`, `gates: [production]`
            end = node.end_mark.index
            while text[end - 1] in " \n":  # a block collection ends after its last line break
                end -= 1
            found.append(Place(path, False, node.start_mark.index, end, node.start_mark.line + 1))
        if isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                walk(item, path + (index,))
        elif isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                found.append(Place(path + (key_node.value,), True, key_node.start_mark.index,
                                   key_node.end_mark.index, key_node.start_mark.line + 1))
                walk(value_node, path + (key_node.value,))

    walk(yaml.compose(text), ())
    return found


PLACES = _places(BASE)


def place_kinds() -> set[str]:
    return {place.kind for place in PLACES}


class Planted:
    """BASE with scalars replaced: the text, and what went where.

    A plain class, not a dataclass: hypothesis prints a failing example with its repr,
    which names the changes instead of printing the whole file.
    """

    def __init__(self, text: str, changes: tuple[tuple[Place, str], ...]):
        self.text, self.changes = text, changes

    def __repr__(self) -> str:  # what hypothesis prints for a failing example: the change, not the whole file
        return f"Planted({self.describe()})"

    def describe(self) -> str:
        return "; ".join(f"{'key' if p.key else 'value'} {'.'.join(map(str, p.path))} (line {p.line}) := {v!r}"
                         for p, v in self.changes)


_KINDS = sorted({place.kind for place in PLACES})
_BY_KIND = {kind: [place for place in PLACES if place.kind == kind] for kind in _KINDS}


@st.composite
def planted(draw, kind: str | None = None, most: int = 2) -> Planted:
    """BASE with one to `most` of its scalars (keys or values) replaced by a scalar of any YAML type.

    Each kind of place is as likely as any other (there are 80 version fields and 2 model
    names); `kind` keeps to one kind.
    """
    chosen: dict[int, Place] = {}
    for _ in range(draw(st.integers(1, most))):
        place = draw(st.sampled_from(_BY_KIND[kind or draw(st.sampled_from(_KINDS))]))
        if all(place.end <= other.start or other.end <= place.start for other in chosen.values()):
            chosen[place.start] = place  # a place drawn twice, or inside one drawn before, is left out
    changes = tuple((place, draw(scalars())) for _, place in sorted(chosen.items()))
    text = BASE
    for place, value in reversed(changes):  # from the end, so earlier offsets stay right
        text = text[:place.start] + value + text[place.end:]
    return Planted(text, changes)
