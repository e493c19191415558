"""flows/release: the bounded walk gives exactly the tags and releases of the whole-history walk;
tags are the very objects `git tag -a` made; tags modelreg did not make are never trusted."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from modelreg.adapters import git as git_adapter
from modelreg.core.problems import ModelregError
from modelreg.flows import release

from conftest import git, init_git

REGISTRY = "models/registry.yaml"
GTO = str(Path(sys.executable).parent / "gto")


# ---- tag objects: byte for byte what `git tag -a` made ----

@pytest.mark.parametrize("tagger", ["alice", "Jane Doe", "o'brien.", " .x. ", "a@b.example", "名前", "x<y>z",
                                    "trailing;", "new\nline", "\"quoted\"", "-dash-"])
def test_create_tags_makes_the_objects_git_tag_makes(tmp_path, tagger):
    init_git(tmp_path)
    git("commit", "-q", "--allow-empty", "-m", "c", cwd=tmp_path)
    head = git("rev-parse", "HEAD", cwd=tmp_path).strip()
    message = json.dumps({"modelreg": 1, "reason": "a\n# not a comment", "by": tagger}, indent=2, sort_keys=True)
    git_adapter.create_tag("old", head, message, 1_790_000_000, tagger, tmp_path)
    git_adapter.create_tags([("new", head, message, 1_790_000_000, tagger)], tmp_path)
    old = git("cat-file", "tag", "old", cwd=tmp_path).replace("\ntag old\n", "\ntag new\n")
    assert git("cat-file", "tag", "new", cwd=tmp_path) == old


def test_create_tags_cleans_a_message_as_git_tag_does(tmp_path):
    init_git(tmp_path)
    git("commit", "-q", "--allow-empty", "-m", "c", cwd=tmp_path)
    head = git("rev-parse", "HEAD", cwd=tmp_path).strip()
    message = "\n\n  hello  \n# a comment\n\n\n\nworld\t\n\n"
    git_adapter.create_tag("old", head, message, 5, "bob", tmp_path)
    git_adapter.create_tags([("new", head, message, 5, "bob")], tmp_path)
    old = git("cat-file", "tag", "old", cwd=tmp_path).replace("\ntag old\n", "\ntag new\n")
    assert git("cat-file", "tag", "new", cwd=tmp_path) == old


def test_create_tags_is_all_or_nothing(tmp_path):
    init_git(tmp_path)
    git("commit", "-q", "--allow-empty", "-m", "c", cwd=tmp_path)
    head = git("rev-parse", "HEAD", cwd=tmp_path).strip()
    git("tag", "b", cwd=tmp_path)
    with pytest.raises(ModelregError, match="none was created"):
        git_adapter.create_tags([("a", head, "m", 1, "x"), ("b", head, "m", 1, "x")], tmp_path)
    assert git("tag", "-l", cwd=tmp_path).split() == ["b"]


# ---- the bounded walk equals the whole-history walk ----

class StubGitHub:
    """Pull requests per commit (deterministic) and the releases the run asks for."""

    settings = SimpleNamespace(web_url="https://github.com/acme/models", token=None)

    def __init__(self):
        self.synced: list[dict] = []

    def pull_request_for_commit(self, sha: str):
        return int(sha[:4], 16) % 97, ["bob"]

    def sync_releases(self, wanted: dict) -> dict:
        self.synced.append(wanted)
        return {tag: "unchanged" for tag in wanted}


class Model:
    def __init__(self, name: str):
        self.name, self.versions, self.archived, self.stages, self.history = name, [], {}, {}, []

    def text(self) -> str:
        lines = [f"  {self.name}:", f"    path: models/{self.name}/model.pkl", "    format: pickle"]
        lines += ["    stages:"] + [f"      {s}: {v}" for s, v in self.stages.items()] if self.stages \
            else ["    stages: {}"]
        lines.append("    versions:" if self.versions else "    versions: {}")
        for number, version in enumerate(self.versions):
            lines += [f"      {version}:", f"        md5: a{number:031x}", "        size: 10",
                      "        created: 2026-11-26T10:00:00Z", f"        author: {'alice' if number % 2 else 'bob'}",
                      f"        metrics: {{auc: 0.{number + 10}}}"]
            if version in self.archived:
                lines.append(f"        archived: {self.archived[version]}")
        lines += ["    history:", *self.history] if self.history else ["    history: []"]
        return "\n".join(lines) + "\n"

    def move(self, stage: str, version: str | None, by: str, at: str) -> None:
        previous = self.stages.get(stage)
        if version is None:
            del self.stages[stage]
        else:
            self.stages[stage] = version
        self.history.append(f"      - {{at: {at}, by: {by}, stage: {stage}, version: {version or 'null'}, "
                            f"previous: {previous or 'null'}, reason: step {len(self.history)}}}")


class Twins:
    """Two repositories with the same commits: `full` releases walking the whole history, `bounded` from the
    newest release on. Every release runs in both and must leave the very same tag objects behind."""

    def __init__(self, base: Path, models: int = 3):
        self.full, self.bounded = base / "full", base / "bounded"
        self.models = [Model(f"model-{i}") for i in range(models)]
        self.date = 1_790_000_000
        self.description = 0
        self.full.mkdir(parents=True)
        init_git(self.full)
        self.write("the registry")
        git("clone", "-q", "--no-tags", str(self.full), str(self.bounded), cwd=base)
        init_git_user(self.bounded)
        self.hubs = {self.full: StubGitHub(), self.bounded: StubGitHub()}
        self.runs, self.bounded_runs = 0, 0

    def at(self) -> str:
        import time

        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.date))

    def env(self) -> dict:
        stamp = f"@{self.date} +0000"
        return {**os.environ, "GIT_COMMITTER_DATE": stamp, "GIT_AUTHOR_DATE": stamp}

    def write(self, message: str, cwd: Path | None = None) -> None:
        cwd = cwd or self.full
        path = cwd / REGISTRY
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"schema: 1\n# description {self.description}\nmodels:\n"
                        + "".join(m.text() for m in self.models))
        subprocess.run(["git", "add", "-A"], cwd=cwd, check=True)
        subprocess.run(["git", "commit", "-qm", message], cwd=cwd, check=True, env=self.env())
        self.date += 60

    def head(self) -> str:
        return git("rev-parse", "HEAD", cwd=self.full).strip()

    def tag_in_both(self, *args: str) -> None:
        """A tag someone else makes (in `full`), then fetched into `bounded` as a clone would have it."""
        subprocess.run(["git", "tag", *args], cwd=self.full, check=True, env=self.env(), capture_output=True)
        self.fetch_tag(args[args.index("-a") + 1] if "-a" in args else args[0])

    def fetch_tag(self, name: str) -> None:
        git("fetch", "-q", "--no-tags", str(self.full), f"refs/tags/{name}:refs/tags/{name}", cwd=self.bounded)

    def delete_in_both(self, name: str) -> None:
        for root in (self.full, self.bounded):
            git("tag", "-d", name, cwd=root)

    def release(self, refused: bool = False):
        """Run the release in both; returns the bounded run's result (or the error both raised)."""
        git("fetch", "-q", "--no-tags", str(self.full), "main", cwd=self.bounded)
        git("reset", "-q", "--hard", "FETCH_HEAD", cwd=self.bounded)
        outcomes = {}
        for root, full in ((self.full, True), (self.bounded, False)):
            try:
                outcomes[root] = release.run(root, REGISTRY, push_to=None, copy_artifacts=False,
                                             github=self.hubs[root], full_history=full)
            except ModelregError as error:
                outcomes[root] = error
        a, b = outcomes[self.full], outcomes[self.bounded]
        assert type(a) is type(b), (a, b)
        assert isinstance(a, ModelregError) == refused, a
        if isinstance(a, ModelregError):
            assert str(a) == str(b)
        else:
            assert [(t.name, t.target, t.date) for t in a.tags] == [(t.name, t.target, t.date) for t in b.tags]
        assert refs(self.full) == refs(self.bounded)
        assert self.hubs[self.full].synced == self.hubs[self.bounded].synced
        self.runs += 1
        if not isinstance(a, ModelregError):
            assert a.since is None
            self.bounded_runs += b.since is not None
        return b


