"""Shared fixtures. DVC-backed fixtures build real repositories once per session and copy them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import re

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = (Path(__file__).parent / "sample_registry.yaml").read_text()
sys.path.insert(0, str(ROOT / "scripts"))

from hypothesis import HealthCheck, settings  # noqa: E402

from modelreg.cli import main  # noqa: E402

# CI shares 2 cores with pytest-xdist's two workers: generation can be slow, never wrong.
settings.register_profile("modelreg", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.load_profile("modelreg")
from fake_github import FakeGitHub  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path):
    monkeypatch.delenv("MODELREG_REGISTRY", raising=False)
    monkeypatch.delenv("GITHUB_ACTOR", raising=False)
    monkeypatch.setenv("MODELREG_USER", "tester")
    monkeypatch.setenv("MODELREG_CACHE", str(tmp_path / ".modelreg-cache"))
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")


class Cli:
    """Runs the modelreg CLI in-process; returns (exit code, stdout, stderr)."""

    def __init__(self, capsys):
        self.capsys = capsys

    def __call__(self, *args: str, cwd: Path | None = None) -> tuple[int, str, str]:
        old = Path.cwd()
        if cwd is not None:
            os.chdir(cwd)
        try:
            self.capsys.readouterr()
            try:
                code = main([str(a) for a in args])
            except SystemExit as exit_:  # argparse usage errors
                code = exit_.code
            out, err = self.capsys.readouterr()
            return code, out, err
        finally:
            os.chdir(old)


@pytest.fixture
def cli(capsys) -> Cli:
    return Cli(capsys)


@pytest.fixture
def registry_file(tmp_path) -> Path:
    path = tmp_path / "models" / "registry.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(SAMPLE)
    return path


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def init_git(root: Path) -> None:
    git("init", "-q", "-b", "main", cwd=root)
    git("config", "user.name", "tester", cwd=root)
    git("config", "user.email", "tester@example.com", cwd=root)
    git("config", "commit.gpgsign", "false", cwd=root)


TEMPLATE_FILES = ["dvc.yaml", "params.yaml", ".gitignore", "models/registry.yaml", "models/registry.schema.json",
                  ".github/CODEOWNERS",
                  "scripts/prepare.py", "scripts/train.py", "scripts/evaluate.py",
                  "models/churn-classifier/sample.json"]


def run(command: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"]}
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"{command} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def retrain(root: Path, old: str, new: str) -> None:
    """Change a line of params.yaml, commit it, run the pipeline and commit what DVC recorded."""
    params = root / "params.yaml"
    assert old in params.read_text(), old
    params.write_text(params.read_text().replace(old, new))
    git("commit", "-qam", f"params: {new}", cwd=root)
    run([sys.executable, "-m", "dvc", "repro", "-q"], root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "train", cwd=root)


def make_template_repo(base: Path) -> Path:
    """A repository made from the template with two local DVC remotes under base/remotes."""
    root = base / "repo"
    root.mkdir(parents=True)
    for name in TEMPLATE_FILES:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, root / name)
    init_git(root)
    run([sys.executable, "-m", "dvc", "init", "-q"], root)
    # relative URLs (DVC stores them relative to .dvc/): a copied base keeps working remotes
    run([sys.executable, "-m", "dvc", "remote", "add", "candidates", "../remotes/candidates"], root)
    run([sys.executable, "-m", "dvc", "remote", "add", "-d", "registry", "../remotes/registry"], root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "template", cwd=root)
    return root


def copy_env(source_base: Path, target_base: Path) -> Path:
    """Copy a repo and its remotes (whose relative URLs then point at the copies)."""
    shutil.copytree(source_base, target_base, symlinks=True)
    return target_base / "repo"


@pytest.fixture(scope="session")
def trained_base(tmp_path_factory) -> Path:
    """Template repo where the pipeline ran once and v1.0.0 is registered, pushed and committed."""
    base = tmp_path_factory.mktemp("trained")
    root = make_template_repo(base)
    run([sys.executable, "-m", "dvc", "repro", "-q"], root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "train", cwd=root)
    run([sys.executable, "-m", "modelreg", "register", "churn-classifier", "--notes", "first", "--commit"], root)
    return base


@pytest.fixture
def trained_repo(trained_base, tmp_path) -> Path:
    return copy_env(trained_base, tmp_path / "env")


@pytest.fixture(scope="session")
def moto_endpoint():
    """moto's S3 server on 127.0.0.1 (host, port), started once for the tests that need S3."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    yield server.get_host_and_port()
    server.stop()


# ---- GitHub-side fixtures: the fake REST API and a repository with a bare origin ----

@pytest.fixture(scope="session")
def httpserver_listen_address():
    return ("127.0.0.1", 0)


@pytest.fixture
def fake(httpserver) -> FakeGitHub:
    github = FakeGitHub(base_url=httpserver.url_for("/").rstrip("/"))
    github.teams[("acme", "ml-leads")] = {"bob"}
    httpserver.expect_request(re.compile(".*")).respond_with_handler(github.handle)
    return github


@pytest.fixture
def repo(trained_repo) -> Path:
    """The trained template with a bare origin, as a GitHub repository would be."""
    origin = trained_repo.parent / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(trained_repo), str(origin)], check=True)
    git("remote", "add", "origin", str(origin), cwd=trained_repo)
    git("fetch", "-q", "origin", cwd=trained_repo)
    git("branch", "-q", "--set-upstream-to=origin/main", "main", cwd=trained_repo)
    return trained_repo
