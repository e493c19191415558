"""core/lookup.py: references, each refusal whole, the fast path's every way to decline, and when it answers.

Written to kill the mutants of `make mutation` (docs/testing.md).
"""

from __future__ import annotations

import pytest

from modelreg.core import lookup
from modelreg.core.lookup import Reference, Resolved, parse_reference, resolve, resolve_in
from modelreg.core.problems import ModelregError, Problem, UsageError
from modelreg.core.registry import Registry

from conftest import SAMPLE

NAME = "churn-classifier"
SHA = "c" * 64


def problem(call, *args) -> Problem:
    with pytest.raises(ModelregError) as info:
        call(*args)
    (only,) = info.value.problems
    return only


def registry(**settings) -> Registry:
    return Registry({"schema": 1, **settings, "models": {"m": {"path": "m.pkl", "format": "onnx", "stages": {
        "production": "v1.0.0"}, "versions": {
        "v1.0.0": {"md5": "a" * 32, "size": 1, "created": "t", "sha256": SHA},
        "v2.0.0": {"md5": "b" * 32, "size": 2, "created": "t", "format": "skops", "archived": "bad"}}}}})


# ---- references ----

@pytest.mark.parametrize("text, expected", [
    ("m@a1", Reference("m", stage="a1")),  # a stage that happens to hold a digit
    ("m@vx", Reference("m", stage="vx")),  # starts with v but no digit follows
    ("m@v", Reference("m", stage="v")),
    ("  m@production  ", Reference("m", stage="production")),
])
def test_references_that_are_stages(text, expected):
    assert parse_reference(text) == expected


@pytest.mark.parametrize("text, stage, message", [
    ("a b", None, "cannot read model reference 'a b': write NAME@STAGE, NAME@vX.Y.Z or models:/NAME@STAGE"),
    ("m@production", "staging", "'m@production' already names production; drop --stage staging"),
    ("m", None, "say which version of m: m@production, m@v1.2.0 or --stage STAGE"),
    ("m@v1.02.0", None, "'v1.02.0' is not a version like v1.2.3"),
])
def test_reference_refusals_say_what_to_write(text, stage, message):
    with pytest.raises(UsageError) as info:
        parse_reference(text, stage)
    assert [p.message for p in info.value.problems] == [message]


def test_reference_as_text():
    assert str(Reference("m", stage="production")) == "m@production"
    assert str(Reference("m", version="v1.0.0")) == "m@v1.0.0"
    assert str(Reference("m", latest=True)) == "m@latest"


# ---- resolve_in ----

def test_resolved_in_full():
    answer = resolve_in(registry(), Reference("m", stage="production"), "r.yaml")
    assert answer == Resolved("m", "v1.0.0", "a" * 32, 1, "m.pkl", "onnx", ("production",), SHA, None)
    assert answer.as_dict() == {"name": "m", "version": "v1.0.0", "md5": "a" * 32, "size": 1, "path": "m.pkl",
                                "format": "onnx", "stages": ["production"], "sha256": SHA}
    archived = resolve_in(registry(), Reference("m", version="v2.0.0"), "r.yaml")
    assert (archived.version, archived.format, archived.stages, archived.sha256) == ("v2.0.0", "skops", (), None)


def test_resolve_in_refusals_name_file_field_and_words():
    reg = registry()
    assert problem(resolve_in, reg, Reference("x", stage="production"), "r.yaml") == Problem(
        "r.yaml", None, None, "models", "no model named 'x' (models: m)")
    assert problem(resolve_in, Registry({"models": {}}), Reference("x", stage="production"), "r.yaml").message == (
        "no model named 'x' (models: none)")
    assert problem(resolve_in, reg, Reference("m", stage="qa"), "r.yaml") == Problem(
        "r.yaml", None, None, "models.m.stages", "unknown stage 'qa' (configured: staging, production)")
    assert problem(resolve_in, reg, Reference("m", stage="staging"), "r.yaml") == Problem(
        "r.yaml", None, None, "models.m.stages", "no version of m holds staging",
        "promote one: modelreg promote m VERSION --to staging")
    assert problem(resolve_in, reg, Reference("m", version="v9.0.0"), "r.yaml") == Problem(
        "r.yaml", None, None, "models.m.versions", "m has no version v9.0.0")


def test_latest_skips_archived_and_refuses_when_none_is_live():
    assert resolve_in(registry(), Reference("m", latest=True), "r.yaml").version == "v1.0.0"
    reg = Registry({"models": {"m": {"path": "p", "versions": {"v1.0.0": {"md5": "a" * 32, "size": 1,
                                                                         "created": "t", "archived": "x"}}}}})
    assert problem(resolve_in, reg, Reference("m", latest=True), "r.yaml") == Problem(
        "r.yaml", None, None, "models.m.versions", "m has no live versions")


@pytest.mark.parametrize("settings, expected", [
    ({"require_signature": ["production"], "signing": {"identity": "x"}}, {"identity": "x"}),
    ({"require_signature": ["production"]}, {}),
    ({"require_signature": ["production"], "signing": "x"}, {}),
    ({"require_signature": ["staging"], "signing": {"identity": "x"}}, None),
    ({"require_signature": "production", "signing": {"identity": "x"}}, None),
    ({}, None),
])
def test_signing_is_asked_for_where_a_held_stage_requires_it(settings, expected):
    answer = resolve_in(registry(settings=settings), Reference("m", stage="production"), "r.yaml")
    assert answer.signing == expected
    if expected:
        assert answer.signing is not settings["signing"]  # a copy


