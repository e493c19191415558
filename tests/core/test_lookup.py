"""resolve's fast path reads a few blocks; it must answer exactly as a full parse does."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelreg.core import lookup
from modelreg.adapters import registry_file
from modelreg.core.lookup import Reference, parse_reference
from modelreg.core.problems import ModelregError, UsageError
from modelreg.core.registry import Registry

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from generate import generate  # noqa: E402

from conftest import SAMPLE  # noqa: E402


def full(text: str, ref: Reference):
    data, _ = registry_file.parse(text, "r.yaml")
    return lookup.resolve_in(Registry(data), ref, "r.yaml")


@pytest.mark.parametrize("text, expected", [
    ("churn@production", Reference("churn", stage="production")),
    ("models:/churn@staging", Reference("churn", stage="staging")),
    ("churn@v1.2.0", Reference("churn", version="v1.2.0")),
    ("churn@latest", Reference("churn", latest=True)),
])
def test_parse_reference(text, expected):
    assert parse_reference(text) == expected


def test_parse_reference_with_stage_option():
    assert parse_reference("churn", stage="production") == Reference("churn", stage="production")


@pytest.mark.parametrize("text, stage", [("churn", None), ("churn@v1.2", None), ("churn@production", "staging"),
                                         ("a b@production", None)])
def test_bad_references_are_usage_errors(text, stage):
    with pytest.raises(UsageError):
        parse_reference(text, stage)


def test_fast_path_is_taken_on_a_generated_registry():
    text = generate(1000)
    ref = Reference("model-030", stage="production")
    answer = lookup._fast(text, ref, "r.yaml")
    assert answer is not None and answer == full(text, ref)
    assert answer.version == "v19.0.0" and answer.stages == ("production",)


def test_sample_answers():
    ref = Reference("churn-classifier", stage="production")
    answer = lookup.resolve(SAMPLE, ref, "r.yaml")
    assert (answer.version, answer.md5, answer.size) == ("v1.2.0", "7d793037a0760186574b0282f2f435e7", 171002)
    assert lookup._fast(SAMPLE, ref, "r.yaml") == answer


@pytest.mark.parametrize("reference, words", [
    ("nope@production", "no model named 'nope'"),
    ("fraud-detector@production", "no version of fraud-detector holds production"),
    ("churn-classifier@qa", "unknown stage 'qa'"),
    ("churn-classifier@v7.0.0", "has no version v7.0.0"),
])
def test_resolve_errors(reference, words):
    with pytest.raises(ModelregError) as info:
        lookup.resolve(SAMPLE, parse_reference(reference), "r.yaml")
    assert words in str(info.value)


# ---- random layouts: the fast path and the full parse agree on every valid file ----

NAMES = st.sampled_from(["churn", "fraud-detector", "a", "m0", "ranker-2"])
VERSIONS = st.tuples(st.integers(0, 3), st.integers(0, 12), st.integers(0, 3)).map(lambda t: "v%d.%d.%d" % t)
HEX = st.text("0123456789abcdef", min_size=31, max_size=31).map(lambda s: s + "a")  # never all digits


@st.composite
def registries(draw):
    """Registry data plus a rendering with random (valid) layout choices."""
    models = {}
    for name in draw(st.lists(NAMES, min_size=1, max_size=4, unique=True)):
        versions = {}
        for version in draw(st.lists(VERSIONS, min_size=1, max_size=6, unique=True)):
            versions[version] = {"md5": draw(HEX), "size": draw(st.integers(0, 10**9)),
                                 "created": "2026-11-26T10:04:00Z",
                                 "notes": draw(st.sampled_from(["", "x", "a: b", "# not a comment", "production: v9.9.9",
                                                                "ends with colon:", "multi\nline"]))}
        live = list(versions)
        stages = {}
        for stage in ("staging", "production"):
            if draw(st.booleans()):
                stages[stage] = draw(st.sampled_from(live))
        history = [{"at": "2026-11-26T11:00:00Z", "by": "a", "stage": s, "version": v, "previous": None,
                    "reason": "r"} for s, v in stages.items()]
        models[name] = {"path": f"models/{name}/model.pkl", "stages": stages, "versions": versions,
                        "history": history}
    layout = {
        "indent": draw(st.sampled_from([2, 4])),
        "flow_stages": draw(st.booleans()),
        "flow_versions": draw(st.booleans()),
        "comments": draw(st.booleans()),
        "blank_lines": draw(st.booleans()),
        "quote": draw(st.sampled_from(["", "'", '"'])),
        "settings_after": draw(st.booleans()),
        "field_order": draw(st.permutations(["path", "stages", "versions", "history"])),
    }
    return {"schema": 1, "models": models}, layout


def _scalar(value, quote: str) -> str:
    import json

    if isinstance(value, str):
        if quote == '"' or "\n" in value or value == "" or ":" in value or "#" in value:
            return json.dumps(value)
        if quote == "'":
            return "'" + value.replace("'", "''") + "'"
        return value
    return "null" if value is None else str(value)


def render(data: dict, layout: dict) -> str:
    pad = " " * layout["indent"]
    comment = "  # note: production: v0.0.0" if layout["comments"] else ""
    lines = ["# registry", "schema: 1"] if not layout["settings_after"] else []
    lines.append("models:" + comment)
    for name, model in data["models"].items():
        lines.append(f"{pad}{name}:")
        if layout["blank_lines"]:
            lines.append("")
        for field in layout["field_order"]:
            p2 = pad * 2
            if field == "path":
                lines.append(f"{p2}path: {_scalar(model['path'], layout['quote'])}{comment}")
            elif field == "stages":
                if layout["flow_stages"] or not model["stages"]:
                    inner = ", ".join(f"{k}: {v}" for k, v in model["stages"].items())
                    lines.append(f"{p2}stages: {{{inner}}}")
                else:
                    lines.append(f"{p2}stages:")
                    lines += [f"{p2}{pad}{k}: {_scalar(v, layout['quote'])}{comment}" for k, v in model["stages"].items()]
            elif field == "versions":
                lines.append(f"{p2}versions:")
                for version, record in model["versions"].items():
                    if layout["comments"]:
                        lines.append(f"{p2}{pad}# {version}: a comment that looks like a key")
                    if layout["flow_versions"]:
                        inner = ", ".join(f"{k}: {_scalar(v, layout['quote'])}" for k, v in record.items())
                        lines.append(f"{p2}{pad}{version}: {{{inner}}}")
                    else:
                        lines.append(f"{p2}{pad}{version}:")
                        lines += [f"{p2}{pad * 2}{k}: {_scalar(v, layout['quote'])}" for k, v in record.items()]
                    if layout["blank_lines"]:
                        lines.append("")
            else:
                if not model["history"]:
                    lines.append(f"{p2}history: []")
                    continue
                lines.append(f"{p2}history:")
                for entry in model["history"]:
                    inner = ", ".join(f"{k}: {_scalar(v, layout['quote'])}" for k, v in entry.items())
                    lines.append(f"{p2}- {{{inner}}}")
    if layout["settings_after"]:
        lines += ["schema: 1", "settings: {stages: [staging, production]}"]
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None)
@given(registries(), st.data())
def test_fast_path_agrees_with_full_parse(generated, data):
    document, layout = generated
    text = render(document, layout)
    parsed, _ = registry_file.parse(text, "r.yaml")
    settings_ = {"settings": {"stages": ["staging", "production"]}} if layout["settings_after"] else {}
    assert parsed == {**document, **settings_}  # the renderer wrote what we meant
    name = data.draw(st.sampled_from(sorted(document["models"])))
    model = document["models"][name]
    choice = data.draw(st.sampled_from(["staging", "production", *model["versions"], "v9.9.9"]))
    ref = Reference(name, stage=choice) if not choice.startswith("v") else Reference(name, version=choice)
    try:
        expected = full(text, ref)
    except ModelregError:
        expected = None
    fast = lookup._fast(text, ref, "r.yaml")
    if fast is not None:  # the fast path may decline (then resolve parses everything), never differ
        assert fast == expected
    if expected is not None and not layout["flow_versions"]:
        assert fast is not None  # and on block-style files it does answer


def test_a_refusal_on_the_fast_path_is_said_by_the_full_parse_with_the_registrys_own_problems_first():
    """settings.stages holds an invalid stage name and the model a bool key: the fast path, which reads
    neither check, would answer "unknown stage" with no line; the full parse says what is wrong where."""
    text = SAMPLE.replace("schema: 1\n", "schema: 1\nsettings:\n  stages: [staging, 0X1F]\n", 1) \
        .replace("    gates:\n", "    true:\n", 1)
    with pytest.raises(ModelregError) as info:
        lookup.resolve(text, Reference("churn-classifier", stage="production"), "r.yaml")
    assert info.value.problems and all(isinstance(p.line, int) for p in info.value.problems), info.value.problems
