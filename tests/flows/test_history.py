"""flows/history: the incremental reader equals a whole parse; the walks equal a commit-by-commit diff."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modelreg.adapters import git as git_adapter
from modelreg.core.diff import diff
from modelreg.core.document import parse
from modelreg.core.problems import ModelregError
from modelreg.flows import history

from conftest import ROOT, SAMPLE, git, init_git

sys.path.insert(0, str(ROOT / "tests" / "core"))
from test_lookup import registries, render  # noqa: E402  (random registry layouts)


def _bench_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_history", ROOT / "bench" / "history.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bench_history = _bench_module()  # bench/history.py: the generated histories

REGISTRY = "models/registry.yaml"


def whole(text: str):
    try:
        return parse(text, "r")[0]
    except ModelregError:
        return "error"


def incremental(reader, text: str):
    try:
        return reader.read(text, "r")[0]
    except ModelregError:
        return "error"


# ---- the incremental reader: only ever faster, never different ----

NASTY_LINES = ["models:", "  extra:", " odd: 1", "---", "...", "\tx: 1", "      - {a: 1}", "    versions: {}",
               "    history:", "      v9.9.9: {md5: x}", "  churn-classifier:", "# comment", "", "   ",
               "    history: []", "      - {at: 2026-11-26T11:00:00Z, by: x, stage: staging, version: v1.3.0,",
               "         previous: null, reason: r}", "  - item", "schema: 2", "models: {}", "  \"quoted\": {}",
               "        archived: old", "    stages: {staging: v1.0.0}", "&a x: 1", "*a", "key: |", "  text",
               "      v1.0.0:", "        md5: 2f8a5c1e2f8a5c1e2f8a5c1e2f8a5c1e", "  a b: 1", "  x:y: 1"]


@st.composite
def edited(draw, base: str):
    lines = base.split("\n")
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(lines)))
        action = draw(st.sampled_from(["insert", "delete", "duplicate", "indent", "dedent"]))
        if action == "insert":
            lines.insert(at, draw(st.sampled_from(NASTY_LINES)))
        elif lines and at < len(lines):
            if action == "delete":
                del lines[at]
            elif action == "duplicate":
                lines.insert(at, lines[at])
            elif action == "indent":
                lines[at] = " " + lines[at]
            else:
                lines[at] = lines[at][1:] if lines[at].startswith(" ") else lines[at]
    return "\n".join(lines)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_incremental_reader_equals_a_whole_parse_on_edited_files(data):
    reader = history._IncrementalReader()
    text = SAMPLE
    for _ in range(data.draw(st.integers(1, 5))):  # a sequence, so the caches are exercised too
        text = data.draw(edited(text)) if data.draw(st.booleans()) else data.draw(edited(SAMPLE))
        assert incremental(reader, text) == whole(text), text


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registries(), st.data())
def test_incremental_reader_equals_a_whole_parse_on_random_layouts(generated, data):
    document, layout = generated
    text = render(document, layout)
    reader = history._IncrementalReader()
    assert incremental(reader, text) == whole(text)
    changed = data.draw(edited(text))
    assert incremental(reader, changed) == whole(changed), changed


def test_house_style_is_read_in_pieces():
    text = bench_text(30)
    assert history.split(text) is not None
    blocks = history.split(text)[1]
    assert len(blocks) == 50 and all(history.split_model(block) is not None for block in blocks)


def bench_text(commits: int) -> str:
    rnd = random.Random(3)
    models = [bench_history._Model(i, rnd) for i in range(50)]
    for model in models:
        model.register("2026-11-26T10:00:00Z")
    for number in range(commits):
        models[rnd.randrange(50)].step("2026-11-26T11:00:00Z", number)
    return "schema: 1\nmodels:\n" + "".join(m.text() for m in models)


# ---- the walks ----

def naive(root: Path) -> list[tuple[str, int, tuple]]:
    """What the release did before: one whole parse and diff per commit."""
    out, previous = [], None
    for sha, date in git_adapter.registry_changes(REGISTRY, root):
        text = git_adapter.show_file(sha, REGISTRY, root)
        try:
            state, _ = parse(text, "r")
        except ModelregError:
            continue
        events, _ = diff(previous, state)
        out.append((sha, date, tuple((e, e.history, e.history_index) for e in events)))
        previous = state
    return out


def flat(changes) -> list[tuple[str, int, tuple]]:
    return [(c.commit, c.date, tuple((e, e.history, e.history_index) for e in c.events)) for c in changes]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """60 commits of bench/history.py's history, then a broken file, a hand edit, a new model, a comment."""
    root = bench_history.generate(tmp_path_factory.mktemp("history") / "repo", 60)
    path = root / REGISTRY
    good = path.read_text()
    for text, message in [
        (good + "  broken: [\n", "a commit whose registry does not parse"),
        (good.replace("history: []", "history:\n      - {at: 2026-11-26T11:00:00Z, by: x, stage: staging, "
                                      "version: v1.1.0,\n         previous: null, reason: by hand}", 1), "by hand"),
        (None, "a new model in flow style"),
        (None, "a comment"),
    ]:
        text = text if text is not None else path.read_text() + (
            "  zeta: {path: z, versions: {v1.0.0: {md5: 1}}, history: []}\n" if "flow" in message else "# end\n")
        path.write_text(text)
        git("commit", "-qam", message, cwd=root)
    return root


