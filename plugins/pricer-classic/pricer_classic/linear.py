"""`linear` and `bow-linear`: ridge regressions, on item metadata alone and on hashed words with
metadata; each with the course's preset beside ours."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import sparse

from pricer_core.contract.predictor import FROM_PRESET
from pricer_core.item import Item

from .base import ClassicPredictor
from .features import CountsMemo, HashedTfidf, MetaFeatures, TextSettings, WordCounts, from_target, item_text, price_weights, source_augmented, to_target


def _ridge_solve(matrix: sparse.csr_matrix, target: np.ndarray, alpha: float, weights: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """Ridge coefficients and intercept; sklearn does the solving, we keep only two arrays."""
    from sklearn.linear_model import Ridge

    model = Ridge(alpha=alpha, solver="auto" if alpha > 0 else "lsqr")
    model.fit(matrix, target, sample_weight=weights)
    return np.asarray(model.coef_, dtype=np.float64), float(model.intercept_)


class LinearPredictor(ClassicPredictor):
    """Linear regression on a few numbers (weight, text lengths) plus source and category indicators; log target."""

    name = "linear"
    PRESETS = {
        "default": {"alpha": 1.0, "target": "log", "use_source": True},
        "course": {"alpha": 0.0, "target": "raw", "use_source": False},
    }

    def __init__(
        self,
        preset: str = "default",
        seed: int = 42,
        *,
        alpha: float = FROM_PRESET,
        target: str = FROM_PRESET,
        use_source: bool = FROM_PRESET,
    ) -> None:
        self._take_settings(preset, seed, locals())

    def _matrix(self, items: list[Item]) -> sparse.csr_matrix:
        matrix = self._meta.one_hot(items)
        if not self.use_source:
            matrix = sparse.csr_matrix(self._meta.numeric(items))
        return matrix

    def _fit(self, train: list[Item], prices: np.ndarray) -> None:
        self._meta = MetaFeatures().fit(train)
        self._coef, self._intercept = _ridge_solve(self._matrix(train), to_target(prices, self.target), self.alpha)

    def _predict(self, items: list[Item]) -> np.ndarray:
        return from_target(self._matrix(items) @ self._coef + self._intercept, self.target)

    def _save_state(self, directory: Path) -> None:
        np.savez(directory / "linear.npz", coef=self._coef, intercept=self._intercept)
        (directory / "meta.json").write_text(json.dumps(self._meta.state()))

    def _load_state(self, directory: Path) -> None:
        arrays = np.load(directory / "linear.npz")
        self._coef, self._intercept = arrays["coef"], float(arrays["intercept"])
        self._meta = MetaFeatures.from_state(json.loads((directory / "meta.json").read_text()))


class BagOfWordsLinear(ClassicPredictor):
    """Ridge regression on hashed TF-IDF words and bigrams plus metadata, with per-source weight copies.

    Square-root target by default: it sits between log (under-prices expensive items) and dollars
    (chases outliers), and gave the lowest dollar MAE on the bundled validation split.
    """

    name = "bow-linear"
    PRESETS = {
        "default": {"alpha": 0.3, "target": "sqrt", "n_features": 2**18, "ngram_max": 2, "by_source": True, "price_power": 0.0},
        "course": {"alpha": 0.0, "target": "raw", "n_features": 1000, "ngram_max": 1, "by_source": False, "price_power": 0.0},
    }

    def __init__(
        self,
        preset: str = "default",
        seed: int = 42,
        *,
        alpha: float = FROM_PRESET,
        target: str = FROM_PRESET,
        n_features: int = FROM_PRESET,
        ngram_max: int = FROM_PRESET,
        by_source: bool = FROM_PRESET,
        price_power: float = FROM_PRESET,
    ) -> None:
        self._take_settings(preset, seed, locals())

    _counts_memo: CountsMemo | None = None

    def share_counts(self, memo: CountsMemo | None) -> BagOfWordsLinear:
        """Look texts up in `memo` before hashing them (cross-fitting hashes each text once); None stops it."""
        self._counts_memo = memo
        if isinstance(getattr(self, "_text", None), HashedTfidf):
            self._text.memo = memo
        return self

    def _text_features(self):
        if self.preset == "course":
            return WordCounts(self.n_features)
        return HashedTfidf(TextSettings(n_features=self.n_features, ngram_max=self.ngram_max), self._counts_memo)

    def _matrix(self, items: list[Item], text: sparse.csr_matrix) -> sparse.csr_matrix:
        if self.preset == "course":
            return text
        matrix = sparse.hstack([text, self._meta.one_hot(items)], format="csr")
        if self.by_source:
            matrix = source_augmented(matrix, self._meta.source_index(items), len(self._meta.sources))
        return matrix

    def _fit(self, train: list[Item], prices: np.ndarray) -> None:
        self._meta = MetaFeatures().fit(train)
        self._text = self._text_features()
        text = self._text.fit_transform([item_text(item) for item in train])
        weights = price_weights(prices, self.price_power)
        self._coef, self._intercept = _ridge_solve(self._matrix(train, text), to_target(prices, self.target), self.alpha, weights)

    def _predict(self, items: list[Item]) -> np.ndarray:
        text = self._text.transform([item_text(item) for item in items])
        return from_target(self._matrix(items, text) @ self._coef + self._intercept, self.target)

    def _save_state(self, directory: Path) -> None:
        np.savez_compressed(directory / "linear.npz", coef=self._coef.astype(np.float32), intercept=self._intercept)
        state = {"meta": self._meta.state()}
        if isinstance(self._text, WordCounts):
            state["vocabulary"] = self._text.vocabulary
        else:
            np.save(directory / "idf.npy", self._text.idf)
        (directory / "features.json").write_text(json.dumps(state))

    def _load_state(self, directory: Path) -> None:
        arrays = np.load(directory / "linear.npz")
        self._coef, self._intercept = arrays["coef"].astype(np.float64), float(arrays["intercept"])
        state = json.loads((directory / "features.json").read_text())
        self._meta = MetaFeatures.from_state(state["meta"])
        self._text = self._text_features()
        if isinstance(self._text, WordCounts):
            self._text.vocabulary = state["vocabulary"]
        else:
            self._text.idf = np.load(directory / "idf.npy")
