import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from pricer_core.cli.commands import bench_command, main, parse_settings


def test_settings_parse_json_values():
    assert parse_settings(("xgboost.n_estimators=500", "dnn.device=cpu", "dnn.lr=1e-3")) == {
        "xgboost": {"n_estimators": 500},
        "dnn": {"device": "cpu", "lr": 0.001},
    }


def test_bench_command_prints_leaderboard(tmp_path):
    result = CliRunner().invoke(bench_command, ["--size", "20", "--out", str(tmp_path), "-p", "constant-mean", "-p", "random"])
    assert result.exit_code == 0, result.output
    assert "constant-mean" in result.output and "MAE $" in result.output
    assert json.loads((tmp_path / "results.json").read_text())["dataset"]["sizes"]["sample"] == 20


def test_unknown_predictor_is_a_one_line_error(tmp_path):
    result = CliRunner().invoke(bench_command, ["-p", "nope", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "unknown predictor(s) nope" in result.output


@pytest.mark.parametrize(
    "command, args, words",
    [
        (bench_command, ["--size", "0"], "error: Invalid value for '--size': 0 is not in the range x>=1. (see pricer-bench --help)"),
        (bench_command, ["--sise", "5"], "error: No such option '--sise'"),
        (main, ["bogus"], "error: No such command 'bogus'. (see pricer --help)"),
        (main, ["train"], "error: Missing argument 'NAME'. (see pricer train --help)"),
        (main, ["predict", "no-such-model", "no-such-file"], "error: Invalid value for 'MODEL_DIR': Directory 'no-such-model' does not exist."),
    ],
)
def test_a_wrong_flag_is_one_line_with_exit_code_2(command, args, words):
    result = CliRunner().invoke(command, args, prog_name="pricer" if command is main else "pricer-bench")
    assert result.exit_code == 2
    assert len(result.output.splitlines()) == 1 and result.output.startswith(words), result.output


def test_help_and_version_still_print_and_exit_0():
    assert CliRunner().invoke(main, ["--version"]).output.startswith("main, version ")
    helped = CliRunner().invoke(bench_command, ["--help"])
    assert helped.exit_code == 0 and helped.output.startswith("Usage: ") and "--loso" in helped.output


def test_plugins_json_lists_core():
    result = CliRunner().invoke(main, ["plugins", "--json"])
    records = json.loads(result.output)
    core = next(record for record in records if record["name"] == "pricer-core")
    assert core["predictors"] == ["constant-mean", "constant-median", "random", "ensemble"] and core["error"] is None


def test_train_then_predict_round_trip(tmp_path, shared_data):
    runner = CliRunner()
    trained = runner.invoke(main, ["train", "constant-median", "--out", str(tmp_path / "model")])
    assert trained.exit_code == 0, trained.output
    predicted = runner.invoke(main, ["predict", str(tmp_path / "model"), str(shared_data / "student_test_lite_adityasolanki205_v1_2000.jsonl.gz")])
    rows = [json.loads(line) for line in predicted.output.splitlines() if line.startswith("{")]
    assert len(rows) == 2000 and len({row["price"] for row in rows}) == 1


def test_help_and_import_do_not_load_heavy_modules():
    code = (
        "import sys, pricer_core, pricer_core.cli.commands\n"
        "heavy = [m for m in ('torch', 'xgboost', 'litellm', 'sklearn', 'datasets', 'numpy', 'plotly') if m in sys.modules]\n"
        "print(heavy)"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
    help_run = subprocess.run([sys.executable, "-m", "pricer_core.bench", "--help"], capture_output=True, text=True)
    assert help_run.returncode == 0 and "--size" in help_run.stdout


def test_train_records_the_data_by_hash_and_the_conformal_interval(tmp_path):
    """`pricer serve` answers with the interval and names the data: a trained folder must hold both."""
    from click.testing import CliRunner

    from pricer_core.cli.commands import main
    from pricer_core.data.loading import load_bundle
    from pricer_core.data.splits import content_sha256
    from pricer_core.storage.persistence import read_meta

    result = CliRunner().invoke(main, ["train", "linear", "--out", str(tmp_path / "m")])
    assert result.exit_code == 0, result.output
    meta = read_meta(tmp_path / "m")
    assert meta["data"]["train_sha256"] == content_sha256(load_bundle().train)
    assert meta["interval"]["level"] == 0.9 and 0 < meta["interval"]["half_width_log"] < 5