def test_full_walk_equals_a_whole_parse_per_commit(generated):
    walked = history.walk(generated, REGISTRY, full=True)
    assert flat(walked.changes) == naive(generated)
    assert walked.since is None and len(walked.warnings) == 1 and "does not parse there" in walked.warnings[0]
    assert walked.state == parse((generated / REGISTRY).read_text(), "r")[0]
    assert history.registry_history(generated, REGISTRY)[0] == walked.changes


def test_bounded_walk_starts_after_the_newest_release(generated, tmp_path):
    from modelreg.flows import release

    root = tmp_path / "copy"
    git("clone", "-q", str(generated), str(root), cwd=tmp_path)
    init_git_user(root)
    git("reset", "-q", "--hard", "HEAD~4", cwd=root)
    release.run(root, REGISTRY, push_to=None, copy_artifacts=False)
    release_commit = git("rev-parse", "HEAD", cwd=root).strip()
    git("fetch", "-q", "origin", "main", cwd=root)
    git("reset", "-q", "--hard", "FETCH_HEAD", cwd=root)
    existing = git_adapter.tags(root)
    bounded = history.walk(root, REGISTRY, existing)
    assert bounded.since == release_commit and bounded.gaps == []
    full = flat(history.walk(root, REGISTRY, full=True).changes)
    after = [c[0] for c in full].index(release_commit) + 1
    assert flat(bounded.changes) == full[after:] and len(full[after:]) == 3  # the broken commit gives none
    assert "does not parse there" in bounded.warnings[0]
    assert bounded.state == history.walk(root, REGISTRY, full=True).state


def test_bounded_walk_falls_back_to_the_whole_history_when_a_tag_is_missing(generated, tmp_path):
    from modelreg.flows import release

    root = tmp_path / "copy"
    git("clone", "-q", str(generated), str(root), cwd=tmp_path)
    init_git_user(root)
    git("reset", "-q", "--hard", "HEAD~4", cwd=root)  # the last commits leave the registry invalid
    release.run(root, REGISTRY, push_to=None, copy_artifacts=False)
    assert history.walk(root, REGISTRY, git_adapter.tags(root)).changes == []
    version_tag = next(name for name in git_adapter.tags(root) if "@" in name and not name.endswith("!"))
    git("tag", "-d", version_tag, cwd=root)  # deleted by hand: only the whole history brings it back
    walked = history.walk(root, REGISTRY, git_adapter.tags(root))
    assert walked.since is None and walked.gaps == [f"{version_tag} has no modelreg tag"]
    assert [t.name for t in release.run(root, REGISTRY, push_to=None, copy_artifacts=False).tags] == [version_tag]


def init_git_user(root: Path) -> None:
    git("config", "user.name", "tester", cwd=root)
    git("config", "user.email", "tester@example.com", cwd=root)


