import numpy as np
import pytest
from scipy import sparse

from pricer_classic.features import CountsMemo, HashedTfidf, MetaFeatures, TextSettings, from_target, item_text, source_augmented, to_target
from pricer_core.item import Item


def items():
    return [
        Item(id="a", title="Red drill", category="Tools", full="Red drill\ncordless drill 20V", weight=2.0, source="s1", price=50),
        Item(id="b", title="Blue cable", category="Electronics", full="", summary="Title: Blue cable", source="s2", price=5),
        Item(id="c", title="Amp", category="Music", source=None, price=300),
    ]


def test_item_text_prefers_summary_and_keeps_title_once():
    first, second, third = items()
    assert item_text(first) == "Tools\nRed drill\ncordless drill 20V"
    assert item_text(second) == "Blue cable\nElectronics\nTitle: Blue cable"
    assert item_text(third) == "Amp\nMusic"


def test_hashed_tfidf_rows_are_unit_length_and_transform_matches_fit():
    texts = [item_text(item) for item in items()]
    tfidf = HashedTfidf(TextSettings(n_features=2**10))
    fitted = tfidf.fit_transform(texts)
    assert np.allclose(sparse.linalg.norm(fitted, axis=1), 1.0)
    assert np.allclose(fitted.toarray(), tfidf.transform(texts).toarray())


def test_counts_memo_serves_the_rows_hashing_would_compute_and_nothing_else():
    texts = [item_text(item) for item in items()]
    settings, other = TextSettings(n_features=2**10), TextSettings(n_features=2**10, ngram_max=1)
    memo = CountsMemo()
    plain, shared = HashedTfidf(settings), HashedTfidf(settings, memo)
    assert (shared.fit_transform(texts) != plain.fit_transform(texts)).nnz == 0
    reordered = [texts[2], "a text never seen", texts[0], texts[2]]
    assert (shared.transform(reordered) != plain.transform(reordered)).nnz == 0  # unseen text hashed, repeats kept
    unigrams = HashedTfidf(other, memo)  # other settings: rows of its own, never the bigram rows
    assert (unigrams.fit_transform(texts) != HashedTfidf(other).fit_transform(texts)).nnz == 0


def test_meta_features_one_hot_and_unknown_source():
    meta = MetaFeatures().fit(items())
    matrix = meta.one_hot(items() + [Item(id="d", title="x", source="unseen", category="new")]).toarray()
    assert meta.sources == ["", "s1", "s2"]
    assert matrix[0, 0] == pytest.approx(np.log1p(2.0)) and matrix[1, 1] == 1.0  # weight missing flag
    assert matrix[3, 5:].sum() == 0  # unseen source and category: no indicator set


def test_source_augmented_copies_into_own_block():
    matrix = sparse.csr_matrix(np.array([[1.0, 2.0], [3.0, 0.0]]))
    augmented = source_augmented(matrix, np.array([1, -1]), n_sources=2).toarray()
    assert augmented.tolist() == [[1, 2, 0, 0, 1, 2], [3, 0, 0, 0, 0, 0]]


def test_targets_round_trip_and_never_go_negative():
    prices = np.array([0.5, 10.0, 999.0])
    for target in ("log", "sqrt", "raw"):
        assert np.allclose(from_target(to_target(prices, target), target), prices)
    assert from_target(np.array([-3.0]), "log")[0] == 0
