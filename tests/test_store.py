"""Reading and atomically writing the registry file."""

from __future__ import annotations

import os

import pytest

from modelreg import edit, ops, store
from modelreg.problems import ModelregError


def test_write_atomic_keeps_mode_and_leaves_no_temp_files(registry_file):
    registry_file.chmod(0o640)
    store.write_atomic(registry_file, "schema: 1\nmodels: {}\n")
    assert registry_file.read_text() == "schema: 1\nmodels: {}\n"
    assert registry_file.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in registry_file.parent.iterdir()) == ["registry.yaml"]


def test_a_failed_rename_leaves_the_old_file(registry_file, monkeypatch):
    before = registry_file.read_bytes()

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        store.write_atomic(registry_file, "garbage")
    assert registry_file.read_bytes() == before
    assert sorted(p.name for p in registry_file.parent.iterdir()) == ["registry.yaml"]


def test_apply_refuses_an_edit_that_does_not_mean_what_was_intended(registry_file, monkeypatch):
    loaded = store.load(registry_file)
    new = ops.set_stage(loaded.data, "churn-classifier", "staging", "v1.2.0", "r", "x")
    real = edit.render
    monkeypatch.setattr(edit, "render", lambda text, old, new_: real(text, old, new_).replace("v1.2.0", "v1.0.0", 1))
    before = registry_file.read_bytes()
    with pytest.raises(ModelregError) as info:
        store.apply(loaded, new)
    assert "would not produce the intended registry; nothing was written" in str(info.value)
    assert registry_file.read_bytes() == before


def test_apply_writes_and_returns_events(registry_file):
    loaded = store.load(registry_file)
    new = ops.set_stage(loaded.data, "churn-classifier", "staging", "v1.2.0", "r", "x")
    text, events = store.apply(loaded, new)
    assert registry_file.read_text() == text
    assert [e.describe() for e in events] == ["churn-classifier: staging -> v1.2.0 (was v1.3.0)"]


def test_find_registry_walks_up_to_the_repository(registry_file, monkeypatch):
    nested = registry_file.parent.parent / "a" / "b"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert store.find_registry().resolve() == registry_file.resolve()
