import numpy as np
import pytest

pytest.importorskip("sentence_transformers", reason="the embedding ridge reads pricer-llm's MiniLM vectors")

from pricer_classic.cross_fitting import fold_assignment  # noqa: E402
from pricer_classic.embedding_prices import EmbeddingRidge, current_encoder, title_vectors  # noqa: E402
from pricer_core.item import Item  # noqa: E402

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


def test_the_column_prices_unseen_titles_by_what_they_mean():
    items, log_prices = catalogue()
    _, ridge = EmbeddingRidge.fit_out_of_fold(items, log_prices, folds=5, seed=3)
    new = [Item(id="n1", title="silver bracelet with sapphire"), Item(id="n2", title="box of thumbtacks")]
    dear, cheap = ridge.transform(new)[:, 0]
    assert dear > cheap + 1.0  # more than e-fold apart, with no word in common with the training titles


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


def test_the_vectors_come_from_the_cache_the_second_time(monkeypatch):
    from pricer_llm import embeddings

    items, _ = catalogue()
    first = title_vectors(items)
    monkeypatch.setattr(embeddings, "embed", lambda items, **_: pytest.fail("re-encoded a cached text"))
    assert np.array_equal(title_vectors(items), first)


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


@pytest.mark.parametrize(
    "arrays, message",
    [
        ({"coef": np.full(384, np.nan)}, "coef"),
        ({"coef": np.zeros(12)}, "12 coefficients"),
        ({"coef": np.zeros((2, 384))}, "coef"),
        ({"intercept": np.float64(1e300)}, "intercept"),
        ({"encoder": np.str_("someone-elses-model==9")}, "refit"),
        ({"encoder": None}, "expected arrays"),
        ({"coef": np.array(["a"] * 384)}, "coef"),
    ],
)
def test_a_crafted_ridge_file_is_one_clear_error(tmp_path, arrays, message):
    with pytest.raises(ValueError, match=message) as caught:
        EmbeddingRidge.load(crafted(tmp_path, **arrays))
    assert "\n" not in str(caught.value)


def test_a_pickled_ridge_file_is_refused_without_running_it(tmp_path):
    path = tmp_path / "ridge.npz"
    np.savez(path, coef=np.array([object()] * 384, dtype=object), intercept=np.float64(1.0), encoder=np.str_("x"))
    with pytest.raises(ValueError, match="allow_pickle"):
        EmbeddingRidge.load(path)


def test_without_the_embeddings_extra_the_error_says_what_to_install(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pricer_llm", None)  # as if pricer-llm were not installed
    with pytest.raises(RuntimeError, match=r"pip install 'pricer-llm\[embeddings\]'"):
        title_vectors([Item(id="1", title="a lamp")])
