import json
import os
import re
import signal
import time

import pytest

from pricer_core.plugins import registry as plugins
from pricer_core.predictors.baselines import ConstantMedian
from pricer_core.bench.runner import leaderboard_lines, run_bench
from pricer_core.plugins.hookspecs import hookimpl


def test_bench_writes_results_schema_predictions_and_report(tmp_path):
    results = run_bench(predictors=["constant-mean", "constant-median", "random"], size=50, out=tmp_path, echo=lambda _: None)
    on_disk = json.loads((tmp_path / "results.json").read_text())
    assert on_disk == results
    assert {"schema", "created", "git", "versions", "dataset", "seed", "predictors"} <= set(results)
    assert results["dataset"]["sizes"]["sample"] == 50 and len(results["dataset"]["sample_ids_sha256"]) == 64
    core = {entry["name"]: entry for entry in results["predictors"]}
    for name in ("constant-mean", "constant-median", "random"):
        entry = core[name]
        assert entry["status"] == "ok" and entry["n"] == 50
        assert set(entry["metrics"]) == {"mae", "mae_ci95", "mse", "rmse", "rmsle", "r2", "hit_rate"}
        assert {"plugin", "reason", "fit_seconds", "predict_seconds", "cost_usd"} <= set(entry)
    lines = (tmp_path / "predictions.jsonl").read_text().splitlines()
    assert sum(json.loads(line)["predictor"] == "constant-mean" for line in lines) == 50
    html = (tmp_path / "report.html").read_text()
    assert "Leaderboard" in html and "constant-median" in html and "plotly" in html.lower()
    assert "<script src=" not in html and html.count("<script>/**") == 1  # plotly.js inlined once, no CDN


def test_constant_mean_matches_train_mean_and_second_run_reuses_fit(tmp_path):
    from pricer_core.data.loading import load_bundle

    first = run_bench(predictors=["constant-mean"], size=10, out=tmp_path, echo=lambda _: None)
    messages = []
    second = run_bench(predictors=["constant-mean"], size=10, out=tmp_path, echo=messages.append)
    assert any("reusing cached fit" in message for message in messages)
    assert first["predictors"][0]["metrics"] == second["predictors"][0]["metrics"]
    splits = load_bundle()
    mean = sum(item.price for item in splits.train) / len(splits.train)
    expected = sum(abs(mean - item.price) for item in splits.test[:10]) / 10
    assert abs(first["predictors"][0]["metrics"]["mae"] - expected) < 1e-9


def test_leaderboard_ranks_by_mae_and_lists_failures():
    results = {
        "predictors": [
            {"name": "b", "status": "ok", "metrics": {"mae": 20.0, "mae_ci95": [15, 25], "rmsle": 0.5, "r2": 10.0, "hit_rate": 50.0}, "fit_seconds": 1.0, "predict_seconds": 0.1, "cost_usd": 0.0},
            {"name": "a", "status": "ok", "metrics": {"mae": 10.0, "mae_ci95": [8, 12], "rmsle": 0.4, "r2": 20.0, "hit_rate": 60.0}, "fit_seconds": 1.0, "predict_seconds": 0.1, "cost_usd": 0.0},
            {"name": "c", "status": "skipped", "reason": "needs GROQ_API_KEY"},
        ]
    }
    lines = leaderboard_lines(results)
    assert [line.split()[0] for line in lines[2:]] == ["a", "b", "c"]
    assert lines[-1].endswith("skipped: needs GROQ_API_KEY")


def test_skipped_when_needs_are_missing(tmp_path, monkeypatch):
    from pricer_core.plugins import registry as plugins
    from pricer_core.predictors.baselines import ConstantMean
    from pricer_core.plugins.hookspecs import hookimpl
    from pricer_core.contract.predictor import Needs

    class NeedsKey(ConstantMean):
        name = "needs-key"
        needs = Needs(env=("PRICER_TEST_NO_SUCH_KEY",))

    class NeedsSummaries(ConstantMean):
        name = "needs-summaries"
        needs = Needs(summaries=True)

    class Plugin:
        @hookimpl
        def register_predictors(self, register):
            register(NeedsKey)
            register(NeedsSummaries)

    monkeypatch.delenv("PRICER_TEST_NO_SUCH_KEY", raising=False)
    plugins.pm.register(Plugin(), name="needy")
    try:
        results = run_bench(predictors=["needs-key", "needs-summaries"], size=5, out=tmp_path, echo=lambda _: None)
    finally:
        plugins.pm.unregister(name="needy")
    reasons = {entry["name"]: (entry["status"], entry["reason"]) for entry in results["predictors"]}
    assert reasons["needs-key"] == ("skipped", "environment variable PRICER_TEST_NO_SUCH_KEY is not set")
    assert reasons["needs-summaries"][0] == "skipped" and "summaries" in reasons["needs-summaries"][1]


