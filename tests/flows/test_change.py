"""The one write path: check, minimal edit, verify, atomic write, commit."""

from __future__ import annotations

import subprocess

import pytest

from modelreg.adapters import registry_file as files
from modelreg.core import edit
from modelreg.core.problems import ModelregError
from modelreg.flows import change

MODEL = "churn-classifier"


def test_apply_refuses_an_edit_that_does_not_mean_what_was_intended(registry_file, monkeypatch):
    loaded = files.load(registry_file)
    new, intent = change.promote(loaded, MODEL, "v1.2.0", "staging", "r", "x")
    real = edit.rewrite
    monkeypatch.setattr(edit, "rewrite", lambda text, old, new_, root=None: real(text, old, new_, root).replace(
        "v1.2.0", "v1.0.0", 1))
    before = registry_file.read_bytes()
    with pytest.raises(ModelregError) as info:
        change.apply(loaded, new, intent)
    assert "would not produce the intended registry; nothing was written" in str(info.value)
    assert registry_file.read_bytes() == before


def test_apply_writes_and_returns_events(registry_file):
    loaded = files.load(registry_file)
    new, intent = change.promote(loaded, MODEL, "v1.2.0", "staging", "r", "x")
    outcome = change.apply(loaded, new, intent)
    assert registry_file.read_text() == outcome.text
    assert [e.describe() for e in outcome.events] == ["churn-classifier: staging -> v1.2.0 (was v1.3.0)"]
    assert outcome.commit is None and not outcome.proposed


def test_a_refused_transition_is_placed_at_the_file_and_line(registry_file):
    loaded = files.load(registry_file)
    with pytest.raises(ModelregError) as info:
        change.promote(loaded, MODEL, "v9.9.9", "staging", "r", "x")
    problem = info.value.problems[0]
    assert problem.file == loaded.display and problem.line is not None
    assert "has no version v9.9.9" in problem.message


def test_before_write_runs_after_the_checks_and_a_failure_writes_nothing(registry_file):
    loaded = files.load(registry_file)
    new, intent = change.archive(loaded, MODEL, "v1.0.0", "old", "x")
    before = registry_file.read_bytes()

    def push_fails():
        raise ModelregError("remote down")

    with pytest.raises(ModelregError, match="remote down"):
        change.apply(loaded, new, intent, before_write=push_fails)
    assert registry_file.read_bytes() == before


def test_a_step_the_rules_refuse_never_reaches_before_write(registry_file):
    loaded = files.load(registry_file)
    new = {**loaded.data, "models": {**loaded.data["models"]}}
    new["models"][MODEL] = {**new["models"][MODEL], "versions": {}}  # deleting versions is refused
    called = []
    with pytest.raises(ModelregError):
        change.apply(loaded, new, change.Intent("x", MODEL, "", "t", "r"), before_write=lambda: called.append(1))
    assert called == []


def test_commit_mode_commits_exactly_the_registry(registry_file):
    repo = registry_file.parent.parent
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", "0"],
                   cwd=repo, check=True)
    (repo / "unrelated.txt").write_text("x")
    loaded = files.load(registry_file)
    new, intent = change.rollback(loaded, MODEL, "bad", "x")
    outcome = change.apply(loaded, new, intent, mode=change.COMMIT)
    shown = subprocess.run(["git", "show", "--stat", "--format=%s", outcome.commit], cwd=repo, capture_output=True,
                           text=True, check=True).stdout
    assert shown.splitlines()[0] == intent.title and "models/registry.yaml" in shown and "unrelated" not in shown


def test_a_one_model_write_is_checked_on_that_model_with_real_line_numbers(registry_file):
    """The fast path (one model verified and checked) refuses what the full check refuses, at the same line."""
    loaded = files.load(registry_file)
    new = {**loaded.data, "models": dict(loaded.data["models"])}
    model = dict(new["models"][MODEL])
    model["stages"] = {**model["stages"], "production": "v9.9.9"}  # a dangling pointer
    new["models"][MODEL] = model
    assert change._changed_model(loaded.data, new) == MODEL
    with pytest.raises(ModelregError) as fast:
        change.prepare(loaded, new)
    text = registry_file.read_text()
    line = text[:text.index("production: v1.2.0")].count("\n") + 1
    assert any(p.line == line and "v9.9.9" in p.message for p in fast.value.problems), fast.value.problems


def test_the_fast_path_and_the_full_path_agree(registry_file, monkeypatch):
    loaded = files.load(registry_file)
    new, _ = change.promote(loaded, MODEL, "v1.2.0", "staging", "r", "x")
    fast = change.prepare(loaded, new)
    monkeypatch.setattr(change, "_changed_model", lambda old, new_: None)
    full = change.prepare(loaded, new)
    assert fast[0] == full[0] and [e.describe() for e in fast[1]] == [e.describe() for e in full[1]]


@pytest.mark.parametrize("model", ["model-000", "model-007", "model-019"])
@pytest.mark.parametrize("write", ["promote", "archive"])
def test_a_write_to_one_model_composes_only_that_model_and_edits_as_the_whole_tree_does(tmp_path, model, write):
    """The editor's node tree for a one-model write comes from the text with the other models blanked to
    spaces (same indices): the edit is byte for byte the one the whole file's tree gives."""
    import sys
    from pathlib import Path

    from modelreg.core import sections
    from modelreg.core.yamlread import compose

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
    from generate import generate

    path = tmp_path / "registry.yaml"
    path.write_text(generate(400, n_models=20, seed=5))
    loaded = files.load(path)
    versions = loaded.data["models"][model]["versions"]
    if write == "promote":
        new, _ = change.promote(loaded, model, sorted(versions)[0], "staging", "bench", "alice")
    else:
        held = set(loaded.data["models"][model]["stages"].values())
        new, _ = change.archive(loaded, model, next(v for v in versions if v not in held), "old", "alice")
    tree = change._edit_tree(loaded, model)
    assert not loaded.root.composed  # the whole file's tree was never built
    masked = sections.one_model_document(loaded.text, model, same_length=True)
    assert len(masked) == len(loaded.text) and masked.count("\n") == loaded.text.count("\n")
    assert [key.value for key, _ in tree.value[-1][1].value] == [model]  # models: holds that model alone
    assert edit.rewrite(loaded.text, loaded.data, new, tree) == edit.rewrite(loaded.text, loaded.data, new,
                                                                           compose(loaded.text))
    text, _ = change.prepare(loaded, new)
    assert text == edit.rewrite(loaded.text, loaded.data, new, compose(loaded.text))
