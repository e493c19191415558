"""The fast paths of `validate` agree with their references on every input the strategies make.

- core/yamlread.py types plain scalars with one combined pattern per first character and builds
  scalars inside collections without a call per node. Whatever it accepts, PyYAML's own
  SafeLoader reads as the same data (YAML 1.1 typing: `yes`, `0x1f`, `017`, `1_000`, `.nan`),
  but for timestamps, which stay the text that was written. What it refuses beyond PyYAML
  (duplicate keys, aliases, merge keys, other tags, collection keys, deep nesting) is its own.
- core/schema.py answers "valid?" with predicates before it walks the checks for messages: a
  predicate says yes exactly where the checks find nothing (here on every document below and on
  tests/core/test_schema.py's mutated ones; that file compares the checks with jsonschema).

The inputs: every YAML type at every place of a registry (yaml_types.py), scalars of every type
as keys, values and list items, the benchmark's generated registries, and the registries resolve's
property test renders in random layouts.
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from modelreg.core import schema, yamlread
from modelreg.core.problems import ModelregError

from yaml_types import planted, scalars

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from generate import generate  # noqa: E402
from test_lookup import registries, render  # noqa: E402
from test_schema import mutated  # noqa: E402


class _Reference(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """PyYAML's SafeLoader, with timestamps kept as written (as yamlread keeps them)."""


_Reference.add_constructor("tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node))


def canonical(value):
    """The data with every scalar's type spelled out: 1, 1.0 and True differ; every NaN is alike."""
    if isinstance(value, dict):
        return ("map", [(canonical(k), canonical(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [canonical(v) for v in value])
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, value)


def agrees_with_pyyaml(text: str) -> str:
    """Check one text; say how it went (for hypothesis' statistics)."""
    try:
        ours = yamlread.load(text, "r.yaml")[0]
    except ModelregError as error:
        assert all(p.file == "r.yaml" and isinstance(p.line, int) for p in error.problems), error.problems
        return "refused"
    reference = yaml.load(text, Loader=_Reference)  # what we accept, PyYAML reads (it raises otherwise)
    assert canonical(ours) == canonical(reference), text
    return "accepted"


def schema_agrees(data) -> None:
    errors = list(schema.compiled()(data, ()))
    assert schema._valid()(data) is (not errors), errors
    assert schema.schema_errors(data) == errors


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(planted(most=3))
def test_a_registry_with_any_yaml_types_reads_as_pyyaml_reads_it(case):
    outcome = agrees_with_pyyaml(case.text)
    event(outcome)
    if outcome == "accepted":
        schema_agrees(yamlread.load(case.text, "r.yaml")[0])


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scalars(), st.sampled_from(["a: {}\n", "{}: a\n", "- {}\n", "m: {{{}: x}}\n", "m: [{}, x]\n",
                                   "? {}\n: x\n", "a:\n  b: {}\n  c: 1\n"]))
def test_any_scalar_as_a_key_a_value_or_an_item_reads_as_pyyaml_reads_it(value, form):
    event(agrees_with_pyyaml(form.format(value)))


@pytest.mark.parametrize("versions, seed", [(100, 1), (1000, 2), (2000, 3)])
def test_the_generated_registries_read_as_pyyaml_reads_them(versions, seed):
    text = generate(versions, seed=seed)
    assert agrees_with_pyyaml(text) == "accepted"
    data = yamlread.load(text, "r.yaml")[0]
    assert schema.schema_errors(data) == [] and schema._valid()(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registries())
def test_registries_in_any_layout_read_as_pyyaml_reads_them(generated):
    data, layout = generated
    text = render(data, layout)
    assert agrees_with_pyyaml(text) == "accepted"
    schema_agrees(yamlread.load(text, "r.yaml")[0])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_schema_predicates_agree_with_the_checks_on_mutated_documents(document):
    """Fields deleted, added, set to values of any type: tests/core/test_schema.py's documents."""
    schema_agrees(document)


@pytest.mark.parametrize("text", [
    "a: !!python/object/apply:os.system ['echo hacked']\n", "a: !!binary aGk=\n", "a: !secret x\n",
    "a: &x 1\nb: *x\n", "a: {x: 1}\nb:\n  <<: {y: 2}\n", "a: 1\na: 2\n", "? [a]\n: b\n", "a: !!int abc\n",
])
def test_what_pyyaml_would_read_but_the_registry_refuses(text):
    with pytest.raises(ModelregError) as refused:
        yamlread.load(text, "r.yaml")
    assert all(isinstance(p.line, int) for p in refused.value.problems)
