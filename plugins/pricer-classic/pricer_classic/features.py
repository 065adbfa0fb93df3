"""Turn items into matrices: hashed TF-IDF text, item metadata, and source-aware copies.

Everything is stateless hashing plus small arrays (idf, SVD components, vocabularies of sources
and categories), saved as JSON/npz so a fitted model loads without unpickling arbitrary objects.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from dataclasses import asdict, astuple, dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from pricer_core.item import Item


def item_text(item: Item) -> str:
    """Title, category and the summary or cleaned text: the item's one text view, with its category."""
    return item.document(category=True)


def check_items(items: list[Item], purpose: str) -> None:
    for item in items:
        if not item_text(item).strip():
            raise ValueError(f"item {item.id}: empty text, nothing to {purpose} from")


@dataclass
class TextSettings:
    n_features: int = 2**18
    ngram_max: int = 2
    sublinear_tf: bool = True
    binary: bool = False
    use_idf: bool = True


class CountsMemo:
    """Hashed counts of texts already seen, for the length of one fit.

    Cross-fitting fits a ridge on each fold and once on all rows, and each would hash the same
    texts again. Hashing is pure, one row per text, so a row looked up here is the row that would
    have been computed: every number stays the same. Keyed by the exact text and the settings, so
    no row is served for other data; `compute` must depend on the settings alone. Callers detach it
    (`memo=None`, `share_counts(None)`) before the model serves predictions. One fit; its fold threads
    (cross-fitting) take turns, so a text is hashed once.
    """

    def __init__(self) -> None:
        self._tables: dict[tuple, tuple[dict[str, int], sparse.csr_matrix | None]] = {}
        self._lock = threading.Lock()

    def counts(self, settings: TextSettings, texts: list[str], compute: Callable[[list[str]], sparse.csr_matrix]) -> sparse.csr_matrix:
        with self._lock:
            return self._counts(settings, texts, compute)

    def _counts(self, settings: TextSettings, texts: list[str], compute: Callable[[list[str]], sparse.csr_matrix]) -> sparse.csr_matrix:
        row_of, matrix = self._tables.get(astuple(settings), ({}, None))
        missing = [text for text in dict.fromkeys(texts) if text not in row_of]
        if missing:
            new_rows = compute(missing)
            matrix = new_rows if matrix is None else sparse.vstack([matrix, new_rows], format="csr")
            row_of = {**row_of, **{text: len(row_of) + offset for offset, text in enumerate(missing)}}
            self._tables[astuple(settings)] = (row_of, matrix)  # both at once: never rows without their index
        return matrix[[row_of[text] for text in texts]]


class HashedTfidf:
    """HashingVectorizer + idf learnt on the training texts; the idf vector is the whole state."""

    def __init__(self, settings: TextSettings, memo: CountsMemo | None = None):
        self.settings = settings
        self.memo = memo
        self.idf: np.ndarray | None = None

    def _hasher(self):
        from sklearn.feature_extraction.text import HashingVectorizer

        return HashingVectorizer(
            n_features=self.settings.n_features,
            ngram_range=(1, self.settings.ngram_max),
            alternate_sign=False,
            norm=None,
            binary=self.settings.binary,
            stop_words="english",
        )

    def _counts(self, texts: list[str]) -> sparse.csr_matrix:
        if self.memo is not None:
            return self.memo.counts(self.settings, texts, self._hashed_counts)
        return self._hashed_counts(texts)

    def _hashed_counts(self, texts: list[str]) -> sparse.csr_matrix:
        counts = self._hasher().transform(texts).astype(np.float32)
        if self.settings.sublinear_tf and not self.settings.binary:
            counts.data = 1 + np.log(counts.data)
        return counts

    def fit_transform(self, texts: list[str]) -> sparse.csr_matrix:
        counts = self._counts(texts)
        if self.settings.use_idf:
            document_frequency = np.bincount(counts.indices, minlength=self.settings.n_features)
            self.idf = (np.log((1 + len(texts)) / (1 + document_frequency)) + 1).astype(np.float32)
        else:
            self.idf = np.ones(self.settings.n_features, dtype=np.float32)
        return self._finish(counts)

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        if self.idf is None:
            raise RuntimeError("HashedTfidf used before fit")
        return self._finish(self._counts(texts))

    def _finish(self, counts: sparse.csr_matrix) -> sparse.csr_matrix:
        weighted = counts @ sparse.diags(self.idf)
        norms = np.sqrt(weighted.multiply(weighted).sum(axis=1)).A1
        norms[norms == 0] = 1
        return sparse.csr_matrix(sparse.diags(1 / norms) @ weighted, dtype=np.float32)


