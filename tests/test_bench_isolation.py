"""A leaderboard no plugin can bend: each hostile predictor fails alone, named with its reason, and
the others score what they score alone (issue #29's cases, one test each)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pricer_core.bench.runner import leaderboard_lines, run_bench
from pricer_core.contract.predictor import NoPrediction
from pricer_core.plugins.hookspecs import hookimpl
from pricer_core.plugins.registry import pm
from pricer_core.predictors.baselines import ConstantMean, ConstantMedian

HONEST = ["constant-mean", "constant-median"]
SIZE = 20


class MultipliesPrices(ConstantMean):
    name = "multiplies-prices"

    def fit(self, train, validation):
        for item in train:
            item.price = item.price * 10  # the items it was given, changed in place
        return super().fit(train, validation)


class TruncatesTrain(ConstantMean):
    name = "truncates-train"

    def fit(self, train, validation):
        del train[50:]
        return super().fit(train, validation)


class AbstainsOften(ConstantMedian):
    """The median's price where it answers, an abstention on every other item."""

    name = "abstains-often"
    per_item = True

    def predict(self, items):
        if int(items[0].id.encode().hex(), 16) % 2:
            raise NoPrediction("not sure")
        return super().predict(items)


class DeletesItems(ConstantMean):
    name = "deletes-items"

    def predict(self, items):
        del items[len(items) // 2 :]
        return super().predict(items)


class ReturnsASet(ConstantMean):
    name = "returns-a-set"

    def predict(self, items):
        return set(super().predict(items))


class HangsInFit(ConstantMean):
    name = "hangs-in-fit"

    def fit(self, train, validation):
        time.sleep(600)
        return super().fit(train, validation)


class HangsInPredict(ConstantMean):
    name = "hangs-in-predict"
    per_item = True

    def predict(self, items):
        time.sleep(600)
        return super().predict(items)


class Aborts(ConstantMean):
    name = "aborts"

    def fit(self, train, validation):
        os.abort()  # what a segfault in a native library looks like from outside


class EatsMemory(ConstantMean):
    name = "eats-memory"

    def fit(self, train, validation):
        hoard = []
        while True:
            hoard.append(bytearray(2**28))


class MovesAndSets(ConstantMean):
    name = "moves-and-sets"

    def fit(self, train, validation):
        os.chdir(os.environ["PRICER_TEST_ELSEWHERE"])
        os.environ["PRICER_DEBUG"] = "1"
        return super().fit(train, validation)


class PeeksAtPrices(ConstantMean):
    """Looks for the prices it is scored against in the files its process can reach."""

    name = "peeks-at-prices"

    def predict(self, items):
        import pickle

        with open(sys.argv[1], "rb") as handle:  # the job file names the run's data file
            job = pickle.load(handle)
        with open(job.data_file, "rb") as handle:
            splits, sample = pickle.load(handle)
        known = {item.id: item.price for item in [*splits.test, *sample] if item.price is not None}
        return [known.get(item.id, 0.0) for item in items]


class DescribesInNumpy(ConstantMean):
    name = "describes-in-numpy"

    def describe(self):
        import numpy as np

        return {"trees": np.int64(3), "score": np.float32(0.5), "shape": (2, 3), "nan": float("nan")}


class FloodsStdout(ConstantMean):
    name = "floods-stdout"

    def fit(self, train, validation):
        sys.stdout.write("x" * 30 * 2**20)  # 30 MB, no newline
        sys.stdout.flush()
        return super().fit(train, validation)


class LeavesItsGroup(ConstantMean):
    """Starts a process that leaves the job's process group (setsid) and would outlive the job."""

    name = "leaves-its-group"

    def fit(self, train, validation):
        stray = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
        Path(os.environ["PRICER_TEST_STRAY"]).write_text(str(stray.pid))
        return super().fit(train, validation)


class HostilePlugin:
    @hookimpl
    def register_predictors(self, register):
        for factory in (MultipliesPrices, TruncatesTrain, AbstainsOften, DeletesItems, ReturnsASet, HangsInFit, HangsInPredict, Aborts, EatsMemory, MovesAndSets,
                        PeeksAtPrices, DescribesInNumpy, FloodsStdout, LeavesItsGroup):
            register(factory)


@pytest.fixture
def hostile():
    pm.register(HostilePlugin(), name="hostile-bench")
    yield
    pm.unregister(name="hostile-bench")


@pytest.fixture(scope="module")
def alone(tmp_path_factory):
    """What the honest predictors score with nobody else in the run."""
    results = run_bench(predictors=HONEST, size=SIZE, out=tmp_path_factory.mktemp("alone") / "o", echo=lambda _: None)
    return {entry["name"]: entry["metrics"] for entry in results["predictors"]}


def entries(results: dict) -> dict[str, dict]:
    return {entry["name"]: entry for entry in results["predictors"]}


def assert_honest_unbent(results: dict, alone: dict, out: Path) -> None:
    """The honest predictors score what they score alone, and results.json holds this run."""
    for name in HONEST:
        assert entries(results)[name]["metrics"] == alone[name]
    assert json.loads((out / "results.json").read_text()) == results
    assert results["dataset"]["sizes"]["train"] == 13200


@pytest.mark.parametrize("culprit", ["multiplies-prices", "truncates-train"])
def test_a_fit_that_changes_its_items_changes_nobody_elses(tmp_path, hostile, alone, culprit):
    out = tmp_path / "o"
    results = run_bench(predictors=[culprit, *HONEST], size=SIZE, out=out, echo=lambda _: None)
    assert_honest_unbent(results, alone, out)
    assert entries(results)[culprit]["status"] == "ok"  # it only hurt its own copy


def test_abstaining_is_scored_at_the_fallback_and_cannot_lift_a_rank(tmp_path, hostile, alone):
    out = tmp_path / "o"
    results = run_bench(predictors=["abstains-often", *HONEST], size=SIZE, out=out, echo=lambda _: None)
    assert_honest_unbent(results, alone, out)
    abstainer = entries(results)["abstains-often"]
    assert results["abstention_price"] == 35.0  # declared: the training median
    # it answers with the training median and abstains elsewhere: scored at the median, it is the median
    assert abstainer["metrics"]["mae"] == pytest.approx(alone["constant-median"]["mae"])
    assert 0 < abstainer["coverage"] < 1 and abstainer["n"] == SIZE
    assert {("abstains-often", name) for name in HONEST} <= {(pair["a"], pair["b"]) for pair in results["paired"]} | {
        (pair["b"], pair["a"]) for pair in results["paired"]
    }
    records = [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines()]
    abstained = [r for r in records if r["predictor"] == "abstains-often" and r.get("abstained")]
    assert len(abstained) == round((1 - abstainer["coverage"]) * SIZE) and all(r["prediction"] is not None for r in abstained)
    line = next(line for line in leaderboard_lines(results) if line.startswith("abstains-often"))
    assert "coverage" in line


@pytest.mark.parametrize(("culprit", "reason"), [("deletes-items", "10 prices for 20 items"), ("returns-a-set", "returned set")])
def test_output_that_does_not_match_the_items_fails_its_predictor(tmp_path, hostile, alone, culprit, reason):
    out = tmp_path / "o"
    results = run_bench(predictors=[culprit, *HONEST], size=SIZE, out=out, echo=lambda _: None)
    assert_honest_unbent(results, alone, out)
    assert entries(results)[culprit]["status"] == "failed" and reason in entries(results)[culprit]["reason"]


def test_a_hang_in_fit_or_predict_is_a_timeout_of_that_predictor(tmp_path, hostile, alone):
    out = tmp_path / "o"
    started = time.monotonic()
    results = run_bench(predictors=["hangs-in-fit", "hangs-in-predict", *HONEST], size=SIZE, out=out, echo=lambda _: None, timeout=15)
    assert time.monotonic() - started < 120
    assert_honest_unbent(results, alone, out)
    for culprit in ("hangs-in-fit", "hangs-in-predict"):
        assert entries(results)[culprit]["status"] == "failed" and "timed out after 15 s" in entries(results)[culprit]["reason"]


def test_a_hard_crash_or_a_memory_blow_up_is_that_predictors_failure(tmp_path, hostile, alone):
    out = tmp_path / "o"
    results = run_bench(predictors=["aborts", "eats-memory", *HONEST], size=SIZE, out=out, echo=lambda _: None, memory_limit_gb=1.5)
    assert_honest_unbent(results, alone, out)
    assert entries(results)["aborts"]["status"] == "failed" and "SIGABRT" in entries(results)["aborts"]["reason"]
    assert entries(results)["eats-memory"]["status"] == "failed" and "memory" in entries(results)["eats-memory"]["reason"]


def test_chdir_and_environment_changes_stay_in_their_process(tmp_path, hostile, alone, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv("PRICER_TEST_ELSEWHERE", str(elsewhere))
    monkeypatch.delenv("PRICER_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    results = run_bench(predictors=["moves-and-sets", *HONEST], size=SIZE, out="o", echo=lambda _: None)
    assert_honest_unbent(results, alone, tmp_path / "o")
    assert Path.cwd() == tmp_path and "PRICER_DEBUG" not in os.environ and not any(elsewhere.iterdir())


def test_a_second_run_on_the_same_out_stops_with_one_line_and_leaves_nothing(tmp_path):
    from pricer_core.storage.atomic import OutputError, output_lock

    out = tmp_path / "o"
    with output_lock(out, "bench"):
        with pytest.raises(OutputError, match=r"another pricer bench run \(pid \d+\) is writing it"):
            run_bench(predictors=HONEST, size=SIZE, out=out, echo=lambda _: None)
        command = [sys.executable, "-m", "pricer_core.bench", "-p", "constant-mean", "--size", "5", "--out", str(out)]
        second = subprocess.run(command, capture_output=True, text=True, timeout=120)
        assert second.returncode == 1 and len(second.stderr.strip().splitlines()) == 1 and "another pricer bench run" in second.stderr
    run_bench(predictors=HONEST, size=SIZE, out=out, echo=lambda _: None)  # free again once the first ends
    assert sorted(path.name for path in tmp_path.iterdir()) == ["o"]


HANGING_PLUGIN = """
    import os, time
    from pathlib import Path
    from pricer_core import hookimpl
    from pricer_core.predictors.baselines import ConstantMean

    class Hangs(ConstantMean):
        name = "hangs-for-sigterm"

        def fit(self, train, validation):
            Path(os.environ["PRICER_TEST_PID"]).write_text(str(os.getpid()))
            time.sleep(600)

    @hookimpl
    def register_predictors(register):
        register(Hangs)
"""


def install_plugin(folder: Path, source: str) -> dict[str, str]:
    """A real installed plugin (a dist-info folder) for a `pricer-bench` subprocess; its environment."""
    info = folder / "pricer_fake_hangs-0.0.1.dist-info"
    info.mkdir(parents=True)
    (folder / "pricer_fake_hangs.py").write_text(textwrap.dedent(source))
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pricer-fake-hangs\nVersion: 0.0.1\n")
    (info / "entry_points.txt").write_text("[pricer]\nhangs = pricer_fake_hangs\n")
    return {**os.environ, "PYTHONPATH": str(folder), "PRICER_PLUGINS": "hangs"}


def test_sigterm_stops_the_run_within_seconds_and_leaves_no_worker(tmp_path):
    environment = install_plugin(tmp_path / "plugin", HANGING_PLUGIN)
    pid_file = tmp_path / "child.pid"
    environment["PRICER_TEST_PID"] = str(pid_file)
    command = [sys.executable, "-m", "pricer_core.bench", "-p", "hangs-for-sigterm", "--size", "5", "--out", str(tmp_path / "o")]
    bench = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pid_file.exists(), "the predictor never started"
    bench.send_signal(signal.SIGTERM)
    sent = time.monotonic()
    _, stderr = bench.communicate(timeout=30)
    assert time.monotonic() - sent < 10 and bench.returncode != 0
    assert stderr.count("terminated") == 1
    child = int(pid_file.read_text())
    time.sleep(0.5)
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)
    assert not (tmp_path / "o").exists()


def test_no_job_can_read_the_prices_it_is_scored_against(tmp_path, hostile, alone):
    out = tmp_path / "o"
    results = run_bench(predictors=["peeks-at-prices", *HONEST], size=SIZE, out=out, echo=lambda _: None)
    assert_honest_unbent(results, alone, out)
    peeker = entries(results)["peeks-at-prices"]
    assert peeker["status"] == "ok" and peeker["metrics"]["mae"] == pytest.approx(sum(r["truth"] for r in _records(out, "peeks-at-prices")) / SIZE)


def _records(out: Path, name: str) -> list[dict]:
    return [record for record in map(json.loads, (out / "predictions.jsonl").read_text().splitlines()) if record["predictor"] == name]


def test_numpy_in_describe_and_a_flood_on_stdout_stay_that_predictors_business(tmp_path, hostile, alone):
    out = tmp_path / "o"
    messages: list[str] = []
    results = run_bench(predictors=["describes-in-numpy", "floods-stdout", *HONEST], size=SIZE, out=out, echo=messages.append)
    assert_honest_unbent(results, alone, out)
    assert entries(results)["describes-in-numpy"]["details"] == {"trees": 3, "score": 0.5, "shape": [2, 3], "nan": None}
    assert entries(results)["floods-stdout"]["status"] == "ok"
    assert sum(len(message) for message in messages) < 2 * 2**20 and any("more bytes, not shown" in message for message in messages)


@pytest.mark.parametrize("content", ["fifo", "dev-zero", '{"status": "ok", "predictions": "all of them"}', '{"status": 7}', '{"no": "status"}', "[]"])
def test_a_result_file_a_worker_could_not_have_written_is_that_jobs_failure(tmp_path, content):
    from pricer_core.bench.isolation import read_result

    path = tmp_path / "result.json"
    if content == "fifo":
        os.mkfifo(path)
    elif content == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        path.write_text(content)
    result = read_result(path)
    assert result["status"] == "failed" and result["reason"].startswith("its result is unreadable")


def test_a_validation_set_too_small_for_an_interval_scores_without_one(tmp_path):
    from pricer_core.data.hub import save_local
    from pricer_core.data.splits import Splits
    from pricer_core.data.loading import load_bundle

    bundle = load_bundle()
    save_local(tmp_path / "splits", Splits("s", bundle.train[:300], bundle.validation[:5], bundle.test[:20]))
    results = run_bench(data=tmp_path / "splits", predictors=["constant-mean"], size=SIZE, out=tmp_path / "o", echo=lambda _: None)
    (entry,) = results["predictors"]
    assert entry["status"] == "ok" and entry["interval"]["half_width_log"] is None and entry["interval"]["coverage"] == 1.0


def test_a_process_that_leaves_its_jobs_group_goes_with_the_job(tmp_path, hostile, alone, monkeypatch):
    marker = tmp_path / "stray.pid"
    monkeypatch.setenv("PRICER_TEST_STRAY", str(marker))
    out = tmp_path / "o"
    results = run_bench(predictors=["leaves-its-group", *HONEST], size=SIZE, out=out, echo=lambda _: None)
    assert_honest_unbent(results, alone, out)
    stray = int(marker.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(stray, 0)
