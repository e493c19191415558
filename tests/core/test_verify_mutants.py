"""flows/verify.py, the wiring of the gate's DVC checks, with the adapters replaced by fakes.

The real adapters (git, dvc.lock, DVC remotes) are covered by the e2e suites; here the point is
what verify asks them and what it reports: which versions are checked, against which commit's
records, and each problem's file, line, field, words and hint. Written to kill the mutants of
`make mutation` (docs/testing.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modelreg.adapters import dvc, dvcfiles, git, registry_file
from modelreg.adapters.dvcfiles import OutRecord
from modelreg.core.diff import STAGE_ASSIGNED, VERSION_REGISTERED, Event
from modelreg.core.problems import ModelregError, Problem
from modelreg.flows import verify

from conftest import SAMPLE

CHURN, FRAUD = "churn-classifier", "fraud-detector"
CHURN_PATH, FRAUD_PATH = "models/churn-classifier/model.pkl", "models/fraud-detector/model.onnx"
MD5 = {"v1.3.0": "0c1f9b6a0c1f9b6a0c1f9b6a0c1f9b6a", "v1.2.0": "7d793037a0760186574b0282f2f435e7",
       "v1.0.0": "2f8a5c1e2f8a5c1e2f8a5c1e2f8a5c1e", "v0.9.0": "1111111111111111111111111111111a",
       "v0.1.0": "3858f62230ac3c915f300c664312c63f"}
COMMIT = "c" * 40


def line(text: str, marker: str) -> int:
    assert text.count(marker) == 1, marker
    return text[:text.index(marker)].count("\n") + 1


@pytest.fixture
def repo(tmp_path) -> Path:
    (tmp_path / "models").mkdir()
    return tmp_path


def loaded(repo: Path, text: str = SAMPLE) -> registry_file.Loaded:
    path = repo / "models" / "registry.yaml"
    path.write_text(text)
    return registry_file.from_text(path, "models/registry.yaml", text)


class Fakes:
    """git, dvcfiles and dvc as verify uses them, answering from tables and recording each call."""

    def __init__(self, monkeypatch, records=None, first_commits=None, files=None, remote=None, digests=None):
        self.records = records or {}  # (path, lock text, .dvc text) or path -> OutRecord
        self.first_commits = first_commits or {}  # md5 -> commit
        self.files = files or {}  # (rev, path) -> text
        self.remote = remote or {}  # md5 -> message
        self.digests = digests or {}  # md5 -> sha256, or an exception
        self.calls: list[tuple] = []
        monkeypatch.setattr(git, "first_commit_containing", self.first_commit_containing)
        monkeypatch.setattr(git, "show_file", self.show_file)
        monkeypatch.setattr(dvcfiles, "find_out", self.find_out)
        monkeypatch.setattr(dvc, "remote_status", self.remote_status)
        monkeypatch.setattr(dvc, "digest", self.digest)

    def first_commit_containing(self, text, path, cwd):
        self.calls.append(("first", text, path, cwd))
        return self.first_commits.get(text)

    def show_file(self, rev, path, cwd):
        self.calls.append(("show", rev, path, cwd))
        return self.files.get((rev, path))

    def find_out(self, root, path, lock_text=None, dvc_file_text=None):
        self.calls.append(("find", root, path, lock_text, dvc_file_text))
        key = (path, lock_text, dvc_file_text) if lock_text is not None else path
        return self.records.get(key)

    def remote_status(self, root, remote, wanted):
        self.calls.append(("status", root, remote, dict(wanted)))
        return {md5: self.remote.get(md5, "") for md5 in wanted}

    def digest(self, root, md5, remote, size):
        self.calls.append(("digest", root, md5, remote, size))
        answer = self.digests[md5]
        if isinstance(answer, Exception):
            raise answer
        return answer

    def of(self, kind):
        return [call[1:] for call in self.calls if call[0] == kind]


def workspace(**by_path) -> dict:
    """find_out answers for the workspace: every version of each path has the md5 given."""
    return {path: OutRecord(path, md5, 1, "dvc.lock", "train") for path, md5 in by_path.items()}


# ---- dvc_records ----

def test_without_events_every_version_is_checked_at_the_commit_that_added_it(repo, monkeypatch):
    lock = "stages: {}\n"
    fakes = Fakes(monkeypatch, first_commits={MD5["v1.2.0"]: COMMIT},
                  files={(COMMIT, "dvc.lock"): lock},
                  records={(CHURN_PATH, lock, ""): OutRecord(CHURN_PATH, "f" * 32, 1, "dvc.lock", "train"),
                           **workspace(**{CHURN_PATH: MD5["v1.3.0"], FRAUD_PATH: MD5["v0.1.0"]})})
    problems = verify.dvc_records(loaded(repo), repo, None)
    assert fakes.of("first") == [(MD5[v], "models/registry.yaml", repo)
                                 for v in ("v1.3.0", "v1.2.0", "v1.0.0", "v0.9.0", "v0.1.0")]
    assert fakes.of("show") == [(COMMIT, "dvc.lock", repo), (COMMIT, CHURN_PATH + ".dvc", repo)]
    assert (repo, CHURN_PATH, lock, "") in fakes.of("find")  # a missing .dvc file is read as empty text
    assert (repo, CHURN_PATH, None, None) in fakes.of("find")  # not committed yet: the workspace
    md5_line = line(SAMPLE, "md5: 7d793037a0760186574b0282f2f435e7")
    assert problems[0] == Problem(
        "models/registry.yaml", md5_line, 14, f"models.{CHURN}.versions.v1.2.0.md5",
        f"{MD5['v1.2.0']} differs from {'f' * 32}, which dvc.lock records for {CHURN_PATH} in commit cccccccccccc",
        "register the artifact DVC tracks, and commit dvc.lock together with the registry")
    # v1.0.0 and v0.9.0 are in no commit and the workspace records v1.3.0's md5 for the path
    assert [p.path for p in problems] == [f"models.{CHURN}.versions.{v}.md5" for v in ("v1.2.0", "v1.0.0", "v0.9.0")]
    assert problems[1].message == (f"{MD5['v1.0.0']} differs from {MD5['v1.3.0']}, which dvc.lock records for "
                                   f"{CHURN_PATH} in the workspace")


def test_a_path_dvc_does_not_know(repo, monkeypatch):
    Fakes(monkeypatch, records=workspace(**{CHURN_PATH: MD5["v1.3.0"]}))
    problems = verify.dvc_records(loaded(repo), repo, None)
    fraud = [p for p in problems if FRAUD in p.path]
    assert fraud == [Problem("models/registry.yaml", line(SAMPLE, "v0.1.0: {md5: "), 21,  # the md5's own column
                             f"models.{FRAUD}.versions.v0.1.0.md5",
                             f"DVC has no record of {FRAUD_PATH} in the workspace",
                             "declare it as a stage output in dvc.yaml or run dvc add, and commit dvc.lock with "
                             "the registry")]


def test_no_record_at_a_commit_names_the_commit(repo, monkeypatch):
    fakes = Fakes(monkeypatch, first_commits={MD5["v0.1.0"]: COMMIT},
                  files={(COMMIT, FRAUD_PATH + ".dvc"): "outs: []\n"},
                  records=workspace(**{CHURN_PATH: MD5["v1.3.0"]}))
    problems = verify.dvc_records(loaded(repo), repo, None)
    assert (repo, FRAUD_PATH, "", "outs: []\n") in fakes.of("find")  # no dvc.lock at that commit: empty text
    assert problems[-1].message == f"DVC has no record of {FRAUD_PATH} in commit cccccccccccc"


def test_with_events_only_added_versions_are_checked_against_the_workspace(repo, monkeypatch):
    fakes = Fakes(monkeypatch, records=workspace(**{CHURN_PATH: MD5["v1.3.0"], FRAUD_PATH: "e" * 32}))
    events = [Event(VERSION_REGISTERED, CHURN, "v1.3.0"), Event(VERSION_REGISTERED, FRAUD, "v0.1.0"),
              Event(STAGE_ASSIGNED, CHURN, "v1.2.0", "production")]
    problems = verify.dvc_records(loaded(repo), repo, events)
    assert fakes.of("first") == [] and fakes.of("show") == []
    assert fakes.of("find") == [(repo, CHURN_PATH, None, None), (repo, FRAUD_PATH, None, None)]
    assert [p.path for p in problems] == [f"models.{FRAUD}.versions.v0.1.0.md5"]
    assert problems[0].message.endswith(f"records for {FRAUD_PATH} in the workspace")


def test_no_events_means_nothing_to_check(repo, monkeypatch):
    fakes = Fakes(monkeypatch)
    assert verify.dvc_records(loaded(repo), repo, []) == []
    assert fakes.calls == []


def test_with_a_revision_records_come_from_that_commit(repo, monkeypatch):
    lock = "stages: {train: {}}\n"
    fakes = Fakes(monkeypatch, files={(COMMIT, "dvc.lock"): lock, (COMMIT, CHURN_PATH + ".dvc"): "x: 1\n"},
                  records={(CHURN_PATH, lock, "x: 1\n"): OutRecord(CHURN_PATH, MD5["v1.3.0"], 1, "dvc.lock")})
    problems = verify.dvc_records(loaded(repo), repo, [Event(VERSION_REGISTERED, CHURN, "v1.3.0")], revision=COMMIT)
    assert problems == []
    assert fakes.of("first") == []
    assert fakes.of("find") == [(repo, CHURN_PATH, lock, "x: 1\n")]
    without_events = verify.dvc_records(loaded(repo), repo, None, revision=COMMIT)
    assert fakes.of("first") == []  # the revision decides, for every version
    assert len(without_events) == 4 and all("in commit cccccccccccc" in p.message for p in without_events)


def test_a_change_the_workspace_agrees_with_is_clean(repo, monkeypatch):
    Fakes(monkeypatch, records=workspace(**{CHURN_PATH: MD5["v1.3.0"]}))
    assert verify.dvc_records(loaded(repo), repo, [Event(VERSION_REGISTERED, CHURN, "v1.3.0")]) == []


# ---- remote_presence ----

def test_remote_presence_asks_for_every_version_with_its_size(repo, monkeypatch):
    fakes = Fakes(monkeypatch, remote={MD5["v1.2.0"]: "missing from DVC remote 'registry'",
                                       MD5["v0.1.0"]: "has 1 bytes, not 5120"})
    problems = verify.remote_presence(loaded(repo), repo, "registry")
    ((root, remote, wanted),) = fakes.of("status")
    assert (root, remote) == (repo, "registry")
    assert wanted == {MD5["v1.3.0"]: 183204, MD5["v1.2.0"]: 171002, MD5["v1.0.0"]: 150000, MD5["v0.9.0"]: 140000,
                      MD5["v0.1.0"]: 5120}
    assert problems == [
        Problem("models/registry.yaml", line(SAMPLE, "      v1.2.0:") + 1, 9, f"models.{CHURN}.versions.v1.2.0",
                "missing from DVC remote 'registry'", "push it: dvc push -r registry"),
        Problem("models/registry.yaml", line(SAMPLE, "v0.1.0: {md5"), 15, f"models.{FRAUD}.versions.v0.1.0",
                "has 1 bytes, not 5120", "push it: dvc push -r registry"),
    ]


def test_remote_presence_of_some_versions_only(repo, monkeypatch):
    fakes = Fakes(monkeypatch)
    assert verify.remote_presence(loaded(repo), repo, "candidates", only={(CHURN, "v1.3.0"), (FRAUD, "v9.9.9")}) == []
    assert fakes.of("status") == [(repo, "candidates", {MD5["v1.3.0"]: 183204})]


def test_remote_presence_points_at_the_first_version_of_a_shared_md5(repo, monkeypatch):
    text = SAMPLE.replace("3858f62230ac3c915f300c664312c63f, size: 5120", MD5["v1.3.0"] + ", size: 183204")
    Fakes(monkeypatch, remote={MD5["v1.3.0"]: "missing"})
    (problem,) = verify.remote_presence(loaded(repo, text), repo, "registry")
    assert problem.path == f"models.{CHURN}.versions.v1.3.0"


# ---- sha256_recorded ----

SHA = "a" * 64


def with_sha256(*versions: str) -> str:
    text = SAMPLE
    for version in versions:
        text = text.replace(f"        md5: {MD5[version]}\n", f"        md5: {MD5[version]}\n        sha256: {SHA}\n")
    return text


def test_sha256_recorded(repo, monkeypatch):
    text = with_sha256("v1.2.0")
    problems = verify.sha256_recorded(loaded(repo, text), {(CHURN, "v1.3.0"), (CHURN, "v1.2.0"), (CHURN, "v8.0.0"),
                                                           (CHURN, "v1.0.0")})
    assert problems == [
        Problem("models/registry.yaml", line(text, "      v1.0.0:") + 1, 9, f"models.{CHURN}.versions.v1.0.0",
                "no sha256 recorded", "register it with modelreg register, which records the artifact's sha256"),
        Problem("models/registry.yaml", line(text, "      v1.3.0:") + 1, 9, f"models.{CHURN}.versions.v1.3.0",
                "no sha256 recorded", "register it with modelreg register, which records the artifact's sha256"),
    ]  # sorted, each at its record's first line; a version the registry lacks is not this check's to report
    assert verify.sha256_recorded(loaded(repo, text), set()) == []


# ---- remote_identity ----

def test_remote_identity(repo, monkeypatch):
    text = with_sha256("v1.3.0", "v1.2.0", "v1.0.0")
    fakes = Fakes(monkeypatch, digests={
        MD5["v1.3.0"]: SHA,
        MD5["v1.2.0"]: "b" * 64,
        MD5["v1.0.0"]: ModelregError([Problem("", None, None, "", "cannot download it", "hint"),
                                      Problem("", None, None, "", "second")]),
    })
    problems = verify.remote_identity(loaded(repo, text), repo, "candidates",
                                      {(CHURN, v) for v in ("v1.3.0", "v1.2.0", "v1.0.0", "v0.9.0", "v7.0.0")})
    assert fakes.of("digest") == [(repo, MD5["v1.0.0"], "candidates", 150000),
                                  (repo, MD5["v1.2.0"], "candidates", 171002),
                                  (repo, MD5["v1.3.0"], "candidates", 183204)]  # sorted; none without a sha256
    sha_line = [i + 1 for i, t in enumerate(text.split("\n")) if t.strip() == f"sha256: {SHA}"]
    assert problems == [
        Problem("models/registry.yaml", sha_line[2], 17, f"models.{CHURN}.versions.v1.0.0.sha256",
                "cannot download it"),
        Problem("models/registry.yaml", sha_line[1], 17, f"models.{CHURN}.versions.v1.2.0.sha256",
                f"the bytes under md5 {MD5['v1.2.0']} in 'candidates' have sha256 {'b' * 64}, not the recorded "
                f"{SHA}", "these are not the bytes that were registered"),
    ]


def test_versions_after_one_that_was_not_added_are_still_checked(repo, monkeypatch):
    fakes = Fakes(monkeypatch, records=workspace(**{CHURN_PATH: MD5["v1.3.0"]}))
    problems = verify.dvc_records(loaded(repo), repo, [Event(VERSION_REGISTERED, CHURN, "v1.0.0")])
    assert fakes.of("find") == [(repo, CHURN_PATH, None, None)]
    assert [p.path for p in problems] == [f"models.{CHURN}.versions.v1.0.0.md5"]
    fakes = Fakes(monkeypatch)
    verify.remote_presence(loaded(repo), repo, "r", only={(CHURN, "v1.0.0")})
    assert fakes.of("status") == [(repo, "r", {MD5["v1.0.0"]: 150000})]


def test_the_registry_path_is_asked_relative_to_the_root_given(tmp_path, monkeypatch):
    nested = tmp_path / "project"
    (nested / "models").mkdir(parents=True)
    fakes = Fakes(monkeypatch, records=workspace(**{CHURN_PATH: MD5["v1.3.0"], FRAUD_PATH: MD5["v0.1.0"]}))
    verify.dvc_records(loaded(nested), tmp_path, None)
    assert {call[1] for call in fakes.of("first")} == {"project/models/registry.yaml"}
