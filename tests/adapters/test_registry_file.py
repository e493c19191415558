"""Reading and atomically writing the registry file."""

from __future__ import annotations

import os

import pytest

from modelreg.adapters import registry_file as files
from modelreg.core.problems import ModelregError


def test_write_atomic_keeps_mode_and_leaves_no_temp_files(registry_file):
    registry_file.chmod(0o640)
    files.write_atomic(registry_file, "schema: 1\nmodels: {}\n")
    assert registry_file.read_text() == "schema: 1\nmodels: {}\n"
    assert registry_file.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in registry_file.parent.iterdir()) == ["registry.yaml"]


def test_a_failed_rename_leaves_the_old_file(registry_file, monkeypatch):
    before = registry_file.read_bytes()

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        files.write_atomic(registry_file, "garbage")
    assert registry_file.read_bytes() == before
    assert sorted(p.name for p in registry_file.parent.iterdir()) == ["registry.yaml"]


def test_the_temporary_file_is_made_beside_the_registry(registry_file, monkeypatch):
    """os.replace is atomic only within one file system: the temp file must sit in the registry's folder."""
    seen = []
    real = os.replace

    def spy(source, target):
        seen.append((os.path.dirname(os.path.abspath(source)), os.path.dirname(os.path.abspath(target))))
        real(source, target)

    monkeypatch.setattr(os, "replace", spy)
    files.write_atomic(registry_file, "schema: 1\nmodels: {}\n")
    assert seen == [(str(registry_file.parent.resolve()), str(registry_file.parent.resolve()))]


def test_find_registry_walks_up_to_the_repository(registry_file, monkeypatch):
    nested = registry_file.parent.parent / "a" / "b"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert files.find_registry().resolve() == registry_file.resolve()


def test_loaded_knows_its_repository_and_relative_path(registry_file):
    loaded = files.load(registry_file)
    assert loaded.repo == registry_file.resolve().parent.parent
    assert loaded.relative_to() == "models/registry.yaml"


def test_a_missing_file_names_the_file_and_says_what_to_do(tmp_path):
    with pytest.raises(ModelregError) as info:
        files.load(tmp_path / "models" / "registry.yaml")
    assert "registry file not found" in str(info.value) and "modelreg init" in str(info.value)
