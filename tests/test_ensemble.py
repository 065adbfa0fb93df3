import numpy as np
import pytest

from pricer_core.bench.runner import run_bench
from pricer_core.contract.predictor import NoPrediction, learns_from_validation
from pricer_core.data.loading import load_bundle
from pricer_core.predictors.baselines import ConstantMedian
from pricer_core.predictors.ensemble import Ensemble


def test_with_only_baselines_there_is_nothing_to_blend(tmp_path, monkeypatch):
    from pricer_core.bench import runner
    from pricer_core.plugins import registry as plugins

    real = plugins.collect()
    core = {name: registration for name, registration in real.predictors.items() if registration.plugin == "pricer-core"}
    # no plugin installed: the bench has no blendable predictor to fit for the ensemble
    monkeypatch.setattr(runner, "collect", lambda: plugins.PluginSet(real.plugins, core, real.preprocessors))
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
    ensemble = Ensemble()
    ensemble.offer_members({"low": _Fixed(0.5, prices), "high": _Fixed(1.6, prices)})
    ensemble.fit(splits.train[:10], splits.validation)
    assert set(ensemble.weights) == {"low", "high"} and all(w >= 0 for w in ensemble.weights.values())
    best_member = min(ensemble.validation_rmsle[name] for name in ("low", "high"))
    assert ensemble.validation_rmsle["ensemble"] <= best_member + 1e-12
    assert ensemble.validation_scores["ensemble"] < min(ensemble.validation_scores["low"], ensemble.validation_scores["high"])


def test_unknown_member_is_a_clear_error():
    with pytest.raises(ValueError, match="member 'no-such-model' is not a registered predictor"):
        Ensemble(members=["no-such-model", "constant-mean"]).fit(load_bundle().train[:5], load_bundle().validation[:5])
    with pytest.raises(ValueError, match="'random' cannot be a member"):
        Ensemble(members=["random", "constant-mean"]).fit(load_bundle().train[:5], load_bundle().validation[:5])


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
    ensemble = Ensemble()
    ensemble.offer_members({"a": _GoodOn(official, prices), "b": _GoodOn(software, prices)})
    ensemble.fit(splits.train[:10], splits.validation)
    official_weights, _ = ensemble.source_weights[official]
    software_weights, _ = ensemble.source_weights[software]
    assert official_weights["a"] > 0.9 and official_weights["b"] < 0.1
    assert software_weights["b"] > 0.9 and software_weights["a"] < 0.1
    item = next(item for item in splits.validation if item.source == official)
    assert ensemble.predict([item])[0] == pytest.approx(item.price, rel=1e-6)


class ByCategory(ConstantMedian):
    """A deterministic member that learns something: the median price of the item's category."""

    name = "by-category"
    role = "model"

    def save(self, directory):
        from pricer_core.predictors.baselines import write_state

        write_state(directory, {"value": self._value, "medians": self._medians})

    @classmethod
    def load(cls, directory):
        from pricer_core.predictors.baselines import read_state

        predictor, state = cls(), read_state(directory)
        predictor._value, predictor._medians = state["value"], state["medians"]
        return predictor

    def fit(self, train, validation):
        import statistics

        super().fit(train, validation)
        groups = {}
        for item in train:
            groups.setdefault(item.category, []).append(item.price)
        self._medians = {category: statistics.median(prices) for category, prices in groups.items()}
        return self

    def predict(self, items):
        return [self._medians.get(item.category, self._value) for item in items]


class ByLength(ConstantMedian):
    """Another deterministic member: longer texts cost more."""

    name = "by-length"
    role = "model"

    def predict(self, items):
        return [self._value * (0.5 + min(len(item.full), 2000) / 1000) for item in items]


class SometimesSilent(ByLength):
    """A per-item member (like an LLM) that cannot price every third item."""

    name = "sometimes-silent"
    per_item = True

    def predict(self, items):
        if sum(map(ord, items[0].id)) % 3 == 0:
            raise NoPrediction("no number in reply")
        return super().predict(items)


@pytest.fixture
def members(throwaway_plugin):
    throwaway_plugin("members", ByCategory, ByLength, SometimesSilent)


