"""The README's first command runs scripts/demo.py: it must keep working end to end."""

import subprocess
import sys

import pytest

from conftest import ROOT

pytestmark = pytest.mark.slow


def test_demo_lifecycle(tmp_path):
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "demo.py"), "--workdir", str(tmp_path)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    out = result.stdout
    assert "Demo finished: 11 steps ok." in out
    assert "churn-classifier#production#5" in out  # the rollback, tagged
    assert "registry.yaml unchanged: True" in out
    assert "churn probability:" in out
    assert "production -> v1.0.0 (was v1.1.0)" in out  # the rollback
    assert "archived v1.2.0" in out
