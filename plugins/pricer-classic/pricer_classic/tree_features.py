"""The dense columns the tree predictors (xgboost, random-forest) read, built apart from them."""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse

from pricer_core.item import Item

from .base import CONFIG_FILE
from .brand_prices import BrandPrices
from .cross_fitting import cross_fit
from .embedding_prices import EmbeddingRidge, require_embeddings
from .features import CountsMemo, HashedTfidf, MetaFeatures, TextSettings, WordCounts, item_text
from .item_numbers import item_numbers
from .linear import BagOfWordsLinear

TEXT_RIDGE_DIR = "text-ridge"  # the trees' shared-word ridge, a bow-linear folder of its own
TEXT_RIDGE_FOLDS = 5
BRAND_PRICES_FILE = "brand-prices.json"
EMBEDDING_RIDGE_FILE = "embedding-ridge.npz"


class DenseTreeFeatures:
    """Trees want dense columns: SVD of hashed TF-IDF, metadata codes (default), or the course's word counts.

    With `text_ridge`, one more column: the log price of a bag-of-words ridge whose word weights
    are shared by every source (bow-linear with `by_source=False`), cross-fitted on the training
    rows. 200 SVD topics keep little of what the words say; the ridge reads every word, and with no
    per-source word copies it prices a catalogue nobody saw from its words (leave-one-source-out,
    README).

    With `item_numbers`, the sizes, powers, capacities and years the text states (`item_numbers.py`);
    with `brand_prices`, the brand's cross-fitted price level (`brand_prices.py`); with
    `embedding_ridge`, a cross-fitted ridge on the title's sentence embedding (`embedding_prices.py`;
    `title_encoder` "minilm-static" distils a static table once per machine, "minilm" encodes each
    title in context, ~2 min on 2 CPUs the first time). All sit between the metadata and the text
    ridge's column.
    """

    def __init__(self, preset: str, params: dict[str, Any], seed: int):
        self.preset, self.params, self.seed = preset, params, seed
        self.ridge: BagOfWordsLinear | None = None
        self.brands: BrandPrices | None = None
        self.embedding_ridge: EmbeddingRidge | None = None

    def _text_ridge(self, memo: CountsMemo | None) -> BagOfWordsLinear:
        return BagOfWordsLinear(seed=self.seed, by_source=False).share_counts(memo)

    def fit_transform(self, items: list[Item]) -> np.ndarray:
        from sklearn.decomposition import TruncatedSVD

        texts = [item_text(item) for item in items]
        if self.preset == "course":
            self.words = WordCounts(self.params["n_features"])
            return self.words.fit_transform(texts).toarray()
        if self.params.get("embedding_ridge", False):
            require_embeddings(self.params.get("title_encoder", "minilm"))
        self.meta = MetaFeatures().fit(items)
        memo = CountsMemo() if self.params.get("text_ridge", False) else None  # the topics and every fold's ridge hash the same texts
        self.tfidf = HashedTfidf(TextSettings(n_features=2**18, ngram_max=2), memo)
        text = self.tfidf.fit_transform(texts)
        self.tfidf.memo = None
        svd = TruncatedSVD(self.params["svd_components"], algorithm="randomized", n_iter=4, random_state=self.seed)
        svd.fit(text)
        self.components = svd.components_.astype(np.float32)
        ridge_prices = brand_columns = embedding_column = None
        if self.params.get("text_ridge", False):
            ridge_prices, self.ridge = cross_fit(partial(self._text_ridge, memo), items, TEXT_RIDGE_FOLDS, self.seed, workers=self.params.get("n_jobs", 1))
            self.ridge.share_counts(None)
        log_prices = np.log1p(np.asarray([item.price for item in items], dtype=float))
        if self.params.get("brand_prices", False):
            brand_columns, self.brands = BrandPrices.fit_out_of_fold(items, log_prices, TEXT_RIDGE_FOLDS, self.seed)
        if self.params.get("embedding_ridge", False):
            embedding_column, self.embedding_ridge = EmbeddingRidge.fit_out_of_fold(
                items, log_prices, TEXT_RIDGE_FOLDS, self.seed, self.params.get("title_encoder", "minilm")
            )
        return self._hide_sources(self._assemble(items, text, ridge_prices, brand_columns, embedding_column))

    def _hide_sources(self, matrix: np.ndarray) -> np.ndarray:
        """Source dropout: a fixed share of training rows get the unknown-source code (-1).

        Without it the trees never see -1, and a catalogue they never saw falls on whichever side
        of a split the lowest source code sits: it is priced like the alphabetically first source.
        With it, the trees learn a path for "source unknown" from every source's rows.
        """
        share = self.params.get("source_dropout", 0.0)
        if share > 0:
            hidden = np.random.default_rng(self.seed).random(matrix.shape[0]) < share
            matrix[hidden, self.components.shape[0] + MetaFeatures.SOURCE_COLUMN] = -1
        return matrix

    def _assemble(
        self, items: list[Item], text: sparse.csr_matrix, ridge_prices: np.ndarray | None, brand_columns: np.ndarray | None, embedding_column: np.ndarray | None
    ) -> np.ndarray:
        columns = [np.asarray(text @ self.components.T), self.meta.dense(items)]
        if self.params.get("item_numbers", False):
            columns.append(item_numbers(items))
        if brand_columns is not None:
            columns.append(brand_columns)
        if embedding_column is not None:
            columns.append(embedding_column)
        if ridge_prices is not None:  # last, so the source column keeps its place
            columns.append(np.log1p(np.maximum(ridge_prices, 0))[:, None].astype(np.float32))
        return np.hstack(columns)

    def check_width(self, columns: int, directory: Path) -> None:
        """The model must read as many columns as these settings build: else every column after a
        switched-off one would land in its neighbour's place, and the prices would be quietly wrong."""
        built = self.transform([Item(id="width-check", title="width check")]).shape[1]
        if built != columns:
            raise ValueError(f"{directory}: the saved trees read {columns} columns, the settings in {CONFIG_FILE} build {built}; refit the model")

    def transform(self, items: list[Item]) -> np.ndarray:
        texts = [item_text(item) for item in items]
        if self.preset == "course":
            return self.words.transform(texts).toarray()
        ridge_prices = np.asarray(self.ridge.predict(items), dtype=float) if self.ridge is not None else None
        brand_columns = self.brands.transform(items) if self.brands is not None else None
        embedding_column = self.embedding_ridge.transform(items) if self.embedding_ridge is not None else None
        return self._assemble(items, self.tfidf.transform(texts), ridge_prices, brand_columns, embedding_column)

    def save(self, directory: Path) -> None:
        if self.preset == "course":
            (directory / "features.json").write_text(json.dumps({"vocabulary": self.words.vocabulary}))
            return
        np.savez_compressed(directory / "features.npz", idf=self.tfidf.idf, components=self.components)
        (directory / "features.json").write_text(json.dumps({"meta": self.meta.state()}))
        if self.ridge is not None:
            self.ridge.save(directory / TEXT_RIDGE_DIR)
        if self.brands is not None:
            (directory / BRAND_PRICES_FILE).write_text(json.dumps(self.brands.state()))
        if self.embedding_ridge is not None:
            self.embedding_ridge.save(directory / EMBEDDING_RIDGE_FILE)

    def load(self, directory: Path) -> None:
        state = json.loads((directory / "features.json").read_text())
        if self.preset == "course":
            self.words = WordCounts(self.params["n_features"])
            self.words.vocabulary = state["vocabulary"]
            return
        arrays = np.load(directory / "features.npz")
        self.tfidf = HashedTfidf(TextSettings(n_features=2**18, ngram_max=2))
        self.tfidf.idf, self.components = arrays["idf"], arrays["components"]
        self.meta = MetaFeatures.from_state(state["meta"])
        if self.params.get("text_ridge", False):
            self.ridge = BagOfWordsLinear.load(directory / TEXT_RIDGE_DIR)
        if self.params.get("brand_prices", False):
            self.brands = BrandPrices.from_state(json.loads((directory / BRAND_PRICES_FILE).read_text(encoding="utf-8")))
        if self.params.get("embedding_ridge", False):
            self.embedding_ridge = EmbeddingRidge.load(directory / EMBEDDING_RIDGE_FILE)
