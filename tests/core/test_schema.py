"""The compiled schema checks agree with the jsonschema library, and say where and what."""

import copy
import json
import re

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelreg.core import schema, yamlread
from modelreg.core.document import parse_valid
from modelreg.core.problems import ModelregError
from conftest import ROOT, SAMPLE

BASE = yamlread.load(SAMPLE, "sample")[0]


def _every_pattern(node):
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        for value in node.values():
            yield from _every_pattern(value)
    elif isinstance(node, list):
        for value in node:
            yield from _every_pattern(value)


PATTERNS = sorted(set(_every_pattern(schema.schema())))


def _ecma_pattern(validator, source, instance, _):
    """The reference's `pattern`, as JSON Schema (ECMA-262) means it: `$` is the end of the text. jsonschema
    searches with Python's `$`, which also matches before a final line break. Replacing every `$` is exact for
    this schema: none of its patterns has a `$` inside a class or escaped (test below)."""
    if validator.is_type(instance, "string") and not re.search(source.replace("$", r"\Z"), instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {source!r}")


VALIDATOR = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"pattern": _ecma_pattern})(schema.schema())


def reference_paths(document):
    return {tuple(error.absolute_path) for error in VALIDATOR.iter_errors(document)}


def our_paths(document):
    return {path for path, _, _ in schema.schema_errors(document)}


def agree(document):
    theirs, ours = reference_paths(document), our_paths(document)
    assert bool(theirs) == bool(ours), (theirs, ours)
    for path in theirs:  # every error jsonschema finds is found at or below the same place
        assert any(mine[:len(path)] == path for mine in ours), (path, ours)
    for mine in ours:  # and every error we report is under a place jsonschema complains about
        assert any(mine[:len(path)] == path for path in theirs), (mine, theirs)


def test_sample_is_valid_for_both():
    assert reference_paths(BASE) == set() and our_paths(BASE) == set()


def test_schema_file_in_models_is_the_packaged_one():
    assert json.loads((ROOT / "models" / "registry.schema.json").read_text()) == schema.schema()


def test_schema_is_a_valid_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(schema.schema())


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, prefix + (index,))


ALL_PATHS = [p for p in _paths(BASE) if p]
VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 10**6), st.floats(-2, 2, allow_nan=False),
    st.sampled_from(["", "v1.2.3", "v01.2.3", "1.2.3", "production", "Prod", "a b", "2026-11-26T10:04:00Z",
                     "2026-11-26", "0c1f9b6a0c1f9b6a0c1f9b6a0c1f9b6a", "0c1f9b6a0c1f9b6a0c1f9b6a0c1f9b6a.dir",
                     "ABC", "@acme/ml-leads", "max", "skops", "x" * 120, "v1.2.3\n", "production\n",
                     "2026-11-26T10:04:00Z\n", "0c1f9b6a0c1f9b6a0c1f9b6a0c1f9b6a\n", "models/m.pkl\n"]),
    st.lists(st.sampled_from(["alice", "alice", "@acme/x", "", 3]), max_size=3),
    st.dictionaries(st.sampled_from(["min", "max", "name", "goal", "md5", "x"]),
                    st.one_of(st.floats(0, 1), st.text(max_size=3), st.none()), max_size=3),
)


@st.composite
def mutated(draw):
    document = copy.deepcopy(BASE)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(ALL_PATHS))
        parent = document
        try:
            for step in path[:-1]:
                parent = parent[step]
            action = draw(st.sampled_from(["set", "delete", "add"]))
            if action == "set":
                parent[path[-1]] = draw(VALUES)
            elif action == "delete" and isinstance(parent, dict):
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[draw(st.sampled_from(["extra", "Bad Name", "v9.9.9", "qa", "beat_production"]))] = \
                    draw(VALUES)
        except (KeyError, IndexError, TypeError):
            continue
    return document


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_compiled_checks_agree_with_jsonschema(document):
    agree(document)


@pytest.mark.parametrize("path, value, words", [
    (("models", "churn-classifier", "versions", "v1.3.0", "md5"), "xyz", "DVC md5"),
    (("models", "churn-classifier", "versions", "v1.3.0", "size"), -1, "at least 0"),
    (("models", "churn-classifier", "versions", "v1.3.0", "size"), True, "must be an integer, not boolean"),
    (("models", "churn-classifier", "versions", "v1.3.0", "created"), "yesterday", "ISO 8601"),
    (("models", "churn-classifier", "format"), "zip", "is not one of"),
    (("schema",), 2, "must be 1"),
])
def test_messages_say_what_is_expected(path, value, words):
    document = copy.deepcopy(BASE)
    target = document
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    errors = schema.schema_errors(document)
    assert [p for p, _, _ in errors] == [path]
    assert words in errors[0][1]


