import pytest

from pricer_core.bench import run_bench
from pricer_core.ensemble import FITTED_POOL, Ensemble
from pricer_core.splits import load_bundle


def test_with_only_baselines_there_is_nothing_to_blend(tmp_path):
    results = run_bench(predictors=["ensemble", "constant-mean", "random"], size=40, out=tmp_path, echo=lambda _: None)
    assert [entry["name"] for entry in results["predictors"]][-1] == "ensemble"  # runs after its members
    entry = {e["name"]: e for e in results["predictors"]}["ensemble"]
    assert entry["status"] == "failed" and "at least two fitted members" in entry["reason"]
    baseline = {e["name"]: e for e in results["predictors"]}["constant-mean"]
    assert 0 <= baseline["interval"]["coverage"] <= 1 and baseline["interval"]["level"] == 0.9
    assert results["paired"][0]["a"] == "constant-mean" and results["paired"][0]["b"] == "random"
    assert results["paired"][0]["significant"] and results["paired"][0]["difference"] < 0


class _Fixed:
    """A fitted stand-in member: a fixed multiple of the truth, so members differ in quality."""

    per_item = False

    def __init__(self, scale, prices):
        self.scale, self.prices = scale, prices

    def predict(self, items):
        return [self.prices[item.id] * self.scale for item in items]


def test_weights_fit_on_validation_beat_or_equal_best_member():
    splits = load_bundle()
    prices = {item.id: item.price for item in splits.validation}
    FITTED_POOL.clear()
    FITTED_POOL.update({"low": _Fixed(0.5, prices), "high": _Fixed(1.6, prices)})
    try:
        ensemble = Ensemble().fit(splits.train[:10], splits.validation)
    finally:
        FITTED_POOL.clear()
    assert set(ensemble.weights) == {"low", "high"} and all(w >= 0 for w in ensemble.weights.values())
    best_member = min(ensemble.validation_rmsle[name] for name in ("low", "high"))
    assert ensemble.validation_rmsle["ensemble"] <= best_member + 1e-12
    assert ensemble.validation_scores["ensemble"] < min(ensemble.validation_scores["low"], ensemble.validation_scores["high"])


def test_missing_member_is_a_clear_error():
    FITTED_POOL.clear()
    with pytest.raises(ValueError, match="were not fitted in this run"):
        Ensemble(members=["xgboost", "dnn"]).fit(load_bundle().train[:5], load_bundle().validation[:5])


class _GoodOn:
    """Exact on one source, off by a factor elsewhere."""

    per_item = False

    def __init__(self, source, prices):
        self.source, self.prices = source, prices

    def predict(self, items):
        return [self.prices[item.id] * (1.0 if item.source == self.source else 3.0) for item in items]


def test_sources_with_enough_rows_get_their_own_weights():
    splits = load_bundle()
    prices = {item.id: item.price for item in splits.validation}
    official = "llm_engineering_official_test_2000"
    software = "student_test_lite_hamzabaccouri_software_2927"
    FITTED_POOL.clear()
    FITTED_POOL.update({"a": _GoodOn(official, prices), "b": _GoodOn(software, prices)})
    try:
        ensemble = Ensemble().fit(splits.train[:10], splits.validation)
    finally:
        FITTED_POOL.clear()
    official_weights, _ = ensemble.source_weights[official]
    software_weights, _ = ensemble.source_weights[software]
    assert official_weights["a"] > 0.9 and official_weights["b"] < 0.1
    assert software_weights["b"] > 0.9 and software_weights["a"] < 0.1
    item = next(item for item in splits.validation if item.source == official)
    assert ensemble.predict([item])[0] == pytest.approx(item.price, rel=1e-6)