class MetaFeatures:
    """Where an item comes from and what it is: source, category, weight, text lengths.

    The source matters most: the training rows mix cheap community files with rows from the same
    file as the test, and a model that knows which is which prices each on its own scale.
    """

    SOURCE_COLUMN = 5  # in `dense`: after the five numeric columns

    def __init__(self) -> None:
        self.sources: list[str] = []
        self.categories: list[str] = []

    def fit(self, items: list[Item]) -> MetaFeatures:
        self.sources = sorted({item.source or "" for item in items})
        self.categories = sorted({item.category for item in items})
        return self

    def numeric(self, items: list[Item]) -> np.ndarray:
        rows = []
        for item in items:
            weight = item.weight if item.weight is not None and item.weight > 0 else None
            rows.append(
                [
                    math.log1p(weight) if weight is not None else 0.0,
                    1.0 if weight is None else 0.0,
                    math.log1p(len(item.full)),
                    math.log1p(len(item.title)),
                    1.0 if item.summary else 0.0,
                ]
            )
        return np.asarray(rows, dtype=np.float32)

    def source_index(self, items: list[Item]) -> np.ndarray:
        lookup = {source: index for index, source in enumerate(self.sources)}
        return np.asarray([lookup.get(item.source or "", -1) for item in items])

    def category_index(self, items: list[Item]) -> np.ndarray:
        lookup = {category: index for index, category in enumerate(self.categories)}
        return np.asarray([lookup.get(item.category, -1) for item in items])

    def one_hot(self, items: list[Item]) -> sparse.csr_matrix:
        """Source and category indicators next to the numeric columns (unknown values: all zeros)."""
        numeric = self.numeric(items)
        columns = [sparse.csr_matrix(numeric)]
        for indices, size in ((self.source_index(items), len(self.sources)), (self.category_index(items), len(self.categories))):
            known = indices >= 0
            rows = np.nonzero(known)[0]
            columns.append(sparse.csr_matrix((np.ones(rows.size, dtype=np.float32), (rows, indices[known])), shape=(len(items), max(size, 1))))
        return sparse.hstack(columns, format="csr")

    def dense(self, items: list[Item]) -> np.ndarray:
        """For trees: numeric columns plus source and category as integer codes."""
        return np.hstack([self.numeric(items), self.source_index(items)[:, None], self.category_index(items)[:, None]]).astype(np.float32)

    def state(self) -> dict:
        return {"sources": self.sources, "categories": self.categories}

    @classmethod
    def from_state(cls, state: dict) -> MetaFeatures:
        meta = cls()
        meta.sources, meta.categories = state["sources"], state["categories"]
        return meta


class WordCounts:
    """The course's CountVectorizer(max_features, English stop words); its vocabulary saves as JSON."""

    def __init__(self, max_features: int):
        self.max_features = max_features
        self.vocabulary: dict[str, int] | None = None

    def _vectorizer(self):
        from sklearn.feature_extraction.text import CountVectorizer

        return CountVectorizer(max_features=self.max_features, stop_words="english", vocabulary=self.vocabulary)

    def fit_transform(self, texts: list[str]) -> sparse.csr_matrix:
        vectorizer = self._vectorizer()
        matrix = vectorizer.fit_transform(texts)
        self.vocabulary = {term: int(index) for term, index in vectorizer.vocabulary_.items()}
        return sparse.csr_matrix(matrix, dtype=np.float32)

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        return sparse.csr_matrix(self._vectorizer().transform(texts), dtype=np.float32)


def source_augmented(matrix: sparse.csr_matrix, source_index: np.ndarray, n_sources: int) -> sparse.csr_matrix:
    """[shared copy | copy in the row's own source block]: each source may refine shared weights.

    "Frustratingly easy" domain adaptation: one linear model learns what holds everywhere and
    what differs per source, and a test item uses the shared and its own source's weights.
    """
    matrix = sparse.csr_matrix(matrix)
    width = matrix.shape[1]
    coo = matrix.tocoo()
    row_source = source_index[coo.row]
    known = row_source >= 0
    shifted = sparse.csr_matrix(
        (coo.data[known], (coo.row[known], coo.col[known] + width * row_source[known])), shape=(matrix.shape[0], width * n_sources)
    )
    return sparse.hstack([matrix, shifted], format="csr")


TARGETS = ("log", "sqrt", "raw")


def to_target(prices: np.ndarray, target: str) -> np.ndarray:
    if target == "log":
        return np.log1p(prices)
    if target == "sqrt":
        return np.sqrt(prices)
    if target == "raw":
        return prices
    raise ValueError(f"target must be one of {TARGETS}, got {target!r}")


def from_target(values: np.ndarray, target: str) -> np.ndarray:
    if target == "log":
        return np.maximum(np.expm1(values), 0)
    if target == "sqrt":
        return np.maximum(values, 0) ** 2
    return np.maximum(values, 0)


def price_weights(prices: np.ndarray, power: float) -> np.ndarray | None:
    """Weights ∝ price^power (mean 1): the benchmark is price-weighted, most training rows are cheap."""
    if power == 0:
        return None
    weights = np.power(np.maximum(prices, 0.5), power)
    return weights / weights.mean()


def save_json(path: Path, content: dict) -> None:
    path.write_text(json.dumps(content, indent=1, default=lambda value: asdict(value)))