def refs(root: Path) -> dict[str, str]:
    out = git("for-each-ref", "refs/tags", "--format=%(refname) %(objectname)", cwd=root)
    return dict(line.split() for line in out.splitlines())


def init_git_user(root: Path) -> None:
    git("config", "user.name", "tester", cwd=root)
    git("config", "user.email", "tester@example.com", cwd=root)


def step(twins: Twins, rnd: random.Random, foreign_versions: bool) -> None:
    model = rnd.choice(twins.models)
    live = [v for v in model.versions if v not in model.archived]
    choice = rnd.random()
    who = rnd.choice(["alice", "bob", "carol"])
    if choice < 0.3 or not live:
        model.versions.append(f"v1.{len(model.versions)}.0")
        twins.write(f"register {model.name}")
        if foreign_versions and rnd.random() < 0.15:  # GTO (or a person) tags it on the commit that registered it
            twins.tag_in_both("-a", f"{model.name}@{model.versions[-1]}", "-m", "Registering artifact", "HEAD")
    elif choice < 0.5 and model.stages.get("staging") != live[-1]:
        model.move("staging", live[-1], who, twins.at())
        twins.write(f"stage {model.name}")
    elif choice < 0.65 and model.stages.get("staging") and model.stages.get("production") != model.stages["staging"]:
        model.move("production", model.stages["staging"], who, twins.at())
        twins.write(f"ship {model.name}")
    elif choice < 0.72 and model.stages.get("staging"):
        model.move("staging", None, who, twins.at())
        twins.write(f"empty staging of {model.name}")
    elif choice < 0.8 and [v for v in live if v not in model.stages.values()]:
        model.archived[rnd.choice([v for v in live if v not in model.stages.values()])] = "superseded"
        twins.write(f"archive in {model.name}")
    elif choice < 0.88:
        name = f"{model.name}#production#{rnd.randint(1, 40)}"
        if name not in refs(twins.full) and f"refs/tags/{name}" not in refs(twins.full):
            twins.tag_in_both("-a", name, "-m", "pushed by hand", "HEAD")  # a foreign stage tag
    else:
        twins.description += 1
        twins.write("edit a comment: no events")


