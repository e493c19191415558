"""The block reader (core/blockyaml.py) reads what PyYAML's path reads, and declines the rest.

For every text: either the block reader declines it (returns None), or PyYAML's path
(`yamlread.load_composed`: libyaml's composer and our constructor) accepts it and gives the same
data, every scalar of the same type. So whatever the block reader accepts cannot mean something
else than before, and nothing PyYAML's path refuses (duplicate keys, aliases, tags, control
characters, continuation lines ...) gets past it. The inputs: the benchmark's registries, every
YAML type at every place, registries in random layouts, texts mutated a character or a line at a
time, and the corners written out below. The registries people write must not be declined,
or the speed is lost without a test noticing: the generated and sample ones are checked for that.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from modelreg.core import blockyaml, yamlread
from modelreg.core.positions import Deferred, locate, tree
from modelreg.core.problems import ModelregError
from modelreg.core.rules import check_state

from test_reader_reference import canonical
from yaml_types import BASE, SAMPLE, planted, scalars

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))
from generate import generate  # noqa: E402
from test_lookup import registries, render  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def block(text: str):
    return blockyaml.read(text, yamlread.plain_typer(), yamlread._IMPLICIT)


def agrees(text: str) -> str:
    """Check one text; say how it went (for hypothesis' statistics)."""
    ours = block(text)
    try:
        reference = yamlread.load_composed(text, "r.yaml")[0]
    except ModelregError:
        assert ours is None, f"the block reader accepted what PyYAML's path refuses:\n{text}"
        return "refused by both"
    if ours is None:
        return "declined"
    assert canonical(ours) == canonical(reference), text
    return "read alike"


@pytest.mark.parametrize("text", [
    SAMPLE, BASE, generate(100, seed=1), generate(1000, seed=2),
    (ROOT / "models" / "registry.yaml").read_text(),
], ids=["sample", "base", "generated-100", "generated-1000", "template"])
def test_the_registries_people_write_are_read_by_the_block_reader(text):
    assert agrees(text) == "read alike"


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(planted(most=3))
def test_any_yaml_type_at_any_place_is_read_alike_or_declined(case):
    event(agrees(case.text))


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scalars(), st.sampled_from([
    "a: {}\n", "{}: a\n", "- {}\n", "a:\n- {}\n", "m: {{{}: x}}\n", "m: {{x: {}}}\n", "m: [{}, x]\n", "m: [x, {}]\n",
    "m: {{a: [{}]}}\n", "a:\n  b: {}\n  c: 1\n", "a: {}  # c\n", "a:\n  - {0}\n  - b: {0}\n", "a:\n  {}\n",
    "{}:\n  x: 1\n",
]))
def test_any_scalar_as_a_key_a_value_or_an_item_is_read_alike_or_declined(value, form):
    event(agrees(form.format(value)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registries())
def test_registries_in_any_layout_are_read_alike(generated):
    data, layout = generated
    event(agrees(render(data, layout)))


_SIGNIFICANT = list(" -:#,[]{}'\"&*!|>?%@`\n\t\\~.0a")


@st.composite
def mutated_texts(draw):
    """BASE with one to three edits: a YAML-significant character put in or taken out, a line's
    indentation changed, a line repeated or dropped."""
    text = BASE
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["insert", "delete", "indent", "repeat", "drop"]))
        if kind in ("insert", "delete"):
            at = draw(st.integers(0, len(text) - 1))
            text = text[:at] + draw(st.sampled_from(_SIGNIFICANT)) + text[at:] if kind == "insert" \
                else text[:at] + text[at + 1:]
            continue
        lines = text.split("\n")
        at = draw(st.integers(0, len(lines) - 1))
        if kind == "indent":
            lines[at] = " " * draw(st.integers(0, 9)) + lines[at].lstrip(" ")
        elif kind == "repeat":
            lines.insert(at, lines[at])
        else:
            del lines[at]
        text = "\n".join(lines)
    return text


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_texts())
def test_mutated_registries_are_read_alike_or_declined(text):
    event(agrees(text))


