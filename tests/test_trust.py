"""Hostile inputs to the core: crafted model folders, --out folders with a user's files, stale and
corrupt caches, wrong flags, malformed files. Each case asserts its outcome."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from pricer_core.hostile import crafted_pickle
from pricer_core.storage.atomic import MARKER, OutputError, check_output, output_folder
from pricer_core.predictors.baselines import ConstantMean
from pricer_core.bench.runner import run_bench
from pricer_core.cli.commands import bench_command, main
from pricer_core.storage.persistence import ModelFolderError, load_predictor, save_predictor
from pricer_core.contract.predictor import Needs
from pricer_core.data.readers import iter_numbered_items, write_items

from .conftest import make_items


def one_error_line(result) -> str:
    """The CLI answered with exactly one `error:` line and no traceback; returns that line."""
    output = result.output
    assert "Traceback" not in output, output
    assert result.exit_code != 0, output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    return errors[0]


def write_splits(folder: Path, train_price_step: float = 10.0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    write_items(folder / "train.jsonl", make_items(40, price_step=train_price_step))
    write_items(folder / "validation.jsonl", make_items(10, start=40))
    write_items(folder / "test.jsonl", make_items(20, start=50))
    return folder


# --- model folders are data ------------------------------------------------------------------


def test_pricer_json_naming_an_arbitrary_class_is_refused(tmp_path):
    marker = tmp_path / "ran"
    folder = tmp_path / "model"
    (folder / "model").mkdir(parents=True)
    (folder / "pricer.json").write_text(json.dumps({"format": 2, "name": "evil", "class": "os:system"}))
    with pytest.raises(ModelFolderError, match="'evil' is not registered"):
        load_predictor(folder)
    legacy = {"name": "constant-mean", "class": "builtins:open"}  # what an older pricer wrote
    (folder / "pricer.json").write_text(json.dumps(legacy))
    with pytest.raises(ModelFolderError, match="format None, this pricer reads format 2"):
        load_predictor(folder)
    assert not marker.exists()


def test_folder_from_another_plugin_version_is_refused(tmp_path):
    save_predictor(ConstantMean().fit(make_items(5), []), tmp_path / "m")
    meta = json.loads((tmp_path / "m" / "pricer.json").read_text())
    assert meta["plugin"] == "pricer-core" and "class" not in meta
    meta["plugin_version"] = "0.0.0-other"
    (tmp_path / "m" / "pricer.json").write_text(json.dumps(meta))
    with pytest.raises(ModelFolderError, match="saved by plugin pricer-core 0.0.0-other"):
        load_predictor(tmp_path / "m")


@pytest.mark.parametrize("content", ["", "{", "[1, 2]", "[" * 10_000 + "]" * 10_000, "\xff\xfe"])
def test_unreadable_pricer_json_is_one_line(tmp_path, content):
    (tmp_path / "pricer.json").write_bytes(content.encode("latin-1"))
    with pytest.raises(ModelFolderError) as raised:
        load_predictor(tmp_path)
    assert "pricer.json" in str(raised.value) and "\n" not in str(raised.value)


def test_predict_on_a_crafted_folder_is_one_line_and_runs_nothing(tmp_path, shared_data):
    runner = CliRunner()
    assert runner.invoke(main, ["train", "constant-median", "--out", str(tmp_path / "model")]).exit_code == 0
    marker = tmp_path / "ran"
    (tmp_path / "model" / "model" / "state.json").write_bytes(crafted_pickle(marker))
    result = runner.invoke(main, ["predict", str(tmp_path / "model"), str(shared_data / "llm_engineering_official_test_2000.jsonl.gz")])
    assert "cannot load constant-median" in one_error_line(result)
    assert result.exit_code == 1 and not marker.exists()
    (tmp_path / "model" / "pricer.json").unlink()
    result = runner.invoke(main, ["predict", str(tmp_path / "model"), str(shared_data / "llm_engineering_official_test_2000.jsonl.gz")])
    assert "pricer.json: no such file" in one_error_line(result)


# --- outputs never destroy ---------------------------------------------------------------------


def test_output_folder_refuses_a_users_folder_and_keeps_it(tmp_path):
    users = tmp_path / "mine"
    users.mkdir()
    (users / "thesis.txt").write_text("years of work")
    with pytest.raises(OutputError, match="pass --force"):
        with output_folder(users):
            pass
    assert (users / "thesis.txt").read_text() == "years of work"
    with output_folder(users, force=True) as staging:
        (staging / "new.txt").write_text("new")
    assert sorted(path.name for path in users.iterdir()) == [MARKER, "new.txt"]
    with output_folder(users) as staging:  # written by pricer now: replaced without --force
        (staging / "newer.txt").write_text("newer")
    assert sorted(path.name for path in users.iterdir()) == [MARKER, "newer.txt"]


def test_a_failure_inside_an_output_folder_keeps_the_old_one_and_leaves_no_staging(tmp_path):
    with output_folder(tmp_path / "out") as staging:
        (staging / "results.json").write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with output_folder(tmp_path / "out") as staging:
            (staging / "results.json").write_text("half")
            raise KeyboardInterrupt
    assert (tmp_path / "out" / "results.json").read_text() == "old"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["out"]


def test_current_folder_and_its_parents_are_never_an_output(tmp_path, monkeypatch):
    inner = tmp_path / "a" / "b"
    inner.mkdir(parents=True)
    monkeypatch.chdir(inner)
    for target in (".", "..", str(tmp_path)):
        with pytest.raises(OutputError, match="current folder or one above it"):
            check_output(target, force=True)


@pytest.mark.parametrize("command", [
    ["train", "constant-mean", "--out", "{out}"],
    ["bench", "-p", "constant-mean", "--size", "5", "--out", "{out}"],
])
def test_no_command_deletes_a_users_files(tmp_path, monkeypatch, command):
    users = tmp_path / "mine"
    users.mkdir()
    (users / "notes.txt").write_text("keep me")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    result = runner.invoke(main, [part.replace("{out}", str(users)) for part in command])
    assert "pass --force" in one_error_line(result)
    assert (users / "notes.txt").read_text() == "keep me"
    for target in (".", ".."):
        result = runner.invoke(main, [part.replace("{out}", target) for part in command])
        assert "current folder or one above it" in one_error_line(result)
    assert (users / "notes.txt").read_text() == "keep me"
    forced = runner.invoke(main, [part.replace("{out}", str(users)) for part in command] + ["--force"])
    assert forced.exit_code == 0, forced.output
    assert not (users / "notes.txt").exists() and (users / MARKER).exists()


def test_results_predictions_and_report_land_together(tmp_path, monkeypatch):
    out = tmp_path / "out"
    first = run_bench(predictors=["constant-mean"], size=5, out=out, echo=lambda _: None)
    before = {name: (out / name).read_bytes() for name in ("results.json", "predictions.jsonl", "report.html")}

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("pricer_core.bench.report.write_report", killed)
    with pytest.raises(KeyboardInterrupt):
        run_bench(predictors=["constant-median"], size=7, out=out, echo=lambda _: None)
    assert {name: (out / name).read_bytes() for name in before} == before
    assert json.loads(before["results.json"])["predictors"][0]["name"] == first["predictors"][0]["name"]
    assert [path.name for path in tmp_path.iterdir()] == ["out"]  # no staging left behind


class ReportsNaN(ConstantMean):
    name = "reports-nan"

    def describe(self):
        return {"weight": float("nan"), "spread": float("inf")}


class FailsToFit(ConstantMean):
    name = "fails-to-fit"

    def fit(self, train, validation):
        raise RuntimeError("no")


class CountsBypass(ConstantMean):
    name = "counts-bypass"

    def bypass_caches(self) -> None:
        with open(os.environ["PRICER_TEST_BYPASSED"], "a") as log:  # the bench runs it in a process of its own
            log.write("bypassed\n")


class NeedsKey(ConstantMean):
    name = "needs-key"
    needs = Needs(env=("PRICER_TEST_ONLY_KEY",))


@pytest.fixture
def hostile_predictors(throwaway_plugin):
    throwaway_plugin("hostile", ReportsNaN, FailsToFit, CountsBypass, NeedsKey)


def test_results_json_is_strict_json(tmp_path, hostile_predictors):
    run_bench(predictors=["reports-nan"], size=5, out=tmp_path / "out", echo=lambda _: None)
    text = (tmp_path / "out" / "results.json").read_text()
    results = json.loads(text, parse_constant=lambda constant: pytest.fail(f"non-JSON constant {constant}"))
    assert results["predictors"][0]["details"] == {"weight": None, "spread": None}


def test_bench_exit_codes_say_what_happened(tmp_path, hostile_predictors):
    runner = CliRunner()
    out = str(tmp_path / "out")
    failed = runner.invoke(bench_command, ["-p", "fails-to-fit", "--size", "5", "--out", out])
    assert failed.exit_code == 1 and "no predictor scored" in failed.output
    assert json.loads((tmp_path / "out" / "results.json").read_text())["predictors"][0]["status"] == "failed"
    stray = runner.invoke(bench_command, ["-p", "constant-mean", "--set", "nosuchpredictor.x=1", "--out", out])
    assert stray.exit_code != 0 and "nosuchpredictor" in one_error_line(stray)
    unknown_key = runner.invoke(bench_command, ["-p", "random", "--set", "random.nosuchkey=1", "--out", out])
    assert unknown_key.exit_code != 0 and "random" in one_error_line(unknown_key)
    wide = runner.invoke(bench_command, ["-p", "constant-mean", "--size", "100000", "--out", out])
    assert wide.exit_code == 0 and "--size 100000 but the test has 250 items" in wide.output


def test_a_wrongly_typed_setting_stops_the_bench_before_any_fit(tmp_path):
    pytest.importorskip("pricer_classic")
    result = CliRunner().invoke(bench_command, ["-p", "linear", "--set", "linear.alpha=notjson", "--out", str(tmp_path / "o")])
    line = one_error_line(result)
    assert "alpha='notjson' must be float" in line and "fitting" not in result.output


def test_a_null_setting_is_refused_where_its_default_is_not_none(tmp_path):
    pytest.importorskip("pricer_classic")
    result = CliRunner().invoke(bench_command, ["-p", "linear", "--set", "linear.alpha=null", "--out", str(tmp_path / "o")])
    line = one_error_line(result)
    assert "alpha=None must be float" in line and "fitting" not in result.output


# --- caches are keyed on content ---------------------------------------------------------------


def test_changed_training_prices_with_the_same_ids_refit(tmp_path):
    data = write_splits(tmp_path / "data")
    messages: list[str] = []
    first = run_bench(data=data, predictors=["constant-mean"], out=tmp_path / "o", echo=messages.append)
    write_splits(tmp_path / "data", train_price_step=30.0)  # same ids, other prices
    messages.clear()
    second = run_bench(data=data, predictors=["constant-mean"], out=tmp_path / "o", echo=messages.append)
    assert not any("reusing cached fit" in message for message in messages)
    assert first["predictors"][0]["metrics"]["mae"] != second["predictors"][0]["metrics"]["mae"]
    messages.clear()
    run_bench(data=data, predictors=["constant-mean"], out=tmp_path / "o", echo=messages.append)
    assert any("reusing cached fit" in message for message in messages)


@pytest.mark.parametrize("damage", ["truncate-meta", "pickle-state", "delete-model"])
def test_a_corrupt_cache_entry_is_dropped_and_refitted(tmp_path, damage):
    cache = tmp_path / "cache"
    first = run_bench(predictors=["constant-mean"], size=5, out=tmp_path / "o", cache_dir=cache, echo=lambda _: None)
    (entry,) = (cache / "fits").iterdir()
    marker = tmp_path / "ran"
    if damage == "truncate-meta":
        (entry / "pricer.json").write_text('{"format": 2, "na')
    elif damage == "pickle-state":
        (entry / "model" / "state.json").write_bytes(crafted_pickle(marker))
    else:
        import shutil

        shutil.rmtree(entry / "model")
    for _ in range(2):  # the second run reuses the refitted entry: the damage is gone, not permanent
        messages: list[str] = []
        again = run_bench(predictors=["constant-mean"], size=5, out=tmp_path / "o", cache_dir=cache, echo=messages.append)
        assert again["predictors"][0]["metrics"] == first["predictors"][0]["metrics"]
    assert any("reusing cached fit" in message for message in messages) and not marker.exists()


def test_no_cache_bypasses_every_cache(tmp_path, hostile_predictors, monkeypatch):
    log = tmp_path / "bypassed.log"
    monkeypatch.setenv("PRICER_TEST_BYPASSED", str(log))
    run_bench(predictors=["counts-bypass"], size=5, out=tmp_path / "o", echo=lambda _: None)
    assert not log.exists()
    messages: list[str] = []
    run_bench(predictors=["counts-bypass"], size=5, out=tmp_path / "o", use_cache=False, echo=messages.append)
    assert log.read_text().split() == ["bypassed"] and not any("reusing" in message for message in messages)


def test_dotenv_in_the_working_directory_is_read(tmp_path, monkeypatch, hostile_predictors):
    monkeypatch.setenv("PRICER_TEST_ONLY_KEY", "")  # recorded, so the value .env sets is undone after the test
    monkeypatch.delenv("PRICER_TEST_ONLY_KEY")
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    skipped = runner.invoke(bench_command, ["-p", "needs-key", "-p", "constant-mean", "--size", "5", "--out", "o"])
    assert "needs-key: skipped (environment variable PRICER_TEST_ONLY_KEY is not set)" in skipped.output
    (tmp_path / ".env").write_text("PRICER_TEST_ONLY_KEY=not-a-real-key\n")
    ran = runner.invoke(bench_command, ["-p", "needs-key", "--size", "5", "--out", "o"])
    assert ran.exit_code == 0 and "needs-key: MAE" in ran.output and "not-a-real-key" not in ran.output


# --- bad input: one line, exit code 1 ------------------------------------------------------------


def test_train_with_bad_flags_or_data_is_one_line(tmp_path):
    runner = CliRunner()
    out = str(tmp_path / "m")
    assert "unknown setting" in one_error_line(runner.invoke(main, ["train", "random", "--set", "nosuch=1", "--out", out]))
    assert "random has no presets" in one_error_line(runner.invoke(main, ["train", "random", "--preset", "seed", "--out", out]))
    wrong_type = runner.invoke(main, ["train", "random", "--set", "seed=notjson", "--out", out])
    assert "seed='notjson' must be int" in one_error_line(wrong_type)
    assert "seed=None must be int" in one_error_line(runner.invoke(main, ["train", "random", "--set", "seed=null", "--out", out]))
    bad_data = runner.invoke(main, ["train", "random", "--data", str(tmp_path / "missing"), "--out", out])
    assert "no such folder" in one_error_line(bad_data) and bad_data.exit_code == 1
    (tmp_path / "empty").mkdir()
    empty = runner.invoke(main, ["train", "random", "--data", str(tmp_path / "empty"), "--out", out])
    assert "no train.jsonl" in one_error_line(empty) and empty.exit_code == 1
    assert not Path(out).exists()


def test_predict_prices_rows_without_a_price_in_every_format(tmp_path, shared_data):
    runner = CliRunner()
    assert runner.invoke(main, ["train", "constant-median", "--out", str(tmp_path / "model")]).exit_code == 0
    sources = {
        "course": "llm_engineering_official_test_2000.jsonl.gz",
        "raw": "amazon2023_raw_meta_Health_and_Personal_Care_sample_1714.jsonl.gz",
        "finetune": "llm_engineering_finetune_jsonl_text_price_extracted.jsonl.gz",
    }
    for format_name, file_name in sources.items():
        with gzip.open(shared_data / file_name, "rt", encoding="utf-8") as handle:
            lines = [line for line in handle if line.strip()]
        # Rows the reader keeps when they have a price; then their price is taken away.
        kept = [row_number for row_number, _ in iter_numbered_items(shared_data / file_name)][:5]
        rows = [json.loads(lines[row_number]) for row_number in kept]
        for row in rows:
            row["price"] = None
        unpriced = tmp_path / f"{format_name}.jsonl"
        unpriced.write_text("".join(json.dumps(row) + "\n" for row in rows))
        result = runner.invoke(main, ["predict", str(tmp_path / "model"), str(unpriced)])
        priced = [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]
        assert result.exit_code == 0, result.output
        assert len(priced) == len(rows) and all(row["price"] > 0 for row in priced), (format_name, result.output)


def test_malformed_files_are_one_line_with_exit_code_1(tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["train", "constant-mean", "--out", str(tmp_path / "model")]).exit_code == 0
    truncated = tmp_path / "truncated.jsonl.gz"
    rows = "".join(json.dumps({"title": f"item {i}", "prompt": f"How much? item {i * 7919} " * 3, "price": i}) + "\n" for i in range(3000))
    truncated.write_bytes(gzip.compress(rows.encode())[:4000])  # cut mid-stream
    garbage = tmp_path / "garbage.jsonl"
    garbage.write_bytes(b"\xff\xfe\x00 not json\n")
    for bad in (truncated, garbage):
        result = runner.invoke(main, ["predict", str(tmp_path / "model"), str(bad)])
        assert result.exit_code == 1, result.output
        assert bad.name in one_error_line(result)
    bench = runner.invoke(bench_command, ["-p", "constant-mean", "--test", str(truncated), "--out", str(tmp_path / "o")])
    assert bench.exit_code == 1 and truncated.name in one_error_line(bench)


# --- found by a hostile probe of the CLI -----------------------------------------------------------


def test_files_a_user_adds_to_a_pricer_folder_survive_and_kinds_do_not_mix(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(bench_command, ["-p", "constant-mean", "--size", "5", "--out", "run"]).exit_code == 0
    (tmp_path / "run" / "my_analysis.txt").write_text("mine")
    again = runner.invoke(bench_command, ["-p", "constant-mean", "--size", "5", "--out", "run"])
    assert "my_analysis.txt" in one_error_line(again) and (tmp_path / "run" / "my_analysis.txt").read_text() == "mine"
    (tmp_path / "run" / "my_analysis.txt").unlink()
    model_over_bench = runner.invoke(main, ["train", "constant-mean", "--out", "run"])
    assert "holds a bench pricer wrote, not a model" in one_error_line(model_over_bench)
    assert runner.invoke(bench_command, ["-p", "constant-mean", "--size", "5", "--out", "run"]).exit_code == 0


def test_file_outputs_never_replace_an_input_or_an_existing_file(tmp_path, shared_data, monkeypatch):
    import shutil
    import stat

    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    raw = tmp_path / "raw.jsonl.gz"
    shutil.copy(shared_data / "amazon2023_raw_meta_Health_and_Personal_Care_sample_1714.jsonl.gz", raw)
    before = raw.read_bytes()
    assert "is also an input" in one_error_line(runner.invoke(main, ["read", str(raw), "--out", str(raw)]))
    assert runner.invoke(main, ["train", "constant-median", "--out", "m"]).exit_code == 0
    notes = tmp_path / "notes.txt"
    notes.write_text("mine")
    assert "pass --force" in one_error_line(runner.invoke(main, ["predict", "m", str(raw), "--out", str(notes)]))
    assert notes.read_text() == "mine" and raw.read_bytes() == before
    assert runner.invoke(main, ["predict", "m", str(raw), "--out", str(notes), "--force"]).exit_code == 0
    assert notes.read_text().startswith('{"id"')
    to_null = runner.invoke(main, ["predict", "m", str(raw), "--out", "/dev/null", "--force"])
    assert to_null.exit_code == 0 and stat.S_ISCHR(Path("/dev/null").stat().st_mode)


def test_a_model_folder_with_a_link_or_a_path_for_a_member_is_refused(tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["train", "constant-mean", "--out", str(tmp_path / "m")]).exit_code == 0
    state = tmp_path / "m" / "model" / "state.json"
    state.unlink()
    state.symlink_to("/etc/passwd")
    with pytest.raises(ModelFolderError, match="symbolic link"):
        load_predictor(tmp_path / "m")
    from pricer_core.predictors.ensemble import Ensemble

    (tmp_path / "e").mkdir()
    weights = {"weights": {"../../m": 1.0}, "intercept": 0, "source_weights": {}, "validation_scores": {}, "members": None, "max_members": 2, "max_validation": 400, "min_source_rows": 100}
    (tmp_path / "e" / "weights.json").write_text(json.dumps(weights))
    with pytest.raises(ValueError, match="is not a predictor name"):
        Ensemble.load(tmp_path / "e")


def test_more_bad_input_is_one_line(tmp_path, monkeypatch, hostile_predictors):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    (tmp_path / ".env").write_bytes("\ufeffKEY=1\n".encode("utf-16"))
    assert ".env: not UTF-8" in one_error_line(runner.invoke(main, ["plugins"]))
    (tmp_path / ".env").unlink()
    monkeypatch.setenv("PRICER_TEST_ONLY_KEY", "")
    monkeypatch.delenv("PRICER_TEST_ONLY_KEY")
    skipped_but_wrong = runner.invoke(bench_command, ["-p", "needs-key", "-p", "constant-mean", "--set", "needs-key.nosuch=1", "--out", "o"])
    assert "unknown setting" in one_error_line(skipped_but_wrong)
    one_item = runner.invoke(bench_command, ["-p", "constant-mean", "-p", "constant-mean", "--size", "1", "--out", "o"])
    assert one_item.exit_code == 0, one_item.output
    assert [entry["name"] for entry in json.loads((tmp_path / "o" / "results.json").read_text())["predictors"]] == ["constant-mean"]


def test_a_bad_row_in_a_saved_dataset_names_split_row_and_field(tmp_path):
    from datasets import Dataset, DatasetDict

    rows = {"id": ["a", "b"], "title": ["ok", "ok too"], "price": ["3.5", "not a price"], "full": ["x" * 30, "y" * 30]}
    DatasetDict({split: Dataset.from_dict(rows) for split in ("train", "validation", "test")}).save_to_disk(str(tmp_path / "dd"))
    result = CliRunner().invoke(main, ["train", "constant-mean", "--data", str(tmp_path / "dd"), "--out", str(tmp_path / "m")])
    assert "split train, row 1: field price" in one_error_line(result)


def test_a_cache_entry_of_another_fit_is_not_served(tmp_path):
    cache = tmp_path / "cache"
    run_bench(predictors=["constant-mean"], size=5, out=tmp_path / "o1", cache_dir=cache, echo=lambda _: None)
    run_bench(predictors=["random"], size=5, out=tmp_path / "o2", cache_dir=cache, echo=lambda _: None)
    mean_entry, random_entry = sorted((cache / "fits").iterdir(), key=lambda path: not path.name.startswith("constant-mean"))
    import shutil

    shutil.rmtree(mean_entry)
    shutil.copytree(random_entry, mean_entry)  # a random model where the constant-mean fit should be
    messages: list[str] = []
    again = run_bench(predictors=["constant-mean"], size=5, out=tmp_path / "o1", cache_dir=cache, echo=messages.append)
    assert any("cached fit unusable (entry holds random" in message for message in messages)
    assert again["predictors"][0]["metrics"]["mae"] > 0 and again["predictors"][0]["cached_fit"] is False