@pytest.mark.parametrize("seed, foreign_versions", [(1, False), (2, False), (3, False), (4, True), (5, True)])
def test_bounded_walk_gives_the_tags_and_releases_of_the_whole_history(tmp_path, seed, foreign_versions):
    """Random registers, promotions, emptied stages, archivals, comment edits, stage tags pushed by hand
    (and, with foreign_versions, version tags made outside modelreg), with releases run after some steps
    only: the runs in between were cancelled, and the next one catches up."""
    rnd = random.Random(seed)
    twins = Twins(tmp_path)
    for _ in range(45):
        step(twins, rnd, foreign_versions)
        if rnd.random() < 0.3:  # the other runs were cancelled: the next one catches up
            twins.release()
    result = twins.release()
    assert twins.runs >= 5 and any("@" in name for name in refs(twins.bounded))
    if not foreign_versions:  # an adopted foreign version tag has the release read the whole history
        assert twins.bounded_runs >= twins.runs - 3  # the others read only the commits after the newest release
    again = twins.release()
    assert again.tags == [] and result is not None
    check_audit(twins.bounded)
    model = twins.models[0]  # and with entries no release has tagged yet
    model.versions.append("v9.0.0")
    model.move("staging", "v9.0.0", "dave", twins.at())
    twins.write("one more, not released", cwd=twins.full)
    git("fetch", "-q", "--no-tags", str(twins.full), "main", cwd=twins.bounded)
    git("reset", "-q", "--hard", "FETCH_HEAD", cwd=twins.bounded)
    check_audit(twins.bounded)