def test_signing_required_of_settings_that_are_not_a_mapping():
    assert lookup._signing_required(["x"], ["production"]) is None


# ---- the fast path and resolve ----

def test_resolve_answers_from_the_blocks_it_reads_though_another_model_is_broken():
    text = SAMPLE.replace("    format: onnx\n", "    format: zip\n")  # fraud-detector's: validate would refuse
    answer = resolve(text, Reference(NAME, stage="production"), "r.yaml")
    assert (answer.name, answer.version) == (NAME, "v1.2.0")
    with pytest.raises(ModelregError):
        resolve(text, Reference("fraud-detector", version="v0.1.0"), "r.yaml")


def test_an_error_found_on_the_fast_path_is_said_by_the_full_parse_at_its_line():
    text = SAMPLE.replace("      staging: v1.3.0       # the candidate", "      qa: v1.3.0")
    found = _problems(resolve, text, Reference(NAME, stage="qa"), "r.yaml")[0]
    line = text[:text.index("      qa: v1.3.0")].count("\n") + 1
    assert (found.file, found.line) == ("r.yaml", line) and "unknown stage 'qa'" in found.message


def _problems(call, *args):
    with pytest.raises(ModelregError) as info:
        call(*args)
    return info.value.problems


def test_full_parse_errors_name_the_file():
    text = SAMPLE.replace("schema: 1\n", "schema: 2\n")
    assert all(p.file == "r.yaml" for p in _problems(resolve, text, Reference(NAME, stage="production"), "r.yaml"))
    assert lookup._fast(text, Reference(NAME, stage="production"), "r.yaml") is None


@pytest.mark.parametrize("old, new", [
    ("        size: 171002\n", "        size: 171002\n        sha256: XYZ\n"),   # a bad sha256
    ("        size: 171002\n", "        size: 171002\n        sha256: 7\n"),
    ("        size: 171002\n", "        size: 171002\n        format: zip\n"),   # a bad format of the version
    ("    format: pickle\n", "    format: zip\n"),                                 # ... or of the model
    ("        size: 171002\n", "        size: '171002'\n"),                      # size as text
    ("        md5: 7d793037a0760186574b0282f2f435e7\n", "        md5: 7D793037A0760186574B0282F2F435E7\n"),
    ("        md5: 7d793037a0760186574b0282f2f435e7\n", "        md5: [1]\n"),
    ("    path: models/churn-classifier/model.pkl\n", "    path: [1]\n"),
    ("    stages:\n      staging: v1.3.0       # the candidate\n      production: v1.2.0\n",
     "    stages:\n      staging: v1.3.0\n      production: 1.2\n"),
    ("    stages:\n      staging: v1.3.0       # the candidate\n      production: v1.2.0\n", "    stages: [1]\n"),
    ("    path: models/churn-classifier/model.pkl\n", "    path: [unclosed\n"),
])
def test_the_fast_path_declines_anything_the_schema_would_refuse(old, new):
    text = SAMPLE.replace(old, new)
    assert text != SAMPLE
    assert lookup._fast(text, Reference(NAME, stage="production"), "r.yaml") is None


def test_the_fast_path_declines_latest_and_an_unknown_version_and_missing_blocks():
    assert lookup._fast(SAMPLE, Reference(NAME, latest=True), "r.yaml") is None
    assert lookup._fast(SAMPLE, Reference(NAME, version="v8.0.0"), "r.yaml") is None
    assert lookup._fast(SAMPLE, Reference("nope", stage="production"), "r.yaml") is None
    no_path = SAMPLE.replace("    path: models/churn-classifier/model.pkl\n", "")
    assert lookup._fast(no_path, Reference(NAME, stage="production"), "r.yaml") is None


def test_the_fast_path_keeps_a_valid_sha256():
    text = SAMPLE.replace("        size: 171002\n", f"        size: 171002\n        sha256: {SHA}\n")
    fast = lookup._fast(text, Reference(NAME, stage="production"), "r.yaml")
    assert fast is not None and fast.sha256 == SHA


def test_a_model_without_versions_goes_the_full_way():
    start = SAMPLE.index("    versions:\n      v1.3.0:")
    end = SAMPLE.index("    history:\n      - {at: 2026-11-01")
    text = SAMPLE[:start] + SAMPLE[end:]
    assert lookup._fast(text, Reference(NAME, stage="production"), "r.yaml") is None
    assert all(p.file == "r.yaml" for p in _problems(resolve, text, Reference(NAME, stage="production"), "r.yaml"))


def test_a_registry_without_its_schema_line_goes_the_full_way():
    text = SAMPLE.replace("schema: 1\n", "")
    assert lookup._fast(text, Reference(NAME, stage="production"), "r.yaml") is None
    assert any("schema" in p.message for p in _problems(resolve, text, Reference(NAME, stage="production"), "r.yaml"))


def test_the_fast_path_reads_a_stages_block_at_the_end_of_a_file_without_its_last_newline():
    text = ("schema: 1\nmodels:\n  m:\n    path: m.pkl\n    versions:\n"
            "      v1.0.0: {md5: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, size: 1, created: 2026-01-01T00:00:00Z}\n"
            "    stages: {production: v1.0.0}")
    fast = lookup._fast(text, Reference("m", stage="production"), "r.yaml")
    assert fast is not None and fast.version == "v1.0.0"


def test_a_refusal_after_the_full_parse_names_the_file():
    (found,) = _problems(resolve, SAMPLE, Reference(NAME, version="v8.0.0"), "r.yaml")
    assert found == Problem("r.yaml", None, None, "models.churn-classifier.versions",
                            "churn-classifier has no version v8.0.0")
