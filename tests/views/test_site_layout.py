"""The web page's chart keeps every label inside the picture, and long reasons wrap as text, not word by word."""

from __future__ import annotations

import re

from modelreg.core import yamlread
from modelreg.core.registry import Registry
from modelreg.views.site import CSS, _text_width, chart, page

from conftest import SAMPLE


def labels(svg: str) -> list[tuple[float, str, str]]:
    return [(float(x), anchor, text) for x, anchor, text in
            re.findall(r'<text x="([\d.]+)" y="[\d.]+" text-anchor="(\w+)">([^<]*)</text>', svg)]


def test_no_chart_label_is_cut_at_an_edge():
    data = yamlread.load(SAMPLE, "s")[0]
    model = data["models"]["churn-classifier"]
    model["versions"]["v10.12.0"] = {**model["versions"]["v1.3.0"], "md5": "f" * 32}
    model["versions"]["v1.3.0"]["metrics"]["roc_auc"] = 1234.5  # wide tick labels on the left
    svg = chart(Registry(data).model("churn-classifier"), [])
    width = float(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    found = labels(svg)
    assert any(text == "v10.12.0" for _, _, text in found)
    for x, anchor, text in found:
        left, right = {"middle": (x - _text_width(text) / 2, x + _text_width(text) / 2),
                       "end": (x - _text_width(text), x)}[anchor]
        assert 0 <= left and right <= width, (text, left, right, width)


def test_reason_and_notes_columns_wrap_as_sentences():
    html = page(Registry(yamlread.load(SAMPLE, "s")[0]), [], None, "now", "test")
    assert "td.wrap>div{min-width:16em" in CSS.replace("\n", "")
    assert '<td class="wrap"><div>More trees, new features.</div></td>' in html
