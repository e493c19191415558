"""views.markdown: md() neutralises everything a PR author could smuggle in; tables escape their cells."""

from __future__ import annotations

import copy

import pytest

from modelreg.core import document
from modelreg.core.compare import compare
from modelreg.core.registry import Registry
from modelreg.views.markdown import comparison_markdown, markdown_table, md

from conftest import SAMPLE

BASE = document.parse(SAMPLE, "r.yaml")[0]


@pytest.mark.parametrize("text, safe", [
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ("<img src=x onerror=y>", "&lt;img src=x onerror=y&gt;"),
    ("a & b", "a &amp; b"),
    ("&lt;b&gt;", "&amp;lt;b&amp;gt;"),  # an entity shows as typed, it does not become a tag
    ("[click](https://evil.example)", "\\[click\\](https:&#8203;//evil.example)"),
    ("see https://evil.example or www.evil.example", "see https:&#8203;//evil.example or www&#8203;.evil.example"),
    ("bidi\u202eesrever and nul\x00 and zw\u200bsp", "bidi esrever and nul  and zw sp"),
    ("![img](x)", "!\\[img\\](x)"),
    ("*bold* _it_ ~~gone~~", "\\*bold\\* \\_it\\_ \\~\\~gone\\~\\~"),
    ("`code`", "\\`code\\`"),
    ("a | b", "a \\| b"),
    ("# Heading", "\\# Heading"),
    ("back\\slash", "back\\\\slash"),
    ("ping @alice and @acme/team", "ping @&#8203;alice and @&#8203;acme/team"),
    ("one\ntwo", "one two"),
    ("one\r\ntwo", "one  two"),
    ("plain words, 0.861", "plain words, 0.861"),
])
def test_md(text, safe):
    assert md(text) == safe


def test_md_of_non_text():
    assert md(None) == ""
    assert md(0.5) == "0.5"
    assert md(0) == "0"


def test_md_leaves_no_line_break_or_raw_markup():
    out = md("x\n# h\n<a>\n|t|")
    assert "\n" not in out and "<" not in out and ">" not in out
    assert "|" not in out.replace("\\|", "")


def test_markdown_table_shape_and_escaping():
    table = markdown_table(["name", "note"], [["v1|2", "a\nb"], ["@bob", None]])
    assert table.split("\n") == [
        "| name | note |",
        "|---|---|",
        "| v1\\|2 | a b |",
        "| @&#8203;bob |  |",
    ]


def test_markdown_table_escapes_headers_and_has_one_separator_per_column():
    lines = markdown_table(["a|b", "c", "d"], []).split("\n")
    assert lines == ["| a\\|b | c | d |", "|---|---|---|"]


def test_comparison_markdown():
    data = copy.deepcopy(BASE)
    data["models"]["churn-classifier"]["versions"]["v1.1.0"] = {
        "md5": "b" * 32, "size": 1, "created": "2026-11-10T00:00:00Z", "notes": "<b>",
        "metrics": {"roc_auc": 0.7, "accuracy": 0.9}, "data": {"path": "data/other.csv", "md5": "c" * 32}}
    model = Registry(data).model("churn-classifier")
    text = comparison_markdown(compare(model, ["v1.1.0", "v1.3.0"], ("staging", "production")))
    lines = text.splitlines()
    assert lines[0] == "### churn-classifier: versions compared"
    assert "deltas are against v1.2.0 (production)" in lines[1]
    assert "| version | stage | roc\\_auc | accuracy | staging gate | production gate | best |" in lines
    assert "| v1.3.0 | staging | 0.861 (+0.0190) | 0.812 (+0.0110) | ✅ | ✅ | ★ |" in lines
    assert "| v1.2.0 | production | 0.842 | 0.801 | ✅ | ✅ |  |" in lines
    assert "| v1.1.0 |  | 0.7 (-0.1420) | 0.9 (+0.0990) | ❌ | ❌ |  |" in lines
    assert "- v1.1.0 staging: roc\\_auc 0.7 &lt; min 0.75" in lines  # detail text is escaped too
    assert "| n\\_estimators | 200 | 120 | 200 |" not in lines  # v1.1.0 has no params: shown as blank
    assert "| n\\_estimators |  | 120 | 200 |" in lines
    assert any(line.startswith("Training data: v1.1.0 data/other.csv cccccccc") for line in lines)
    assert text.endswith("\n")


def test_comparison_markdown_escapes_the_metric_name():
    data = copy.deepcopy(BASE)
    model = data["models"]["churn-classifier"]
    model["metric"]["name"] = "auc` <img src=x> @everyone [x](https://evil.example) `"
    text = comparison_markdown(compare(Registry(data).model("churn-classifier"), None, ("staging", "production")))
    assert "<img" not in text
    assert "@everyone" not in text
    assert "[x](https://evil.example)" not in text