def test_an_empty_repository_has_no_history(tmp_path):
    init_git(tmp_path)
    walked = history.walk(tmp_path, REGISTRY, {})
    assert walked.changes == [] and walked.state is None


# ---- the tags, read while the registry is parsed ----

def test_tag_reader_reads_what_tags_reads(tmp_path):
    init_git(tmp_path)
    (tmp_path / "f").write_text("x\n")
    git("add", "f", cwd=tmp_path)
    git("commit", "-qm", "one", cwd=tmp_path)
    git("tag", "light", cwd=tmp_path)  # not annotated
    git("tag", "-a", "m@v1.0.0", "-m", '{"modelreg": 1, "model": "m"}', cwd=tmp_path)
    git("tag", "-a", "windows", "-m", "a\r\nmessage\rwith returns", cwd=tmp_path)
    git("tag", "-a", "üñï", "-m", "ünïcode\n\n  ", cwd=tmp_path)
    with git_adapter.TagReader(tmp_path) as reading:
        read = reading.result()
        assert reading.result() is read  # asked twice, read once
    assert read == git_adapter.tags(tmp_path) and len(read) == 4
    assert read["m@v1.0.0"].data == {"modelreg": 1, "model": "m"}
    assert read["windows"].message == "a\nmessage\nwith returns"
    with git_adapter.TagReader(tmp_path) as unread:  # left without asking: git is stopped and waited for
        pass
    assert unread._process.poll() is not None
    (tmp_path / "empty").mkdir()
    init_git(tmp_path / "empty")
    assert git_adapter.TagReader(tmp_path / "empty").result() == {}


def test_tag_reader_refuses_as_tags_does(tmp_path, monkeypatch):
    def refusal(read) -> str:
        with pytest.raises(ModelregError) as caught:
            read()
        return caught.value.problems[0].message

    for folder in (tmp_path, tmp_path / "nowhere"):  # no repository; no such folder
        expected = refusal(lambda folder=folder: git_adapter.tags(folder))
        assert refusal(lambda folder=folder: git_adapter.TagReader(folder).result()) == expected
        assert "is not inside a git repository" in expected or "does not exist" in expected
    monkeypatch.setenv("PATH", str(tmp_path))
    assert refusal(lambda: git_adapter.TagReader(tmp_path).result()) == "git is not installed or not on PATH"


def test_the_release_outside_a_repository_says_so_first(tmp_path):
    """The tags are read while the registry is parsed; git's refusal still comes first, as when they were read
    before it (a folder that is no repository, or does not exist)."""
    from modelreg.flows import release

    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "registry.yaml").write_text("schema: 1\nmodels: {broken\n")
    for folder, says in ((tmp_path, "is not inside a git repository"), (tmp_path / "nowhere", "does not exist")):
        with pytest.raises(ModelregError) as caught:
            release.run(folder, REGISTRY, push_to=None, copy_artifacts=False)
        assert says in caught.value.problems[0].message


def test_a_tag_git_cannot_read_is_refused_before_an_invalid_registry(tmp_path):
    from modelreg.flows import release

    init_git(tmp_path)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "registry.yaml").write_text("schema: 1\nmodels: {broken\n")
    git("add", "-A", cwd=tmp_path)
    git("commit", "-qm", "invalid", cwd=tmp_path)
    (tmp_path / ".git" / "refs" / "tags" / "ghost").write_text("1234567890" * 4 + "\n")  # names no object
    sent = []
    with pytest.MonkeyPatch.context() as patch:
        from modelreg.adapters import notifier

        patch.setattr(notifier, "send", lambda urls, messages: sent.append(messages) or (len(messages), []))
        with pytest.raises(ModelregError) as caught:
            release.run(tmp_path, REGISTRY, push_to=None, copy_artifacts=False, notify_urls=["https://example.com/x"])
    assert "for-each-ref" in caught.value.problems[0].message and "missing object" in caught.value.problems[0].message
    assert sent == []  # nobody hears of the invalid registry before the tags can be read