def _ensemble_mae(results):
    entry = {e["name"]: e for e in results["predictors"]}["ensemble"]
    assert entry["status"] == "ok", entry
    return entry["metrics"]["mae"], entry["details"]["weights"]


def test_the_ensemble_does_not_depend_on_what_else_ran(members, tmp_path):
    named = {"ensemble": {"members": ["by-category", "by-length"]}}
    quiet = dict(size=60, echo=lambda _: None, use_cache=False)
    alone = run_bench(predictors=["ensemble"], options=named, out=tmp_path / "a", **quiet)
    beside_members = run_bench(predictors=["by-category", "by-length", "ensemble"], options=named, out=tmp_path / "b", **quiet)
    beside_more = run_bench(
        predictors=["ensemble", "constant-mean", "by-length", "random", "by-category"], options=named, out=tmp_path / "c", **quiet
    )
    assert _ensemble_mae(alone) == _ensemble_mae(beside_members) == _ensemble_mae(beside_more)
    assert set(_ensemble_mae(alone)[1]) == {"by-category", "by-length"}


def test_a_members_failure_on_an_item_is_counted_not_fatal(members, tmp_path):
    results = run_bench(
        predictors=["by-category", "sometimes-silent", "ensemble"],
        options={"ensemble": {"members": ["by-category", "sometimes-silent"]}},
        size=60, out=tmp_path, echo=lambda _: None, use_cache=False,
    )
    entry = {e["name"]: e for e in results["predictors"]}["ensemble"]
    assert entry["status"] == "ok" and 0.5 < entry["coverage"] < 1
    assert entry["details"]["validation_items_without_prediction"] > 0


def test_trained_alone_it_fits_its_own_members_and_loads_back(members, tmp_path):
    from click.testing import CliRunner

    from pricer_core.cli.commands import main

    runner = CliRunner()
    trained = runner.invoke(main, ["train", "ensemble", "--set", 'members=["by-category","by-length"]', "--out", str(tmp_path / "m")])
    assert trained.exit_code == 0, trained.output
    test_file = tmp_path / "test.jsonl"
    from pricer_core.data.readers import write_items

    write_items(test_file, load_bundle().test[:20])
    predicted = runner.invoke(main, ["predict", str(tmp_path / "m"), str(test_file)])
    assert predicted.exit_code == 0, predicted.output
    rows = [line for line in predicted.output.splitlines() if line.startswith("{")]
    assert len(rows) == 20


class _LeansOnSource:
    """Exact for a source it was trained on, three times off for any other: it does not travel."""

    per_item = False

    def __init__(self, known, prices):
        self.known, self.prices = known, prices

    def predict(self, items):
        return [self.prices[item.id] * (1.0 if item.source in self.known else 3.0) for item in items]


class _Steady:
    """Always 10% high, wherever the item comes from."""

    per_item = False

    def __init__(self, prices):
        self.prices = prices

    def predict(self, items):
        return [self.prices[item.id] * 1.1 for item in items]


def test_a_source_never_seen_is_priced_by_the_members_that_travel():
    splits = load_bundle()
    prices = {item.id: item.price for item in splits.validation}
    known = {item.source for item in splits.train}
    ensemble = Ensemble(min_source_rows=10**9, unseen_source_weights=True)  # global and unseen-source weights only
    ensemble.offer_members({"leans": _LeansOnSource(known, prices), "steady": _Steady(prices)})
    ensemble.fit(splits.train, splits.validation)
    assert ensemble.weights["leans"] > 0.9  # where the source is known, the exact member wins
    unseen_weights, _ = ensemble.unseen_weights
    assert unseen_weights["steady"] > 0.9 and unseen_weights["leans"] < 0.1
    item = splits.validation[0]
    new_source = item.model_copy(update={"source": "a-catalogue-never-seen"})
    assert ensemble.predict([new_source])[0] == pytest.approx(item.price * 1.1, rel=0.02)  # steady's price: no level shift
    assert sum(unseen_weights.values()) == pytest.approx(1.0)
    assert ensemble.predict([item])[0] == pytest.approx(item.price, rel=1e-6)
    assert ensemble.validation_scores["ensemble (source hidden)"] < ensemble.validation_scores["leans (source hidden)"]


