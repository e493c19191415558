"""Small things of the adoption issue: --registry before the command, no pickle warning where nothing loads,
readable stale-record messages, --reason with register --stage, a float version key in validate."""

from __future__ import annotations

from modelreg.flows.register import describe_status

from conftest import SAMPLE


def test_registry_option_before_the_command(cli, registry_file, tmp_path):
    code, out, err = cli("--registry", str(registry_file), "list", cwd=tmp_path)
    assert code == 0, err
    assert "churn-classifier" in out
    assert cli("--registry", str(registry_file), "show", "churn-classifier", cwd=tmp_path)[1] == \
        cli("show", "churn-classifier", "--registry", str(registry_file), cwd=tmp_path)[1]
    code, _, err = cli("--registry", str(registry_file), "list", "--registry", "other.yaml", cwd=tmp_path)
    assert code == 2 and "disagree" in err
    code, _, err = cli("--registry", str(registry_file), "schema", cwd=tmp_path)
    assert code == 2 and "schema does not read a registry file" in err


def test_no_pickle_warning_where_nothing_is_loaded(cli, registry_file, tmp_path, monkeypatch):
    assert "format: pickle" in SAMPLE
    code, out, err = cli("compare", "churn-classifier", "--registry", str(registry_file), cwd=tmp_path)
    assert code == 0 and err == ""
    import modelreg.flows.register as flow

    monkeypatch.setattr(flow, "register", lambda name, **_: {
        "name": name, "version": "v1.4.0", "md5": "a" * 32, "size": 1, "format": "pickle", "pushed_to": None})
    code, out, err = cli("register", "churn-classifier", "--no-push", cwd=tmp_path)
    assert code == 0 and "registered churn-classifier v1.4.0" in out and "pickle" not in err


def test_register_into_a_stage_needs_a_reason(cli, registry_file, tmp_path):
    before = registry_file.read_bytes()
    code, _, err = cli("register", "churn-classifier", "--stage", "production", "--registry", str(registry_file),
                       cwd=tmp_path)
    assert code == 2 and "--reason is required with --stage production" in err
    code, _, err = cli("register", "churn-classifier", "--stage", "staging", "--reason", " ",
                       "--registry", str(registry_file), cwd=tmp_path)
    assert code == 2 and "--reason is required" in err
    assert registry_file.read_bytes() == before


def test_a_stale_dvc_record_reads_as_words():
    status = {"train": [{"changed outs": {"models/m.skops": "modified"}}, {"changed deps": {"data/x": "deleted"}},
                        "changed command"],
              "data/raw.csv.dvc": [{"changed outs": {"data/raw.csv": "not in cache"}}], "evaluate": ["always changed"]}
    assert describe_status(status) == ("train: output models/m.skops modified, input data/x deleted, command changed; "
                                       "data/raw.csv.dvc: output data/raw.csv not in cache; evaluate: always changed")
    assert "{" not in describe_status({"x": [{"changed checksum": True}]})


def test_validate_reports_a_float_version_key_without_a_traceback(cli, registry_file, tmp_path):
    registry_file.write_text(SAMPLE.replace("      v1.0.0:", "      1.2:", 1))
    code, out, err = cli("validate", "--registry", str(registry_file), cwd=tmp_path)
    assert code == 1 and "Traceback" not in err
    assert "versions.1.2: key must be a string, not number 1.2" in err
