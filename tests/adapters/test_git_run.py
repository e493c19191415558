"""adapters/git.run says what is wrong: git missing, a folder that does not exist, or no repository."""

from __future__ import annotations

import pytest

from modelreg.adapters import git
from modelreg.core.problems import ModelregError

from conftest import init_git


def message(callable_) -> str:
    with pytest.raises(ModelregError) as caught:
        callable_()
    return caught.value.problems[0].message


def test_a_missing_folder_is_not_a_missing_git(tmp_path):
    text = message(lambda: git.run(["rev-parse", "--show-toplevel"], tmp_path / "nowhere" / "models"))
    assert "nowhere/models does not exist" in text and "not installed" not in text


def test_outside_a_repository(tmp_path):
    text = message(lambda: git.toplevel(tmp_path))
    assert text.startswith(f"{tmp_path} is not inside a git repository") and "git init" in text
    init_git(tmp_path)
    assert git.toplevel(tmp_path) == tmp_path.resolve()
    assert git.run(["config", "user.name"], tmp_path).strip() == "tester"


def test_git_not_installed(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert message(lambda: git.run(["status"], tmp_path)) == "git is not installed or not on PATH"


def test_commands_outside_a_repository_say_so(cli, tmp_path):
    for args in (["ci", "check", "--base", "main"], ["evaluate", "m", "v1.0.0"], ["init"]):
        code, _, err = cli(*args, cwd=tmp_path)
        assert code == 1 and "not installed" not in err, (args, err)
        assert "does not exist" in err or "is not inside a git repository" in err, (args, err)