def test_unknown_field_names_what_is_allowed():
    document = copy.deepcopy(BASE)
    document["models"]["churn-classifier"]["versions"]["v1.3.0"]["md5sum"] = "x"
    ((path, message, hint),) = schema.schema_errors(document)
    assert path[-1] == "md5sum" and "unknown field" in message and "md5" in hint


def test_bad_version_key():
    document = copy.deepcopy(BASE)
    versions = document["models"]["churn-classifier"]["versions"]
    versions["1.4.0"] = versions["v1.3.0"]
    ((path, message, _),) = schema.schema_errors(document)
    assert path[-1] == "1.4.0" and "semantic version" in message


def test_unsupported_keyword_fails_loudly():
    with pytest.raises(NotImplementedError):
        schema._Compiler({}).compile({"oneOf": []})


def test_generic_engine_is_used_for_unknown_keywords():
    check = schema._generic({"type": "object", "properties": {"a": {"oneOf": [{"type": "string"}]}}})
    assert [path for path, _, _ in check({"a": 3}, ())] == [("a",)]
    assert list(check({"a": "x"}, ())) == []


def test_the_reference_may_replace_every_dollar_of_this_schema():
    for source in PATTERNS:
        assert "\\$" not in source and not re.search(r"\[[^\]]*\$", source), source


@pytest.mark.parametrize("source, text, matches", [
    ("^a$", "a", True), ("^a$", "a\n", False), ("(/|$)x", "/x", True),
    ("^[$]$", "$", True), ("^[$]$", "$\n", False), ("^\\$$", "$", True), ("^\\$$", "$\n", False),
    ("^[\\]$]+$", "]$", True), ("^[^\\]$]+$", "ab", True), ("^[^\\]$]+$", "ab\n", True),
    ("^[^\\]$]+$", "a$", False), ("^[a\\\\]$", "\\", True), ("^[a\\\\]$", "a\n", False),
])
def test_a_pattern_means_what_it_means_in_json_schema(source, text, matches):
    """`$` is the end of the text; inside a class or escaped it is a dollar sign, as before."""
    assert (schema.pattern(source).search(text) is not None) is matches


@pytest.mark.parametrize("source", ["^[]$]+$", "^[^]$]+$", "x[]"])
def test_a_class_opening_with_a_bracket_is_refused_not_guessed(source):
    """ECMA-262 reads `[]` as matching nothing and `[^]` as anything; Python reads the `]` as a character."""
    with pytest.raises(ValueError, match="escaped"):
        schema.pattern(source)


@pytest.mark.parametrize("text", ["models/m\u2028/../x", "models/\x9bm.pkl", "models/\x85", "m\u2029.pkl"])
def test_a_path_holds_no_c1_control_or_line_separator(text):
    """ECMA-262's `.` stops at U+2028 and U+2029, so another validator would not see a `..` segment after
    one: the path's characters leave both out, and the C1 controls (U+0080-U+009F) with them."""
    valid = schema.pattern(schema.schema()["$defs"]["path"]["pattern"])
    assert valid.search(text) is None and valid.search("models/caf\u00e9.pkl") is not None


@pytest.mark.parametrize("path, good", [
    (("models", "churn-classifier", "path"), "models/churn-classifier/model.pkl"),
    (("models", "churn-classifier", "owners", 0), "@acme/reviewers"),
    (("models", "churn-classifier", "versions", "v1.3.0", "md5"), "0c1f9b6a0c1f9b6a0c1f9b6a0c1f9b6a"),
    (("models", "churn-classifier", "versions", "v1.3.0", "commit"), "0c1f9b6a" * 5),
    (("models", "churn-classifier", "versions", "v1.3.0", "created"), "2026-11-26T10:04:00Z"),
    (("models", "churn-classifier", "stages", "production"), "v1.3.0"),
])
def test_a_trailing_line_break_is_refused_wherever_a_pattern_applies(path, good):
    """Python's `$` matched before a final "\\n", so "models/m.pkl\\n" passed as a path (SECURITY.md)."""
    document = copy.deepcopy(BASE)
    parent = document
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = good
    assert our_paths(document) == set()
    parent[path[-1]] = good + "\n"
    assert path in our_paths(document) and reference_paths(document) == {path}


def test_a_block_scalar_path_is_refused_at_its_line():
    """A block scalar ends its text with a line break: the easy way to write one by accident, or on purpose."""
    text = SAMPLE.replace("    path: models/churn-classifier/model.pkl\n",
                          "    path: |\n      models/churn-classifier/model.pkl\n", 1)
    assert text != SAMPLE
    with pytest.raises(ModelregError) as raised:
        parse_valid(text, "models/registry.yaml")
    assert any(p.line == SAMPLE.splitlines().index("    path: models/churn-classifier/model.pkl") + 1
               and "relative path" in p.message for p in raised.value.problems)