def check_audit(root: Path) -> None:
    """The audit reads each entry's main commit from the tags (and the commits after the newest release);
    the whole history says the same."""
    from modelreg.core.document import parse
    from modelreg.core.registry import Registry
    from modelreg.flows import audit

    registry = Registry(parse((root / REGISTRY).read_text(), "r")[0])
    existing = git_adapter.tags(root)
    tag_data = {(t.data["model"], t.data["history_index"]): t.data for t in existing.values()
                if t.data and isinstance(t.data.get("history_index"), int)}
    names = registry.model_names
    fast = audit.entry_commits(root, REGISTRY, registry, names, existing, tag_data)
    assert fast == audit.entry_commits(root, REGISTRY, registry, names, existing, tag_data, full=True)
    assert len(fast) == sum(len(m.history) for m in registry.models()) > 0


def test_two_merges_one_run_and_hand_pushed_tags(tmp_path):
    twins = Twins(tmp_path, models=1)
    model = twins.models[0]
    model.versions.append("v1.0.0")
    twins.write("register")
    twins.release()
    for stage, message in (("staging", "stage it"), ("production", "ship it")):
        git("checkout", "-q", "-b", stage, cwd=twins.full)
        model.move(stage, "v1.0.0", "alice", twins.at())
        twins.write(message)
        git("checkout", "-q", "main", cwd=twins.full)
        subprocess.run(["git", "merge", "-q", "--no-ff", stage, "-m", f"Merge {stage}"], cwd=twins.full, check=True,
                       env=twins.env())
        twins.date += 60
    twins.tag_in_both("-a", "model-0#production#7", "-m", "by hand", "HEAD~1")
    result = twins.release()  # the run of the first merge was cancelled
    assert [t.name for t in result.tags] == ["model-0#staging#8", "model-0#production#9"]
    assert "tag model-0#production#7 was not made by modelreg" in " ".join(result.warnings)
    merges = git("log", "--first-parent", "--format=%H", "-2", cwd=twins.full).split()
    assert [t.commit for t in result.tags] == merges[::-1]  # the main commits: the merges
    assert twins.release().tags == []


def test_foreign_version_tags_from_gto(tmp_path):
    twins = Twins(tmp_path, models=2)
    first, second = twins.models
    first.versions.append("v1.0.0")
    twins.write("register first")
    registering = twins.head()
    second.versions.append("v1.0.0")
    twins.write("register second")
    subprocess.run([GTO, "register", "model-0", registering, "--version", "v1.0.0"], cwd=twins.full, check=True,
                   capture_output=True)  # GTO's tag, on the commit that registered it: adopted
    twins.fetch_tag("model-0@v1.0.0")
    first.move("production", "v1.0.0", "alice", twins.at())
    twins.write("ship first")
    result = twins.release()
    assert "tag model-0@v1.0.0 was not made by modelreg; it points at the commit that registered the version" in \
        " ".join(result.warnings)
    assert ("model-0#production#1", registering) in [(t.name, t.target) for t in result.tags]
    assert "model-0@v1.0.0" not in [t.name for t in result.tags]
    shown = subprocess.run([GTO, "show", "model-0#production", "--version"], cwd=twins.bounded, capture_output=True,
                           text=True)
    assert shown.stdout.strip() == "v1.0.0", shown.stderr

    second.versions.append("v1.1.0")
    twins.write("register second v1.1.0")
    subprocess.run([GTO, "register", "model-1", registering, "--version", "v1.1.0"], cwd=twins.full, check=True,
                   capture_output=True)  # GTO's tag on another commit than the registry's: refused
    twins.fetch_tag("model-1@v1.1.0")
    second.move("production", "v1.1.0", "bob", twins.at())
    twins.write("ship second")
    before = refs(twins.bounded)
    error = twins.release(refused=True)
    assert f"tag model-1@v1.1.0 was not made by modelreg and points at {registering[:12]}" in str(error)
    assert "nothing was copied, tagged or pushed" in str(error)
    assert refs(twins.bounded) == before
    twins.delete_in_both("model-1@v1.1.0")  # as the message says; then the release catches up
    result = twins.release()
    assert {t.name for t in result.tags} == {"model-1@v1.1.0", "model-1#production#1"}


# ---- the release with DVC remotes and the real CLI: foreign version tags (issue 12) ----

def registry_object(repo: Path, md5: str) -> Path:
    return repo.parent / "remotes" / "registry" / "files" / "md5" / md5[:2] / md5[2:]