class Counted(ConstantMedian):
    name = "counted"

    def fit(self, train, validation):
        with open(os.environ["PRICER_TEST_FITS"], "a") as log:  # fits run in their own process: counted on disk
            log.write(self.name + "\n")
        return super().fit(train, validation)


class Killer(ConstantMedian):
    name = "killer"

    def fit(self, train, validation):
        if os.environ.get("PRICER_TEST_ARMED"):
            os.kill(os.getppid(), signal.SIGINT)  # the user presses Ctrl-C in the bench while this fits
            time.sleep(60)
        return super().fit(train, validation)


class ResumablePlugin:
    @hookimpl
    def register_predictors(self, register):
        register(Counted)
        register(Killer)


def test_killed_bench_resumes_without_refitting_finished_predictors(tmp_path, monkeypatch):
    fits = tmp_path / "fits.log"
    monkeypatch.setenv("PRICER_TEST_FITS", str(fits))
    monkeypatch.setenv("PRICER_TEST_ARMED", "1")
    plugins.pm.register(ResumablePlugin(), name="resumable")
    try:
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            run_bench(predictors=["counted", "killer"], size=10, out=tmp_path / "o", echo=lambda _: None)
        assert time.monotonic() - started < 30  # the sleeping fit was killed, not waited for
        monkeypatch.delenv("PRICER_TEST_ARMED")
        results = run_bench(predictors=["counted", "killer"], size=10, out=tmp_path / "o", echo=lambda _: None)
    finally:
        plugins.pm.unregister(name="resumable")
    assert fits.read_text().split() == ["counted"]  # fitted once, before the kill; the re-run loaded it from the cache
    entries = {entry["name"]: entry for entry in results["predictors"]}
    assert entries["counted"]["cached_fit"] is True and entries["killer"]["status"] == "ok"


def test_an_opt_in_predictor_leaves_the_default_set_with_its_reason(tmp_path, throwaway_plugin, monkeypatch):
    class Slow(ConstantMedian):
        name = "slow-median"
        opt_in = "takes an hour"

    from pricer_core.bench import runner

    throwaway_plugin("slow", Slow)
    real = plugins.collect()
    kept = {name: registration for name, registration in real.predictors.items() if registration.plugin in ("pricer-core", "slow")}
    # "every registered predictor" means the core's and the throwaway plugin's here, not the installed plugins'
    monkeypatch.setattr(runner, "collect", lambda: plugins.PluginSet(real.plugins, kept, real.preprocessors))
    everything = run_bench(size=5, out=tmp_path / "a", echo=lambda _: None)
    assert {entry["name"] for entry in everything["predictors"]} == {"constant-mean", "constant-median", "random", "ensemble", "slow-median"}
    slow = {entry["name"]: entry for entry in everything["predictors"]}["slow-median"]
    assert slow["status"] == "skipped" and slow["reason"] == "opt-in: takes an hour; run it with -p slow-median"
    named = run_bench(predictors=["slow-median"], size=5, out=tmp_path / "b", echo=lambda _: None)
    assert named["predictors"][0]["status"] == "ok"


@pytest.mark.parametrize(
    "name, setting, words",
    [
        ("random-forest", {"n_estimators": "x"}, "random-forest: setting n_estimators='x' must be int"),
        ("random-forest", {"n_features": 2**12}, "random-forest: unknown setting(s) ['n_features'] for preset 'default'"),
        ("random-forest", {"preset": "nope"}, "random-forest: unknown preset 'nope'"),
        ("dnn", {"epochs": "x"}, "dnn: setting epochs='x' must be int like its default 10"),
    ],
)
def test_a_preset_setting_of_the_wrong_type_is_refused_for_a_skipped_opt_in_predictor_too(name, setting, words):
    """random-forest and dnn are opt-in, so not run here; a wrong --set for one is still one line before anything runs."""
    pytest.importorskip("pricer_classic")
    pytest.importorskip("pricer_dnn")
    from pricer_core.bench.runner import plan_bench

    with pytest.raises(ValueError, match=re.escape(f"--set: {words}")):
        plan_bench(None, None, 20, None, {name: setting}, echo=lambda _: None)
