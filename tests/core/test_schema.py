"""The compiled schema checks agree with the jsonschema library, and say where and what."""

import copy
import json

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelreg.core import schema, yamlread
from conftest import ROOT, SAMPLE

BASE = yamlread.load(SAMPLE, "sample")[0]
VALIDATOR = jsonschema.Draft202012Validator(schema.schema())


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
                     "ABC", "@acme/ml-leads", "max", "skops", "x" * 120]),
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
