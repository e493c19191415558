"""The command line: output, exit codes, and writes through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT, SAMPLE, git, init_git


def test_list_json(cli, registry_file):
    code, out, _ = cli("list", "--json", cwd=registry_file.parent.parent)
    assert code == 0
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["churn-classifier"]["stages"] == {"staging": "v1.3.0", "production": "v1.2.0"}
    assert rows["churn-classifier"]["versions"] == 4 and rows["churn-classifier"]["archived"] == 1
    assert rows["fraud-detector"]["latest"] == "v0.1.0"


def test_list_table(cli, registry_file):
    code, out, _ = cli("list", cwd=registry_file.parent.parent)
    assert code == 0
    assert out.splitlines()[0].split() == ["model", "staging", "production", "latest", "versions", "archived"]
    assert "churn-classifier  v1.3.0   v1.2.0      v1.3.0" in out


def test_show_version_json(cli, registry_file):
    code, out, _ = cli("show", "churn-classifier", "v1.3.0", "--json", cwd=registry_file.parent.parent)
    data = json.loads(out)
    assert code == 0 and data["stages"] == ["staging"] and data["metrics"]["roc_auc"] == 0.861


def test_show_model(cli, registry_file):
    code, out, _ = cli("show", "churn-classifier", cwd=registry_file.parent.parent)
    assert code == 0 and "production v1.2.0" in out and "archived" in out


def test_history(cli, registry_file):
    code, out, _ = cli("history", "churn-classifier", "--json", cwd=registry_file.parent.parent)
    entries = json.loads(out)
    assert code == 0 and [e["version"] for e in entries] == ["v1.0.0", "v1.2.0", "v1.3.0"]


def test_compare_json(cli, registry_file):
    code, out, _ = cli("compare", "churn-classifier", "--json", cwd=registry_file.parent.parent)
    data = json.loads(out)
    assert code == 0 and data["baseline"] == "v1.2.0" and data["best"] == "v1.3.0"
    versions = {v["version"]: v for v in data["versions"]}
    assert set(versions) == {"v1.0.0", "v1.2.0", "v1.3.0"}  # archived ones only when asked for
    assert versions["v1.3.0"]["deltas"]["roc_auc"] == pytest.approx(0.019)
    assert all(g["passed"] for g in versions["v1.3.0"]["gates"]["production"])
    beat = [g for g in versions["v1.0.0"]["gates"]["production"] if g["gate"] == "beat_production"]
    assert beat[0]["passed"] and "exempt" in beat[0]["detail"]  # it held production: a rollback target
    assert data["differing_params"]["n_estimators"] == {"v1.0.0": 100, "v1.2.0": 120, "v1.3.0": 200}


def test_compare_markdown(cli, registry_file):
    code, out, _ = cli("compare", "churn-classifier", "v1.0.0", "v1.3.0", "--format", "markdown",
                       cwd=registry_file.parent.parent)
    assert code == 0
    assert "| v1.3.0 | staging | 0.861 (+0.0190) |" in out
    assert "★" in out and "✅" in out and "Params that differ" in out


def test_compare_unknown_version(cli, registry_file):
    code, _, err = cli("compare", "churn-classifier", "v7.7.7", cwd=registry_file.parent.parent)
    assert code == 1 and "has no version v7.7.7" in err


@pytest.mark.parametrize("args", [["promote", "churn-classifier", "v1.3.0"], ["resolve"], ["nonsense"],
                                  ["promote", "churn-classifier", "v1.3.0", "--to", "production"],
                                  ["resolve", "churn-classifier"], ["register", "x", "--version", "v1", "--bump",
                                                                    "major"]])
def test_usage_errors_exit_2(cli, registry_file, args):
    before = registry_file.read_bytes()
    code, _, err = cli(*args, cwd=registry_file.parent.parent)
    assert code == 2, err
    assert registry_file.read_bytes() == before


def test_no_command_prints_help_and_exits_2(cli):
    code, _, err = cli()
    assert code == 2 and "promote" in err


def test_validate_json(cli, registry_file):
    code, out, _ = cli("validate", "--json", cwd=registry_file.parent.parent)
    assert code == 0 and json.loads(out)["ok"] is True
    registry_file.write_text(SAMPLE.replace("production: v1.2.0", "production: v8.0.0"))
    code, out, _ = cli("validate", "--json", cwd=registry_file.parent.parent)
    report = json.loads(out)
    assert code == 1 and report["ok"] is False
    assert report["problems"][0]["path"] == "models.churn-classifier.stages.production"
    assert report["problems"][0]["line"] == 16


def test_registry_option_and_env(cli, registry_file, tmp_path, monkeypatch):
    code, out, _ = cli("resolve", "churn-classifier@production", "--registry", registry_file, cwd=tmp_path)
    assert code == 0 and "v1.2.0" in out
    monkeypatch.setenv("MODELREG_REGISTRY", str(registry_file))
    code, out, _ = cli("resolve", "fraud-detector@v0.1.0", "--json", cwd=tmp_path)
    assert code == 0 and json.loads(out)["md5"] == "3858f62230ac3c915f300c664312c63f"


@pytest.fixture
def repo(registry_file):
    root = registry_file.parent.parent
    init_git(root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "sample", cwd=root)
    return root


def test_promote_commit_rollback_archive(cli, repo):
    code, out, err = cli("promote", "churn-classifier", "v1.3.0", "--to", "production", "--reason", "+0.02 AUC",
                         "--commit", cwd=repo)
    assert code == 0, err
    assert "production -> v1.3.0 (was v1.2.0)" in out
    assert git("log", "-1", "--format=%s%n%b", cwd=repo).startswith("Promote churn-classifier v1.3.0 to production")
    assert git("status", "--porcelain", cwd=repo) == ""
    diff = git("show", "HEAD", "--format=", "--unified=0", cwd=repo)
    assert sum(1 for l in diff.splitlines() if l.startswith(("+ ", "- ", "+\t", "-\t")) or
               (l[:1] in "+-" and not l.startswith(("+++", "---")))) == 3  # -old stage, +new stage, +history
    code, out, err = cli("rollback", "churn-classifier", "--reason", "alerts fired", cwd=repo)
    assert code == 0, err
    assert "production -> v1.2.0 (was v1.3.0)" in out
    code, out, err = cli("resolve", "churn-classifier@production", "--json", cwd=repo)
    assert json.loads(out)["version"] == "v1.2.0"
    history = json.loads(cli("history", "churn-classifier", "--json", cwd=repo)[1])
    assert history[-1]["reason"] == "Rollback: alerts fired" and history[-1]["by"] == "tester"
    code, out, err = cli("archive", "churn-classifier", "v1.0.0", "--reason", "old", cwd=repo)
    assert code == 0, err
    code, _, err = cli("rollback", "churn-classifier", "--to", "v1.0.0", "--reason", "x", cwd=repo)
    assert code == 1 and "v1.0.0 is archived" in err
    code, _, err = cli("validate", "--base", "HEAD", cwd=repo)
    assert code == 0, err


@pytest.mark.parametrize("args, words", [
    (["promote", "churn-classifier", "v0.9.0", "--to", "staging", "--reason", "r"], "is archived"),
    (["promote", "churn-classifier", "v1.2.0", "--to", "production", "--reason", "r"], "already holds production"),
    (["promote", "churn-classifier", "v1.2.0", "--to", "qa", "--reason", "r"], "unknown stage 'qa'"),
    (["promote", "churn-classifier", "v5.0.0", "--to", "staging", "--reason", "r"], "has no version v5.0.0"),
    (["promote", "nope", "v1.0.0", "--to", "staging", "--reason", "r"], "no model named 'nope'"),
    (["promote", "churn-classifier", "v1.0.0", "--to", "staging", "--reason", "  "], "--reason is required"),
    (["archive", "churn-classifier", "v1.2.0", "--reason", "r"], "holds production"),
    (["rollback", "fraud-detector", "--reason", "r"], "no earlier production version"),
])
def test_refused_writes_change_nothing(cli, repo, args, words):
    path = repo / "models" / "registry.yaml"
    before = path.read_bytes()
    code, out, err = cli(*args, cwd=repo)
    assert code in (1, 2) and words in err, err
    assert path.read_bytes() == before
    if code == 1 and "reason" not in words:
        assert "models/registry.yaml" in err  # the place is named


def test_rollback_target_passes_gates_without_beating_production(cli, repo):
    code, out, err = cli("promote", "churn-classifier", "v1.0.0", "--to", "production", "--reason", "back", cwd=repo)
    assert code == 0, err  # v1.0.0 held production before: exempt from beat_production


def test_min_gate_refuses_promotion(cli, repo):
    path = repo / "models" / "registry.yaml"
    path.write_text(SAMPLE.replace("{roc_auc: 0.861, accuracy: 0.812}", "{roc_auc: 0.861, accuracy: 0.77}"))
    before = path.read_bytes()
    code, _, err = cli("promote", "churn-classifier", "v1.3.0", "--to", "production", "--reason", "r", cwd=repo)
    assert code == 1 and "fails the production gate: accuracy 0.77 < min 0.78" in err
    assert "models/registry.yaml:16:" in err and path.read_bytes() == before


def test_resolve_and_validate_never_import_heavy_libraries(registry_file):
    probe = ("import sys; from modelreg.cli import main; main(sys.argv[1:]); "
             "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
             "('dvc', 'github', 'fastapi', 'sklearn', 'jsonschema', 'rich', 'numpy')); print(heavy)")
    for args in (["resolve", "churn-classifier@production"], ["validate"]):
        result = subprocess.run([sys.executable, "-c", probe, *args], cwd=registry_file.parent.parent,
                                capture_output=True, text=True, env={"PYTHONPATH": str(ROOT / "scripts"),
                                                                     "PATH": "/usr/bin:/bin"})
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip().splitlines()[-1] == "[]", result.stdout


def test_schema_command(cli, tmp_path):
    code, out, _ = cli("schema")
    assert code == 0 and json.loads(out)["title"].startswith("modelreg registry")
    code, out, _ = cli("schema", "-o", tmp_path / "s.json")
    assert code == 0 and json.loads((tmp_path / "s.json").read_text()) == json.loads(
        (ROOT / "models" / "registry.schema.json").read_text())


def test_codeowners_written_and_checked(cli, repo):
    code, out, _ = cli("codeowners", cwd=repo)
    owners = (repo / ".github" / "CODEOWNERS").read_text()
    assert code == 0 and "/models/registry.yaml @alice @acme/ml-leads @carol" in owners
    assert "/models/fraud-detector/model.onnx @carol" in owners
    assert cli("validate", cwd=repo)[0] == 0 and cli("codeowners", "--check", cwd=repo)[0] == 0
    path = repo / "models" / "registry.yaml"
    path.write_text(path.read_text().replace("owners: [carol]", "owners: [carol, dave]"))
    code, _, err = cli("validate", cwd=repo)
    assert code == 1 and ".github/CODEOWNERS:3:1: out of date" in err and "run modelreg codeowners" in err
    assert cli("codeowners", "--check", cwd=repo)[0] == 1
    assert cli("codeowners", cwd=repo)[0] == 0 and cli("validate", cwd=repo)[0] == 0


def test_an_error_quoting_a_control_sequence_reaches_the_terminal_escaped(cli, registry_file):
    """Every problem is printed through the terminal's escaper, whatever text its message quotes."""
    code, _, err = cli("compare", "churn-classifier", "v7\x1b]0;owned\x07", cwd=registry_file.parent.parent)
    assert code == 1 and "\x1b" not in err and "\x07" not in err
    assert "\\x1b]0;owned\\x07" in err