def promote_on_main(repo: Path) -> None:
    subprocess.run([sys.executable, "-m", "modelreg", "promote", "churn-classifier", "v1.0.0", "--to", "production",
                    "--reason", "ship", "--by", "alice", "--commit"], cwd=repo, check=True, capture_output=True)
    git("push", "-q", "origin", "main", cwd=repo)


def gto_register(repo: Path, commit: str) -> None:
    subprocess.run([GTO, "register", "churn-classifier", commit, "--version", "v1.0.0"], cwd=repo, check=True,
                   capture_output=True)
    git("push", "-q", "origin", "churn-classifier@v1.0.0", cwd=repo)


def version_md5(repo: Path) -> str:
    out = subprocess.run([sys.executable, "-m", "modelreg", "resolve", "churn-classifier@v1.0.0", "--json"], cwd=repo,
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)["md5"]


@pytest.mark.slow
def test_a_foreign_version_tag_on_another_commit_stops_the_release(repo):
    from ci_support import ci, tags_on

    registering = git("log", "-1", "--format=%H", "--", REGISTRY, cwd=repo).strip()
    gto_register(repo, registering + "~2")  # before training: DVC records no such artifact there
    promote_on_main(repo)
    result = ci(repo, None, "release")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "tag churn-classifier@v1.0.0 was not made by modelreg and points at" in result.stderr
    assert f"but {registering[:12]} registered churn-classifier v1.0.0" in result.stderr
    assert "git push origin :refs/tags/churn-classifier@v1.0.0" in result.stderr
    assert set(tags_on(repo.parent / "origin.git")) == {"churn-classifier@v1.0.0"}  # nothing pushed
    assert git("tag", "-l", cwd=repo).split() == ["churn-classifier@v1.0.0"]  # nothing tagged
    assert not registry_object(repo, version_md5(repo)).exists()  # nothing copied


@pytest.mark.slow
def test_a_foreign_version_tag_on_the_training_commit_with_the_same_artifact_is_adopted(repo):
    """GTO tags the commit that trained a version; where DVC records the very md5 there, it is the same artifact."""
    from ci_support import ci

    registering = git("log", "-1", "--format=%H", "--", REGISTRY, cwd=repo).strip()
    gto_register(repo, registering + "~1")
    promote_on_main(repo)
    result = ci(repo, None, "release", "--no-push")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "the commit the version record names as its training commit" in result.stdout
    stage_tag = next(name for name in git("tag", "-l", cwd=repo).split() if "#production#" in name)
    assert git("rev-list", "-n", "1", stage_tag, cwd=repo).strip() == git("rev-parse", registering + "~1",
                                                                            cwd=repo).strip()


@pytest.mark.slow
def test_a_foreign_version_tag_on_the_registering_commit_is_adopted_and_the_bytes_copied(repo):
    from ci_support import ci, tags_on

    registering = git("log", "-1", "--format=%H", "--", REGISTRY, cwd=repo).strip()
    gto_register(repo, registering)
    promote_on_main(repo)
    result = ci(repo, None, "release")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tag churn-classifier@&#8203;v1.0.0 was not made by modelreg; it points at the commit that registered" \
        in result.stdout  # the summary is Markdown: @ cannot mention anyone
    assert "churn-classifier v1.0.0" in result.stdout and "copied" in result.stdout
    tags = git("for-each-ref", "refs/tags", "--format=%(refname:strip=2) %(*objectname)", cwd=repo)
    assert dict(line.split() for line in tags.splitlines()) == {"churn-classifier@v1.0.0": registering,
                                                                "churn-classifier#production#1": registering}
    assert set(tags_on(repo.parent / "origin.git")) == {"churn-classifier@v1.0.0", "churn-classifier#production#1"}
    digest = version_md5(repo)
    assert registry_object(repo, digest).is_file()  # checked with the remote, not inferred from the tag
    shown = subprocess.run([GTO, "show", "churn-classifier#production", "--version"], cwd=repo, capture_output=True,
                           text=True)
    assert shown.stdout.strip() == "v1.0.0", shown.stderr
    again = ci(repo, None, "release")
    assert again.returncode == 0 and "Nothing to do" in again.stdout, again.stdout + again.stderr