@pytest.mark.parametrize("weights_from", ["hidden-source", "held-out-sources"])
def test_unseen_source_weights_survive_save_and_load(tmp_path, members, weights_from):
    from pricer_core.storage.persistence import load_predictor, save_predictor

    splits = load_bundle()
    ensemble = Ensemble(members=["by-category", "by-length"], unseen_source_weights=True, unseen_weights_from=weights_from).fit(splits.train, splits.validation)
    assert ensemble.unseen_weights is not None and bool(ensemble.held_out_scores) == (weights_from == "held-out-sources")
    save_predictor(ensemble, tmp_path / "model")
    loaded = load_predictor(tmp_path / "model")
    items = [item.model_copy(update={"source": "new"}) for item in splits.test[:20]]
    assert loaded.predict(items) == pytest.approx(ensemble.predict(items))
    assert loaded.unseen_weights[0] == pytest.approx(ensemble.unseen_weights[0])
    assert loaded.config() == ensemble.config()


def test_without_the_option_a_new_source_gets_the_global_weights():
    splits = load_bundle()
    prices = {item.id: item.price for item in splits.validation}
    known = {item.source for item in splits.train}
    ensemble = Ensemble(min_source_rows=10**9, unseen_source_weights=False)
    ensemble.offer_members({"leans": _LeansOnSource(known, prices), "steady": _Steady(prices)})
    ensemble.fit(splits.train, splits.validation)
    assert ensemble.unseen_weights is None
    item = splits.validation[0].model_copy(update={"source": "a-catalogue-never-seen"})
    assert ensemble._weights_for(item.source) == (ensemble.weights, ensemble.intercept)


class _Scaled:
    """factor × price with a fixed per-item wobble where the source is known; `away` × price elsewhere."""

    per_item = False

    def __init__(self, known, prices, factor, away, seed):
        self.known, self.prices, self.factor, self.away = known, prices, factor, away
        self.wobble = {key: float(value) for key, value in zip(prices, np.random.default_rng(seed).uniform(0.8, 1.25, len(prices)))}

    def predict(self, items):
        return [self.prices[item.id] * (self.factor * self.wobble[item.id] if item.source in self.known else self.away) for item in items]


@pytest.mark.parametrize("max_members", [2, 3])
def test_members_chosen_for_new_sources_leave_known_sources_priced_exactly_as_without_the_option(max_members):
    splits = load_bundle()
    prices = {item.id: item.price for item in splits.validation + splits.test}
    known = {item.source for item in splits.train}
    offered = {  # three that share the weight where the source is known, two that travel
        "low": _Scaled(known, prices, 0.8, 3.0, 1), "high": _Scaled(known, prices, 1.25, 3.0, 2), "mid": _Scaled(known, prices, 1.0, 3.0, 3),
        "steady": _Scaled(known, prices, 1.5, 1.1, 4), "steady2": _Scaled(known, prices, 1.6, 1.2, 5),
    }
    fitted = {}
    for option in (True, False):
        ensemble = Ensemble(max_members=max_members, unseen_source_weights=option)
        ensemble.offer_members(offered)
        fitted[option] = ensemble.fit(splits.train, splits.validation)
    on, off = fitted[True], fitted[False]
    assert on.weights == off.weights and len([weight for weight in on.weights.values() if weight > 0]) >= 2
    assert {"steady", "steady2"} <= set(on._predictors) and not {"steady", "steady2"} & set(off._predictors)
    items = splits.validation[:60] + splits.test[:60]
    assert on.predict(items) == off.predict(items)  # identical, not approximately
    new = [item.model_copy(update={"source": "a-catalogue-never-seen"}) for item in items]
    assert on.unseen_weights[0]["steady"] + on.unseen_weights[0]["steady2"] > 0.9
    assert np.mean(np.abs(np.array(on.predict(new)) / [prices[item.id] for item in new] - 1)) < 0.25