# What each corner must give: None for "declined", else the data (PyYAML's path is checked too).
CORNERS = [
    ("a: 1\n", {"a": 1}),
    ("a: 1", {"a": 1}),  # no final line break
    ("a: yes\nb: 017\nc: 1e3\nd: 0x1f\ne: ~\nf:\ng: 1:20\n",
     {"a": True, "b": 15, "c": "1e3", "d": 31, "e": None, "f": None, "g": 80}),
    ("a: 2026-11-26T10:04:00Z\nb: {at: 2026-11-26T10:04:00Z}\n",
     {"a": "2026-11-26T10:04:00Z", "b": {"at": "2026-11-26T10:04:00Z"}}),
    ("a: b # c\nd: e#f\ng: 'h # i'  # j\n", {"a": "b", "d": "e#f", "g": "h # i"}),
    ("a: http://x:8080/y\n", {"a": "http://x:8080/y"}),
    ("a:\n- x\n- y: 1\n  z: 2\nb: 3\n", {"a": ["x", {"y": 1, "z": 2}], "b": 3}),
    ("a:\n  -\n    b: 1\n  - - x\n", None),  # an entry holding an entry: declined
    ("a:\n  -\n    b: 1\n  -\n", {"a": [{"b": 1}, None]}),
    ("a:\n  foo\nb: 1\n", {"a": "foo", "b": 1}),
    ("a: [x, 'y', \"z\", {b: [1, {c: d}]}, []]\n", {"a": ["x", "y", "z", {"b": [1, {"c": "d"}]}, []]}),
    ("a: { }\nb: [ ]\nc: { x: 1 , y: 2 }\n", {"a": {}, "b": [], "c": {"x": 1, "y": 2}}),
    ("a: -1\nb: [-0.5, -.inf]\n", {"a": -1, "b": [-0.5, float("-inf")]}),
    ("a: 1\na: 2\n", None),  # duplicate keys: PyYAML's path says where both are
    ("a: {x: 1, x: 2}\n", None),
    ("yes: 1\ntrue: 2\n", None),  # both are the key True
    ("a: b\n  c\n", None),  # a continuation line: one value "b c"
    ("a: b\n    c: d\n", None),
    ("a:\n    b: 1\n  c: 2\n", None),
    ("a: &x 1\nb: *x\n", None),
    ("a: !!str 1\n", None),
    ("a: <<\n", None),
    ("<<: {b: 1}\n", None),
    ("a: =\n", None),
    ("a: |\n  x\n", None),
    ("a: >-\n  x\n", None),
    ("a: 'x  \n  y'\nb: \"p\n   q r\"\n", {"a": "x y", "b": "p q r"}),  # quoted text over lines: folded
    ("- {a: 1,\n   b: [x,\n     y z]}\n"[2:].replace("{", "k: {", 1), {"k": {"a": 1, "b": ["x", "y z"]}}),
    ("a: [x,\n  y]\n", {"a": ["x", "y"]}),
    ("a: [x,\ny]\n", None),  # a continuation not indented past its first line
    ("a: [x,\n\n  y]\n", None),  # a blank line inside: a line break, not a space
    ("a: [x, # c\n  y]\n", None),
    ("a: [\"x #\", # c\n  y]\n", None),
    ("a: 'x\n", None),
    ("a: [x,\n  y\n", None),
    ("a: [x,]\n", None),
    ("a:\tb\n", None),
    ("a: b\r\n", None),
    ("\ufeffa: 1\n", None),
    ("a: \x01\n", None),
    ("a: b\u2028c\n", None),
    ("---\na: 1\n", None),
    ("a: 1\n...\n", None),
    ("%YAML 1.1\n---\na: 1\n", None),
    ("- a\n- b\n", None),  # not a mapping at the top
    ("  a: 1\n", None),
    ("# only a comment\n", None),
    ("", None),
    ("a: b: c\n", None),
    ("a: b:\n", None),
    ("a: {b:c}\n", None),
    ("a: {b: c:}\n", None),
    ("a: [b?c]\n", None),  # libyaml and PyYAML's Python scanner disagree on "?" in flow
    ("a: -b\n", None),
    ("-a: 1\n", None),
    ("a: \"x\\ty\"\n", None),  # an escape
    ("a: 'it''s'\n", None),
    ("? a\n: b\n", None),
    ("a: @x\n", None),
    ("a: `x`\n", None),
    ("a: %x\n", None),
    ("a: ,x\n", None),
    ("\"a\": 1\n", None),
    ("a b: 1\n", None),
    ("k" * 129 + ": 1\n", None),
    ("a:\n" + "".join("  " * n + f"k{n}:\n" for n in range(1, 20)), None),  # nests deeper than 16
    ("a: " + "[" * 17 + "]" * 17 + "\n", None),
    ("a: café\nb: [ü, 東京]\n", {"a": "café", "b": ["ü", "東京"]}),
    # text kept whole to its last character, in every kind of value (X: a character no strip may take)
    ("a: vX  \nb: X # c\nc: {k: vX , j: Xw}\nd: [pX , Xq]\ne: [vX, {k: wX }]\n",
     {"a": "vX", "b": "X", "c": {"k": "vX", "j": "Xw"}, "d": ["pX", "Xq"], "e": ["vX", {"k": "wX"}]}),
    ("a: {k: [x,\n    yX ]}\nb: 'p\n  qX'\n", {"a": {"k": ["x", "yX"]}, "b": "p qX"}),
    ("a: {\"k\": 1, 'j': [2, \"X\", 'Y']}\n", {"a": {"k": 1, "j": [2, "X", "Y"]}}),  # quoted keys and items
    ("a: b # c # d\n", {"a": "b"}),
    ("a:\n- \n- x\n", {"a": [None, "x"]}),  # an empty entry, then another: not a nested list
    ("a:\n- x\n  b: 1\n", None),
    ("a:\n  -x\n", None),  # "-x" is a text, not an entry
    ("a:\n  - x\n  -y\n", None),
    ("a: 'x\n     \n  y'\n", None),  # a line of spaces inside quotes is a line break
    ("a: [x, yX\n  , z]\nb: [x,\n  Xy]\nc: 'p\n  q   \n  r'\nd: {k : [1]}\ne: {kX: [1]}\n",
     {"a": ["x", "yX", "z"], "b": ["x", "Xy"], "c": "p q r", "d": {"k": [1]}, "e": {"kX": [1]}}),
    ("a: [x,\n  yX\n  ]\n", {"a": ["x", "yX"]}),
    ("a: {Xk: 1, kX: 2}\n", {"a": {"Xk": 1, "kX": 2}}),
    ("a: {b: 1}X\n", None),
    ("a: [\"x\n   y\", z]\n", {"a": ["x y", "z"]}),  # quoted text continued inside a flow collection
    ("a: [\n", None),
    ("a: {\n", None),
    ("a: [x\n", None),
    ("a: {k: [v\n", None),
    ("a: {, k: 1}\n", None),
    ("a: {[k]: 1}\n", None),
    ("a:\n- x\n  - y\n", None),
    # the depth limit, exactly: 16 levels of block collections are read, 17 declined
    ("".join("  " * n + f"k{n}:\n" for n in range(16)) + "  " * 16 + "k16: 1\n",
     "nested mappings 16"),
    ("".join("  " * n + f"k{n}:\n" for n in range(17)) + "  " * 17 + "k17: 1\n", None),
    ("a:\n" + "".join("  " * n + "-\n" for n in range(1, 16)) + "  " * 16 + "- x\n", "nested lists 16"),
    ("a:\n" + "".join("  " * n + "-\n" for n in range(1, 17)) + "  " * 17 + "- x\n", None),
    ("".join("  " * n + f"k{n}:\n" for n in range(16)) + "  " * 15 + "- x\n", "an indentless list at 16"),
    ("".join("  " * n + f"k{n}:\n" for n in range(17)) + "  " * 16 + "- x\n", None),
    ("a: " + "[" * 14 + "x" + "]" * 14 + "\n", "nested flow 14"),
    ("a: " + "[" * 15 + "x" + "]" * 15 + "\n", None),
    ("".join(" " * n + f"k{n}:\n" for n in range(16)) + " " * 16 + "k16: " + "[" * 14 + "a" + "]" * 14 + "\n",
     "block 16 and flow 14"),
    # found by a red-team session: each was read by an earlier version, and PyYAML's path refuses it
    ("".join(" " * n + f"k{n}:\n" for n in range(16)) + " " * 16 + "k16: " + "[" * 16 + "a" + "]" * 16 + "\n",
     None),  # 33 levels in all
    ("k: {a\n  : 1}\n", None),  # a flow key and its ":" on two lines
    ("k: {'a\n  b': 1}\n", None),
    ("k: {a: 1, b\n  : 2}\n", None),
    ("k: [{a\n  : 1}]\n", None),
    ("k: {'" + "x" * 1023 + "': 1}\n", None),  # past libyaml's 1,024 characters for a key
    ("k: {a" + " " * 1024 + ": 1}\n", None),
    ("k: [\n  [a,\n  b]]\n", None),  # a collection that starts on a continuation line and goes on
    ("k: [\n  'a\n  b']\n", None),
    ("k: [\n  {a: 1,\n  b: 2}]\n", None),
    ("k: [\n  [a, b],\n  {c: 'd'}]\n", {"k": [["a", "b"], {"c": "d"}]}),  # ... that ends on it is fine,
    ("k: [[a,\n  b]]\n", {"k": [["a", "b"]]}),
    ("k: [\n  [a,\n   b], 'c\n    d']\n", {"k": [["a", "b"], "c d"]}),  # ... or goes on indented past it
    ("k: [\n  [a,\n   b], 'c\n   d']\n", None),
]


