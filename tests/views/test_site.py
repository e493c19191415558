"""The registry's web page: self-contained, escaped, and rendered by a real headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from modelreg.core import yamlread
from modelreg.core.timeline import timeline
from modelreg.core.registry import Registry
from modelreg.views.site import page as render

from conftest import SAMPLE

DATA = yamlread.load(SAMPLE, "s")[0]


def page(data=DATA) -> str:
    registry = Registry(data)
    return render(registry, timeline(registry, registry.model_names, {}, {(("churn-classifier"), 1): {
        "pr": 7, "approvers": ["bob"]}}), "https://github.com/acme/models", "now", "test")


def test_page_is_self_contained_and_complete():
    html = page()
    assert not re.search(r"(src|href)=\"https?://(?!github.com/acme)", html)  # no CDN, no outside asset
    assert "<script" not in html and 'name="viewport"' in html
    assert html.count("<svg") == 2 and html.count("<circle") == 5  # 4 versions with roc_auc + 1 with loss
    assert "production: v1.2.0" in html and "staging: v1.3.0" in html
    assert '<a href="https://github.com/acme/models/pull/7">#7</a>' in html and "bob" in html
    assert "https://github.com/acme/models/commit/9fceb02d0ae598e95dc970b74767f19372d61af8" in html


def test_registry_text_cannot_inject_markup():
    data = yamlread.load(SAMPLE.replace("notes: More trees, new features.",
                                        'notes: "<script>alert(1)</script><img src=x onerror=alert(2)>"')
                         .replace("reason: More trees}", 'reason: "</td><script>alert(3)</script>"}'), "s")[0]
    html = page(data)
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;/td&gt;&lt;script&gt;alert(3)" in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(url: str, out_dir, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                           "--no-first-run", "--disable-background-networking", "--disable-component-update",
                           "--disable-sync", f"--user-data-dir={out_dir / 'profile'}", "--enable-logging=stderr",
                           "--v=0", *extra, url], capture_output=True, text=True, timeout=120)


@pytest.mark.skipif(CHROMIUM is None and os.environ.get("CI") != "true",
                    reason="Debian's chromium is not installed (.ci/run installs it)")
def test_page_in_headless_chromium(tmp_path):
    # control: the console capture sees an error when there is one
    (tmp_path / "bad.html").write_text("<html><body><script>console.error('boom ' + 42)</script></body></html>")
    control = chromium(f"file://{tmp_path / 'bad.html'}", tmp_path, "--dump-dom")
    assert "boom 42" in control.stderr
    (tmp_path / "index.html").write_text(page())
    shot = tmp_path / "phone.png"
    result = chromium(f"file://{tmp_path / 'index.html'}", tmp_path, "--window-size=390,1200",
                      f"--screenshot={shot}")
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console
    assert shot.stat().st_size > 20_000  # a real picture: text, badges and the chart
    dom = chromium(f"file://{tmp_path / 'index.html'}", tmp_path, "--dump-dom").stdout
    assert dom.count("<circle") == 5 and "churn-classifier" in dom