class _FailsWhereUnseen:
    per_item = False

    def __init__(self, prices):
        self.prices = prices

    def predict(self, items):
        if any(item.source == "pricer:unseen-source" for item in items):
            raise ValueError("cannot price a source it never saw")
        return [self.prices[item.id] for item in items]


def test_a_member_that_fails_on_a_hidden_source_costs_only_the_unseen_weights():
    splits = load_bundle()
    prices = {item.id: item.price for item in splits.validation}
    ensemble = Ensemble()
    ensemble.offer_members({"fails": _FailsWhereUnseen(prices), "steady": _Steady(prices)})
    ensemble.fit(splits.train, splits.validation)
    assert ensemble.unseen_weights is None and "cannot price a source it never saw" in ensemble.describe()["unseen_source_note"]
    assert ensemble.predict(splits.validation[:5]) == pytest.approx([item.price for item in splits.validation[:5]], rel=1e-6)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("unseen_weights", [{"by-category": float("nan"), "by-length": 1.0}, 0.0], "finite number"),
        ("unseen_weights", [{"by-category": 1.0}, 0.0], "differ from the ensemble's"),
        ("source_weights", {"x": [{"by-category": 1.0, "by-length": 0.0}]}, r"source_weights\['x'\]: expected"),
        ("known_sources", "every", "known_sources must be a list"),
        ("judged_by_twin", "by-category", "judged_by_twin must be a list of member names"),
        ("judged_by_twin", ["no-such-member"], "judged_by_twin must be a list of member names"),
        ("intercept", "0", "finite number"),
        ("intercept", 10**400, "finite number"),
        ("member_names", ["by-category"], "all of them in member_names"),
        ("weights", {}, "at least two members"),
        ("validation_scores", None, None),
        ("member_settings", 5, "member_settings must map member names to settings objects"),
        ("member_settings", {"linear": "x"}, "member_settings must map member names to settings objects"),
        ("max_members", "2", "setting max_members='2' must be int"),
    ],
)
def test_a_crafted_weights_file_is_one_clear_error(tmp_path, members, field, value, message):
    import json

    from pricer_core.storage.persistence import save_predictor

    splits = load_bundle()
    save_predictor(Ensemble(members=["by-category", "by-length"]).fit(splits.train, splits.validation), tmp_path / "model")
    [weights_file] = (tmp_path / "model").rglob("weights.json")
    state = json.loads(weights_file.read_text())
    if message is None:  # a field left out
        del state[field]
        message = f"field '{field}' is missing"
    else:
        state[field] = value
    weights_file.write_text(json.dumps(state))
    with pytest.raises(ValueError, match=message):
        Ensemble.load(weights_file.parent)


class BySourceAndCategory(ByCategory):
    """Median of the item's (source, category): sharp where the source is known, three times off elsewhere."""

    name = "by-source-and-category"

    def fit(self, train, validation):
        import statistics

        super().fit(train, validation)
        groups = {}
        for item in train:
            groups.setdefault(f"{item.source}|{item.category}", []).append(item.price)
        self._medians = {key: statistics.median(prices) for key, prices in groups.items()}
        return self

    def predict(self, items):
        return [self._medians.get(f"{item.source}|{item.category}", 3 * self._value) for item in items]


def test_a_member_kept_for_new_sources_only_is_saved_and_loaded(tmp_path, members, throwaway_plugin):
    from pricer_core.storage.persistence import load_predictor, save_predictor

    throwaway_plugin("by-source", BySourceAndCategory)
    splits = load_bundle()
    factories = {"by-source-and-category": BySourceAndCategory, "by-category": ByCategory, "by-length": ByLength, "constant-median": ConstantMedian}
    ensemble = Ensemble(max_members=2)
    ensemble.offer_members({name: factory().fit(splits.train, splits.validation) for name, factory in factories.items()})
    ensemble.fit(splits.train, splits.validation)
    kept_for_new = [name for name in ensemble._predictors if name not in ensemble.weights]
    assert kept_for_new and set(kept_for_new) <= set(ensemble.unseen_weights[0])
    save_predictor(ensemble, tmp_path / "model")
    loaded = load_predictor(tmp_path / "model")
    assert list(loaded._predictors) == list(ensemble._predictors) and loaded.weights == ensemble.weights
    items = splits.test[:30] + [item.model_copy(update={"source": "never-seen"}) for item in splits.test[:30]]
    assert loaded.predict(items) == ensemble.predict(items)