@pytest.mark.parametrize("text, expected", CORNERS)
def test_corners(text, expected):
    ours = block(text)
    if expected is None:
        assert ours is None
    elif isinstance(expected, str):  # read, as PyYAML's path reads it (checked below)
        assert ours is not None, expected
    else:
        assert canonical(ours) == canonical(expected)
    agrees(text)


def test_a_valid_registry_is_checked_without_composing_its_node_tree():
    data, root = yamlread.load(SAMPLE, "r.yaml")
    assert isinstance(root, Deferred)
    assert check_state(data, root, "r.yaml") == []
    assert not root.composed  # nobody asked for a place


def test_a_deferred_tree_is_composed_with_the_collector_paused(monkeypatch):
    """With the collector running, composing 10,000 versions took 5 s instead of 0.5 s."""
    seen = []
    real = yamlread.compose
    monkeypatch.setattr(yamlread, "compose", lambda text: (seen.append(gc.isenabled()), real(text))[1])
    _, root = yamlread.load(SAMPLE, "r.yaml")
    assert gc.isenabled() and seen == []
    assert tree(root) is not None and seen == [False] and gc.isenabled()


def test_a_problem_in_a_block_read_registry_is_placed_from_the_composed_tree():
    text = SAMPLE.replace("        size: 183204\n", "        size: -5\n", 1)
    data, root = yamlread.load(text, "r.yaml")
    assert isinstance(root, Deferred)
    problems = check_state(data, root, "r.yaml")
    line = text.split("\n").index("        size: -5") + 1
    assert [(p.line, p.path) for p in problems] == [(line, "models.churn-classifier.versions.v1.3.0.size")]
    assert tree(root) is tree(root)  # composed once
    assert locate(root, ("models",)) == (5, 3)