class FailsWithoutOfficial(ByLength):
    """A member that cannot be fitted once the official source is held out."""

    name = "fails-without-official"

    def fit(self, train, validation):
        if not any(item.source == "llm_engineering_official_test_2000" for item in train):
            raise RuntimeError("needs the official rows")
        return super().fit(train, validation)


def test_held_out_source_weights_are_what_members_refitted_without_each_source_scored(throwaway_plugin, tmp_path):
    throwaway_plugin("members", ByCategory, ByLength)
    options = {"ensemble": {"members": ["by-category", "by-length"], "unseen_weights_from": "held-out-sources", "held_out_rows": 60}}
    results = run_bench(predictors=["by-category", "by-length", "ensemble"], options=options, size=60, out=tmp_path, echo=lambda _: None, use_cache=False, loso=True)
    details = {entry["name"]: entry for entry in results["predictors"]}["ensemble"]["details"]
    held_out = details["held_out_source_mae"]
    loso = {entry["name"]: {score["source"]: score["mae"] for score in entry["sources"]} for entry in results["leave_one_source_out"]["predictors"]}
    # Each member's score on a source it was refitted without is the bench's leave-one-source-out score.
    assert set(held_out) == set(loso["by-category"]) and len(held_out) == 8
    for source, scores in held_out.items():
        assert scores["by-category"] == pytest.approx(loso["by-category"][source])
        assert scores["by-length"] == pytest.approx(loso["by-length"][source])
    weights = details["unseen_weights"][0]
    assert sum(weights.values()) == pytest.approx(1.0) and details["unseen_weights"][1] == 0.0
    assert details["validation_mae"]["ensemble (held-out sources)"] == pytest.approx(np.mean([scores["ensemble"] for scores in held_out.values()]))


def test_held_out_source_weights_minimise_the_source_balanced_log_error():
    from pricer_core.data.splits import Splits, source_folds
    from pricer_core.predictors.weighting import fit_convex_weights as _fit_convex_weights

    splits = load_bundle()
    rng = np.random.default_rng(0)
    matrix = rng.normal(3, 1, size=(300, 2))
    truth = matrix @ [0.3, 0.7] + rng.normal(0, 0.1, 300)
    row_weights = np.where(np.arange(300) < 250, 1 / 250, 1 / 50)  # a big source and a small one count equally
    weights, intercept = _fit_convex_weights(matrix, truth, ["a", "b"], row_weights)

    def loss(share):
        return float(np.sum(row_weights * (matrix @ [share, 1 - share] - truth) ** 2))

    fitted = loss(weights["a"])
    assert intercept == 0.0 and weights["a"] + weights["b"] == pytest.approx(1.0)
    assert all(fitted <= loss(share) + 1e-9 for share in np.linspace(0, 1, 101))
    assert [source for source, _ in source_folds(Splits("s", splits.train, splits.validation, []), 200)] == sorted({item.source for item in splits.train})


def test_a_member_that_cannot_be_refitted_leaves_the_hidden_source_weights(throwaway_plugin):
    throwaway_plugin("members", ByLength, FailsWithoutOfficial)
    splits = load_bundle()
    ensemble = Ensemble(members=["by-length", "fails-without-official"], unseen_weights_from="held-out-sources").fit(splits.train, splits.validation)
    hidden = Ensemble(members=["by-length", "fails-without-official"]).fit(splits.train, splits.validation)
    assert "held-out-source refit failed: RuntimeError: needs the official rows" in ensemble.describe()["unseen_source_note"]
    assert ensemble.unseen_weights == hidden.unseen_weights and ensemble.held_out_scores == {}


@pytest.mark.parametrize("settings, message", [({"unseen_weights_from": "test"}, "unseen_weights_from must be one of"), ({"held_out_rows": 0}, "held_out_rows must be a positive integer")])
def test_bad_held_out_settings_are_one_clear_error(settings, message):
    with pytest.raises(ValueError, match=message):
        Ensemble(**settings)


class _Memoriser:
    """Knows the price of every row it learned; 20% high on anything else. With `learn` it also learns validation."""

    per_item = False

    def __init__(self, prices, learn_from_validation):
        self.prices, self.learn_from_validation, self.known = prices, learn_from_validation, set()

    def fit(self, train, validation):
        self.known = {item.id for item in train + (validation if self.learn_from_validation else [])}
        return self

    def predict(self, items):
        return [self.prices[item.id] * (1.0 if item.id in self.known else 1.2) for item in items]


def test_a_member_that_learned_validation_is_weighed_by_its_twin_and_predicts_itself():
    """Judged by itself it would look perfect on validation and take every weight; its twin shows what it does on rows it never saw."""
    splits = load_bundle()
    train, validation = splits.train[:50], splits.validation
    prices = {item.id: item.price for item in train + validation}
    learner = _Memoriser(prices, learn_from_validation=True).fit(train, validation)
    ensemble = Ensemble(unseen_source_weights=False)
    ensemble.offer_members({"learner": learner, "steady": _Steady(prices)})
    ensemble.fit(train, validation)
    assert ensemble.describe()["judged_by_twin_without_validation"] == ["learner"]
    assert ensemble.validation_scores["learner"] > 0  # the twin's honest error, not the memoriser's zero
    assert ensemble._predictors["learner"] is learner  # the blend prices with the member fitted on more rows
    honest = Ensemble(unseen_source_weights=False)
    honest.offer_members({"learner": _Memoriser(prices, learn_from_validation=False).fit(train, validation), "steady": _Steady(prices)})
    honest.fit(train, validation)
    assert ensemble.weights == honest.weights and ensemble.intercept == honest.intercept
    assert learns_from_validation(ensemble) and not learns_from_validation(honest)  # so the bench gives the blend no interval either
    fooled = Ensemble(unseen_source_weights=False)  # what weighing it by itself would give
    fooled.offer_members({"learner": _Memoriser(prices, learn_from_validation=True).fit(train, validation), "steady": _Steady(prices)})
    fooled._judges = lambda pool, train, validation: pool
    fooled.fit(train, validation)
    assert fooled.validation_scores["learner"] == 0 and fooled.weights != honest.weights


def test_the_bench_gives_no_conformal_interval_to_a_predictor_that_learned_validation(tmp_path):
    pytest.importorskip("pricer_classic")
    settings = {"n_estimators": 20, "svd_components": 8, "text_ridge": False, "brand_prices": False}
    options = {"xgboost": {**settings, "learn_from_validation": True}}
    results = run_bench(predictors=["xgboost", "constant-mean"], size=20, out=tmp_path, echo=lambda _: None, options=options, use_cache=False)
    entries = {entry["name"]: entry for entry in results["predictors"]}
    assert entries["xgboost"]["status"] == "ok" and "learned from the validation rows" in entries["xgboost"]["interval"]["error"]
    assert entries["constant-mean"]["interval"]["level"] == 0.9


def test_members_are_built_from_the_registry_it_is_given_collected_never(monkeypatch):
    """The bench hands over its own registry: the ensemble builds members from it, not from a fresh collect()."""
    from pricer_core.plugins import registry as plugins
    from pricer_core.plugins.registry import Registration

    class BlendableMedian(ConstantMedian):
        name, role = "blendable-median", "model"

    monkeypatch.setattr(plugins, "collect", lambda: pytest.fail("the ensemble collected the plugins again"))
    given = {name: Registration(name=name, kind="predictor", factory=BlendableMedian, plugin="test") for name in ("left", "right")}
    splits = load_bundle()
    ensemble = Ensemble(members=["left", "right"])
    ensemble.offer_members({}, registry=given)
    prices = ensemble.fit(splits.train[:300], splits.validation[:60]).predict(splits.test[:5])
    assert {name: type(member) for name, member in ensemble._predictors.items()} == {"left": BlendableMedian, "right": BlendableMedian}
    assert len(prices) == 5 and all(price > 0 for price in prices)
